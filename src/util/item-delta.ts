/** One capture of a keyed item table (issue 13, incremental checkpoints). */
export interface ItemDelta {
  /** true: `upserts` is every item of the table (a base); false: only those changed since the previous capture. */
  readonly full: boolean;
  /** Consumed once, synchronously, inside the barrier (may be a generator: items are serialized one by one). */
  readonly upserts: Iterable<readonly [key: string, item: unknown]>;
  /** Keys gone since the previous capture (empty when full). */
  readonly removes: readonly string[];
}
