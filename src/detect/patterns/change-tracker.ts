/**
 * Which keyed items (CardPatterns' cards) changed or went away since the
 * previous checkpoint capture (issue 13, incremental checkpoints): the owner
 * calls `changed(x)` wherever an item's checkpointed state may change and
 * `gone(x)` when it drops the item; a capture takes both sets and starts
 * afresh. Marking is one Set.add per call: no per-item bookkeeping in the
 * items themselves, and nothing recorded while tracking is off.
 *
 * Tracking is off until the first full capture (or a restore): a process
 * that never checkpoints keeps nothing. Bounds (docs/semantics.md "Memory
 * bounds"): `dirty` holds live items only (an item gone leaves it), so at most
 * the owner's item count; `removed` at most max(REMOVED_FLOOR, live items):
 * past that (captures stopped, or far more releases than live items between
 * two captures) the tracker gives up and turns off, and the next capture is
 * a full one, which is then also the cheaper of the two.
 */

/** Below this many removed keys the tracker never gives up (a quiet table with few live items still gets deltas). */
export const REMOVED_FLOOR = 4096;

export interface Tracked {
  readonly token: string;
}

export interface Changes<T> {
  readonly dirty: ReadonlySet<T>;
  readonly removed: ReadonlySet<string>;
}

export class ChangeTracker<T extends Tracked> {
  private on = false;
  private dirty = new Set<T>();
  private removed = new Set<string>();

  /** @param live the owner's current item count (for the bound on `removed`). */
  constructor(private readonly live: () => number) {}

  /** x's checkpointed state may have changed (or x is new). */
  changed(x: T): void {
    if (this.on) this.dirty.add(x);
  }

  /** A new item under a key that may have been dropped since the last capture: an upsert, not a remove. */
  added(x: T): void {
    if (!this.on) return;
    this.dirty.add(x);
    if (this.removed.size > 0) this.removed.delete(x.token);
  }

  /** x was dropped by its owner. */
  gone(x: T): void {
    if (!this.on) return;
    this.dirty.delete(x);
    this.removed.add(x.token);
    if (this.removed.size > REMOVED_FLOOR && this.removed.size > this.live()) this.stop();
  }

  /** True when a delta can be given: tracking has been on since the previous capture. */
  get tracking(): boolean {
    return this.on;
  }

  /** The changes since the previous capture; tracking goes on (again) from here with nothing recorded. */
  take(): Changes<T> {
    const c = { dirty: this.dirty, removed: this.removed };
    this.on = true;
    this.dirty = new Set();
    this.removed = new Set();
    return c;
  }

  private stop(): void {
    this.on = false;
    this.dirty = new Set();
    this.removed = new Set();
  }
}
