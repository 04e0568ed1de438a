/**
 * The duplicate-debit index as plain data (issue 13): every group with its
 * members in list order (debit time, then join order), its open list, join
 * counter and decided frontier; the entry count; the deferred removals in
 * heap order. Members are named by AttemptRefs.
 */
import { snapNum, unsnapNum, type SnapNum } from '../../util/snapshot-num.js';
import { DuplicateGroup } from '../duplicate-group.js';
import type { LiveAttempt } from '../live-attempt.js';
import type { SharedDuplicates } from '../shared-duplicates.js';
import type { AttemptRef, AttemptRefs } from './attempt-refs.js';
import { heapState, loadHeap, type HeapState } from './plain.js';

export interface DuplicateGroupState {
  /** [member, debit time it joined with, join seq], in list order. */
  members: [AttemptRef, SnapNum, number][];
  /** The open list, as positions in `members`. */
  open: number[];
  seq: number;
  openGraceMs: SnapNum;
  maxDecidedAt: SnapNum;
}

/** The index's own part (without the attempts; see SharedDuplicatesState for the process-wide record). */
export interface DuplicateIndexState {
  /** [key, group] in the index's order. */
  groups: [string, DuplicateGroupState][];
  entries: number;
  removals: HeapState<AttemptRef>;
}

export function duplicateIndexState(d: SharedDuplicates, refs: AttemptRefs, holder: number): DuplicateIndexState {
  const groups: [string, DuplicateGroupState][] = [];
  for (const [key, g] of d.groups) {
    const v = g.stateView();
    groups.push([key, {
      members: v.members.map((m) => [refs.ref(m.x, holder), snapNum(m.t), m.seq]),
      open: v.open, seq: v.seq, openGraceMs: snapNum(v.openGraceMs), maxDecidedAt: snapNum(v.maxDecidedAt),
    }]);
  }
  return { groups, entries: d.entries, removals: heapState(d.stateRemovals(), (x: LiveAttempt) => refs.ref(x, holder)) };
}

/** Fills a fresh, empty index (engines already registered their watermarks with it). */
export function loadDuplicateIndex(d: SharedDuplicates, s: DuplicateIndexState, refs: AttemptRefs): void {
  if (d.groups.size !== 0 || d.entries !== 0) throw new Error('restoring a duplicate index that is not empty');
  for (const [key, gs] of s.groups) {
    const g = new DuplicateGroup();
    g.loadState({
      members: gs.members.map(([r, t, seq]) => ({ x: refs.attempt(r), t: unsnapNum(t), seq })),
      open: gs.open, seq: gs.seq, openGraceMs: unsnapNum(gs.openGraceMs), maxDecidedAt: unsnapNum(gs.maxDecidedAt),
    });
    d.groups.set(key, g);
  }
  d.entries = s.entries;
  loadHeap(d.stateRemovals(), s.removals, (r) => refs.attempt(r));
}
