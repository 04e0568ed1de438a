/** Engine snapshot/restore (issue 13): the types and names other layers use. */
export { AttemptRefs, SHARED_HOLDER, type AttemptRef } from './attempt-refs.js';
export { AttemptTable, type AttemptTableState } from './attempt-table.js';
export type { EngineSkeleton } from './engine-skeleton.js';
export type { SharedSkeleton } from './duplicates-skeleton.js';
export { ENGINE_STATE_VERSION, type EngineState } from './engine-state.js';
export type { SharedDuplicatesState } from './shared-state.js';
