/**
 * Which keyed items (CardPatterns' cards) changed or went away since the
 * previous checkpoint capture (issue 13, incremental checkpoints): the owner
 * calls `changed(x)` wherever an item's checkpointed state may change and
 * `gone(x)` when it drops the item; a capture takes both and starts afresh.
 * The hot path is a flag test on the item (`marked`) and, the first time
 * after a capture, one array push: no hashing per call, and nothing at all
 * while tracking is off.
 *
 * Tracking is off until the first capture (or a restore): a process that
 * never checkpoints keeps nothing. Bounds (docs/semantics.md "Memory
 * bounds"): items dropped since the capture (`gone`) at most
 * max(GONE_FLOOR, live items); past that (captures stopped, or far more
 * releases than live items between two captures) the tracker gives up and
 * turns off, and the next capture is a full one, which is then also the
 * cheaper of the two. So the removed keys are at most that many, and the
 * marked list at most the live items plus those dropped.
 */

/** Below this many items dropped since the capture the tracker never gives up (a quiet table with few live items still gets deltas). */
export const GONE_FLOOR = 4096;

export interface Tracked {
  readonly token: string;
  /** Set by the tracker: x is in its list of changed items (so it is listed once). */
  marked: boolean;
}

export interface Changes<T> {
  /** Live items changed since the previous capture, once each. */
  readonly dirty: readonly T[];
  /** Keys dropped since the previous capture and not given to a new item since. */
  readonly removed: ReadonlySet<string>;
}

export class ChangeTracker<T extends Tracked> {
  private on = false;
  private dirty: T[] = [];
  private removed = new Set<string>();
  private gones = 0;

  /**
   * @param live the owner's current item count (for the bound)
   * @param isLive whether x is still the owner's item under its key (a dropped item may stay in the list)
   */
  constructor(private readonly live: () => number, private readonly isLive: (x: T) => boolean) {}

  /** x's checkpointed state may have changed. */
  changed(x: T): void {
    if (this.on && !x.marked) {
      x.marked = true;
      this.dirty.push(x);
    }
  }

  /** A new item, under a key that may have been dropped since the last capture: an upsert, not a remove. */
  added(x: T): void {
    if (!this.on) return;
    this.changed(x);
    if (this.removed.size > 0) this.removed.delete(x.token);
  }

  /** x was dropped by its owner. */
  gone(x: T): void {
    if (!this.on) return;
    this.removed.add(x.token);
    if (++this.gones > GONE_FLOOR && this.gones > this.live()) this.stop();
  }

  /** True when a delta can be given: tracking has been on since the previous capture. */
  get tracking(): boolean {
    return this.on;
  }

  /** The changes since the previous capture; tracking goes on (again) from here with nothing recorded. */
  take(): Changes<T> {
    const dirty = this.dirty.filter((x) => {
      x.marked = false;
      return this.isLive(x);
    });
    const c = { dirty, removed: this.removed };
    this.on = true;
    this.dirty = [];
    this.removed = new Set();
    this.gones = 0;
    return c;
  }

  private stop(): void {
    for (const x of this.dirty) x.marked = false;
    this.on = false;
    this.dirty = [];
    this.removed = new Set();
    this.gones = 0;
  }
}
