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
 * An item as a restore reads it: its JSON text, still unparsed (a JsonText:
 * a restore holds the whole chain until the state is built, and parsed it
 * would take several times its size of heap), or the item itself (tests).
 * itemValue() gives the item. Text, not bytes: JSON.parse takes the string
 * as it is, where bytes were copied then decoded to one first
 * (bench/segment.ts, 200,000 items, frames inflated on the pool both ways,
 * 2 cores at load 5–7: merge + parse 4.4 and 8.7 s as Buffers, 3.3 and 6.2 s
 * as strings). The text is on the JavaScript heap then, not outside it: one
 * byte a character (two for an item with a character past Latin-1).
 */
export type StoredItem = JsonText | unknown;

export function itemValue(v: StoredItem): unknown {
  return v instanceof JsonText ? v.toJSON() : v;
}

/** The item's JSON text while it is still unparsed (a JsonText), else null (a plain item). */
export function itemText(v: StoredItem): string | null {
  return v instanceof JsonText ? v.json : null;
}

/** Parses the items still held as JSON text, in place, yielding every few items (util/yield.ts drainYielding). */
export function* parseItems(items: Map<string, StoredItem>): Generator<void, void> {
  let n = 0;
  for (const [key, v] of items) {
    if (v instanceof JsonText) items.set(key, v.toJSON());
    if (++n % 256 === 0) yield;
  }
}
