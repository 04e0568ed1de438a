/**
 * The duplicate-debit index shared by the engines of one process (one per
 * input partition in `posguard run`): a merchant's terminals may sit in
 * different partitions, so a card's two charges may live in two engines.
 * A debit leaves the index only once *every* engine's watermark has passed
 * its release time: an engine whose partition lags must still find it.
 */
import { TimeHeap } from '../util/heap.js';
import { stateCensus } from '../util/state-census.js';
import { DuplicateGroup } from './duplicate-group.js';
import type { LiveAttempt } from './live-attempt.js';
import type { AttemptRefs } from './state/attempt-refs.js';
import type { AttemptTable } from './state/attempt-table.js';
import { captureSharedSkeleton, restoreSharedSkeleton, type SharedSkeleton } from './state/duplicates-skeleton.js';
import { restoreShared, snapshotShared, type SharedDuplicatesState } from './state/shared-state.js';

export class SharedDuplicates {
  readonly groups = new Map<string, DuplicateGroup>();
  /** Debits held over all groups. */
  entries = 0;
  private readonly watermarks = new Map<object, () => number>();
  private readonly removals = new TimeHeap<LiveAttempt>();

  constructor() {
    stateCensus.track('duplicate_debits', this, (d) => d.entries);
  }

  /** Each engine registers how to read its watermark. */
  register(engine: object, watermark: () => number): void {
    this.watermarks.set(engine, watermark);
  }

  /** The lowest watermark of the engines sharing the index. */
  minWatermark(): number {
    let w = Infinity;
    for (const f of this.watermarks.values()) w = Math.min(w, f());
    return w;
  }

  /** x was released by its engine at `releaseAt`; it leaves its group once all engines are past that. */
  deferRemoval(x: LiveAttempt, releaseAt: number): void {
    this.removals.push(releaseAt, x);
  }

  /** Removes the debits every engine is done with. */
  prune(): void {
    // Stryker disable next-line ConditionalExpression: equivalent: on an empty heap the loop below does nothing either (the test only saves the minWatermark() scan)
    if (this.removals.size === 0) return;
    const w = this.minWatermark();
    while (this.removals.size > 0 && this.removals.peekTime() <= w) this.remove(this.removals.pop());
  }

  join(x: LiveAttempt, key: string): void {
    let g = this.groups.get(key);
    if (g === undefined) this.groups.set(key, (g = new DuplicateGroup()));
    g.add(x);
    this.entries++;
  }

  remove(x: LiveAttempt): void {
    const key = x.info?.group;
    if (!key) return;
    x.touch();
    const g = this.groups.get(key);
    if (g !== undefined) {
      if (g.remove(x)) this.entries--;
      if (g.size === 0) this.groups.delete(key);
    }
    x.info!.group = null;
  }

  /** @internal state: the deferred removals (heap order), for src/engine/state (issue 13). */
  stateRemovals(): TimeHeap<LiveAttempt> {
    return this.removals;
  }

  /** The index as plain data, after every engine sharing it was snapshotted with the same `refs` (issue 13). */
  snapshot(refs: AttemptRefs): SharedDuplicatesState {
    return snapshotShared(this, refs);
  }

  /** The index's skeleton (issue 13, STATE_FORMAT 2), after every engine sharing it was captured into `table`. */
  captureSkeleton(table: AttemptTable): SharedSkeleton {
    return captureSharedSkeleton(this, table);
  }

  /** Fills this fresh instance, after every engine sharing it was restored from `table`; then table.checkComplete(). */
  restoreFrom(skeleton: unknown, table: AttemptTable): void {
    restoreSharedSkeleton(this, skeleton as SharedSkeleton, table);
  }

  /** Fills this fresh instance, after every engine sharing it was restored with the same `refs`. */
  restore(state: SharedDuplicatesState, refs: AttemptRefs): void {
    restoreShared(this, state, refs);
  }
}
