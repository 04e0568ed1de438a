/**
 * Copy-on-write capture of keyed items (issue 13, incremental checkpoints):
 * a barrier lists the items to write (a base: all; a delta: those changed)
 * while the input is held, and encodes them afterwards, with the input
 * flowing again. Each listed item points at the capture (`pendingIn`) until
 * it is encoded; its owner calls `x.pendingIn?.preserve(x)` before any change
 * to it (LiveAttempt.touch(), ChangeTracker.changed()), which encodes it
 * first, as it was at the barrier. So the items written are exactly the
 * state at the barrier, and the input is held only for the listing.
 *
 * Memory: the list (one reference per item), plus the items preserved early
 * and not yet consumed (at most the list's length); both go when the
 * generator ends or the capture is settled.
 */
export interface Preserver {
  /** Encodes x now, as it is, if this capture still has to (x is about to change). */
  preserve(x: object): void;
}

export interface CowItem {
  pendingIn: Preserver | null;
}

export class CowCapture<T extends CowItem, I> implements Preserver {
  private readonly early = new Map<T, I>();
  private open = true;

  constructor(private readonly list: readonly T[], private readonly key: (x: T) => string, private readonly encode: (x: T) => I) {
    for (const x of list) x.pendingIn = this;
  }

  get size(): number {
    return this.list.length;
  }

  preserve(x: object): void {
    const t = x as T;
    if (t.pendingIn !== this) return;
    this.early.set(t, this.encode(t));
    t.pendingIn = null;
  }

  /** The items as they were at the capture, in the list's order. Consume before the next capture (which settles this one). */
  *items(): Generator<readonly [string, I]> {
    for (const x of this.list) {
      if (!this.open) throw new Error('a checkpoint capture consumed after it was settled (the next barrier began)');
      let item = this.early.get(x);
      if (item !== undefined) {
        this.early.delete(x);
      } else if (x.pendingIn === this) {
        item = this.encode(x);
        x.pendingIn = null;
      } else {
        throw new Error(`checkpoint capture: item ${this.key(x)} was neither kept for it nor encoded early`);
      }
      yield [this.key(x), item] as const;
    }
    this.open = false;
  }

  /** Ends the copy-on-write for what was not consumed (an abandoned barrier, or the next capture). */
  settle(): void {
    if (!this.open) return;
    this.open = false;
    for (const x of this.list) if (x.pendingIn === this) x.pendingIn = null;
    this.early.clear();
  }
}
