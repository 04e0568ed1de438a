/**
 * The process-wide duplicate-debit index as one plain record (issue 13):
 * taken after every engine of the process, with the attempts only the index
 * still reaches (debits released by their engine, waiting for every engine to
 * pass them), held under SHARED_HOLDER.
 */
import { Interner } from '../../util/interner.js';
import type { SharedDuplicates } from '../shared-duplicates.js';
import { SHARED_HOLDER, type AttemptRefs } from './attempt-refs.js';
import { loadAttempt, type AttemptState } from './attempt-state.js';
import { duplicateIndexState, loadDuplicateIndex, type DuplicateIndexState } from './duplicates-state.js';
import { drainAttempts, ENGINE_STATE_VERSION } from './engine-state.js';

export interface SharedDuplicatesState {
  v: 1;
  attempts: AttemptState[];
  index: DuplicateIndexState;
}

export function snapshotShared(d: SharedDuplicates, refs: AttemptRefs): SharedDuplicatesState {
  const index = duplicateIndexState(d, refs, SHARED_HOLDER);
  const attempts = drainAttempts(refs, SHARED_HOLDER);
  refs.resolveOwners();
  return { v: ENGINE_STATE_VERSION, attempts, index };
}

export function restoreShared(d: SharedDuplicates, s: SharedDuplicatesState, refs: AttemptRefs): void {
  if (s.v !== ENGINE_STATE_VERSION) throw new Error(`shared duplicate index state version ${String(s.v)}, this build reads ${ENGINE_STATE_VERSION}`);
  const strings = new Interner();
  s.attempts.forEach((a, i) => loadAttempt(refs.fill([SHARED_HOLDER, i]), a, refs, strings));
  loadDuplicateIndex(d, s.index, refs);
  refs.checkComplete();
}
