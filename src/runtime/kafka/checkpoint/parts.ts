/**
 * The snapshot/restore calls of the parts other branches own (issue 13
 * contract): the engine and the shared duplicate index (src/engine/state),
 * fault spikes and the card stage (src/detect/patterns/state,
 * card-stage.ts). One place, so the barrier and the restore read as plain
 * steps.
 */
import type { Engine } from '../../../engine/engine.js';
import type { EngineOptions } from '../../../engine/engine-types.js';
import { Engine as EngineClass } from '../../../engine/engine.js';
import type { SharedDuplicates } from '../../../engine/shared-duplicates.js';
import type { TerminalFaultSpikes } from '../../../detect/patterns/fault-spike.js';
import type { CardStage } from '../card-stage.js';

/* Until ck-engine and ck-pat are merged: their contract signatures. */
interface Refs { readonly __refs?: never }
type EngineSnap = { snapshot(refs: Refs, engineId: number): unknown };
type EngineRestore = { restore(opts: EngineOptions, state: unknown, refs: Refs, engineId: number): Engine };
type SharedSnap = { snapshot(refs: Refs): unknown; restore(state: unknown, refs: Refs): void };
type Plain = { snapshot(): unknown; restore(state: unknown): void };

/** One barrier's (or one restore's) names of attempts across engines. */
export type AttemptNames = Refs;

export function newAttemptNames(): AttemptNames {
  throw new Error('checkpoints need the engine state (branch ck-engine)');
}

export const snapshotEngine = (e: Engine, refs: AttemptNames, id: number): unknown => (e as unknown as EngineSnap).snapshot(refs, id);
export const restoreEngine = (opts: EngineOptions, state: unknown, refs: AttemptNames, id: number): Engine => (EngineClass as unknown as EngineRestore).restore(opts, state, refs, id);
export const snapshotShared = (d: SharedDuplicates, refs: AttemptNames): unknown => (d as unknown as SharedSnap).snapshot(refs);
export const restoreShared = (d: SharedDuplicates, state: unknown, refs: AttemptNames): void => (d as unknown as SharedSnap).restore(state, refs);
export const snapshotSpikes = (f: TerminalFaultSpikes): unknown => (f as unknown as Plain).snapshot();
export const restoreSpikes = (f: TerminalFaultSpikes, state: unknown): void => (f as unknown as Plain).restore(state);
export const snapshotStage = (c: CardStage): unknown => (c as unknown as Plain).snapshot();
export const restoreStage = (c: CardStage, state: unknown): void => (c as unknown as Plain).restore(state);
