/** One capture of a keyed item table (issue 13, incremental checkpoints). */
export interface ItemDelta {
  /** true: `upserts` is every item of the table (a base); false: only those changed since the previous capture. */
  readonly full: boolean;
  /** Consumed once, before the next capture (a generator: items are serialized one by one). */
  readonly upserts: Iterable<readonly [key: string, item: unknown]>;
  /** Keys gone since the previous capture (empty when full). */
  readonly removes: readonly string[];
}

/**
 * An item a capture wrote as its JSON text itself (CardPatterns' cards: the
 * text the plain item would give, at half the cost). The segment writes the
 * text as it is (itemJson); anything else that stringifies it gets the item.
 */
export class JsonText {
  constructor(readonly json: string) {}

  toJSON(): unknown {
    return JSON.parse(this.json) as unknown;
  }
}

/** An upserted item's JSON text. */
export function itemJson(item: unknown): string {
  return item instanceof JsonText ? item.json : JSON.stringify(item);
}

/**
 * An item as a restore reads it: its JSON text, still encoded (a Buffer
 * outside the JavaScript heap: a restore holds the whole chain until the
 * state is built, and parsed it would take several times its size of heap),
 * or the item itself (tests). itemValue() gives the item.
 */
export type StoredItem = Buffer | unknown;

export function itemValue(v: StoredItem): unknown {
  if (v instanceof JsonText) return v.toJSON();
  return Buffer.isBuffer(v) ? (JSON.parse(v.toString('utf8')) as unknown) : v;
}

/** The item's JSON text while it is still encoded (bytes read from a segment, or a JsonText), else null (a plain item). */
export function itemText(v: StoredItem): string | null {
  if (v instanceof JsonText) return v.json;
  return Buffer.isBuffer(v) ? v.toString('utf8') : null;
}
