/**
 * The snapshot/restore calls of the parts other branches own (issue 13
 * contract): the engine and the shared duplicate index (src/engine/state),
 * fault spikes (src/detect/patterns/state) and the card stage
 * (card-stage-state.ts). One place, so the barrier and the restore read as
 * plain steps. Their states are plain JSON data, each with its own `v`; a
 * restore throws on any inconsistency (the caller falls back to the rebuild).
 */
import { Engine } from '../../../engine/engine.js';
import type { EngineOptions } from '../../../engine/engine-types.js';
import type { SharedDuplicates } from '../../../engine/shared-duplicates.js';
import { AttemptRefs, type EngineState, type SharedDuplicatesState } from '../../../engine/state/index.js';
import type { TerminalFaultSpikes } from '../../../detect/patterns/fault-spike.js';
import type { FaultSpikeState } from '../../../detect/patterns/state/fault-spike-state.js';
import type { CardStage } from '../card-stage.js';
import type { CardStageState } from '../card-stage-state.js';

/** One barrier's (or one restore's) names of attempts across engines. */
export type AttemptNames = AttemptRefs;

export const newAttemptNames = (): AttemptNames => new AttemptRefs();
export const snapshotEngine = (e: Engine, refs: AttemptNames, id: number): unknown => e.snapshot(refs, id);
export const restoreEngine = (opts: EngineOptions, state: unknown, refs: AttemptNames, id: number): Engine => Engine.restore(opts, state as EngineState, refs, id);
export const snapshotShared = (d: SharedDuplicates, refs: AttemptNames): unknown => d.snapshot(refs);
export const restoreShared = (d: SharedDuplicates, state: unknown, refs: AttemptNames): void => d.restore(state as SharedDuplicatesState, refs);
export const snapshotSpikes = (f: TerminalFaultSpikes): unknown => f.snapshot();
export const restoreSpikes = (f: TerminalFaultSpikes, state: unknown): void => f.restore(state as FaultSpikeState);
export const snapshotStage = (c: CardStage): unknown => c.snapshot();
export const restoreStage = (c: CardStage, state: unknown): void => c.restore(state as CardStageState);
