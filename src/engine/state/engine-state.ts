/**
 * Snapshot and restore of one stage-1 engine (issue 13), as plain JSON-able
 * data: its attempts (each once, named by AttemptRefs), both indexes in their
 * order, the timer heap and the held card facts in heap order (equal times pop
 * in the same order after a restore), the watermarks, the DEVICE_FAULT ids,
 * the counters (the summary and metrics continue from them) and the end
 * flags. A duplicate index the engine owns alone goes inside; a shared one is
 * written once per process (SharedDuplicates.snapshot, shared-state.ts).
 *
 * Not here: the card patterns and fault spikes handed in through the options
 * (their owners snapshot them), the rules (the caller checks they match), the
 * Interner (strings are compared by value; restore interns them again).
 *
 * Order, per barrier, with one AttemptRefs: snapshot every engine, then the
 * shared index (it completes the engines' owner fields: serialize after it).
 * Restore: a fresh SharedDuplicates, Engine.restore for each engine with it
 * as `duplicateGroups`, then shared.restore.
 */
import type { TimeHeap } from '../../util/heap.js';
import type { Interner } from '../../util/interner.js';
import { snapNum, unsnapNum, type SnapNum } from '../../util/snapshot-num.js';
import type { AttemptIndex } from '../attempt-index.js';
import type { AttemptLifecycle } from '../attempt-lifecycle.js';
import type { PendingCardFacts } from '../card-facts.js';
import type { DebitOwner } from '../debit-groups.js';
import type { EngineCounters } from '../engine-types.js';
import { H_DUE, type LiveAttempt } from '../live-attempt.js';
import type { SharedDuplicates } from '../shared-duplicates.js';
import type { Watermarks } from '../watermark.js';
import { AttemptNumbers, attemptState, loadAttempt, type AttemptState } from './attempt-state.js';
import type { AttemptRef, AttemptRefs } from './attempt-refs.js';
import { duplicateIndexState, loadDuplicateIndex, type DuplicateIndexState } from './duplicates-state.js';
import { releasedAttempt, restoreCounters } from './engine-skeleton.js';
import type { CardFact } from '../../detect/patterns/types.js';
import { fromPlain, heapState, loadHeap, toPlain, type HeapState, type Plain } from './plain.js';

export const ENGINE_STATE_VERSION = 1;

/** What Engine.stateParts() hands this module (its private parts, read and filled here only). */
export interface EngineParts {
  engine: DebitOwner;
  counters: EngineCounters;
  wm: Watermarks;
  strings: Interner;
  index: AttemptIndex;
  lifecycle: AttemptLifecycle;
  cardFacts: PendingCardFacts | undefined;
  dups: SharedDuplicates;
  sharedDups: boolean;
  faultIds: Map<string, number>;
  faultIdExpiry: TimeHeap<string>;
  ended: boolean;
  setEnded(ended: boolean): void;
}

export interface EngineState {
  v: 1;
  engineId: number;
  counters: EngineCounters;
  ended: boolean;
  watermarks: { maxTerminal: SnapNum; maxGateway: SnapNum; maxBank: SnapNum; closed: boolean; floor: { terminal: SnapNum; gateway: SnapNum; bank: SnapNum }; value: SnapNum };
  /** The attempts named for this engine, by local index. */
  attempts: AttemptState[];
  /** Their packed numbers (attempt-state.ts, AttemptNumbers). */
  attemptNumbers: string;
  /** AttemptIndex.open. */
  open: number;
  /** terminal_id → [stan, attempt] in the index's order. */
  byAttempt: [string, [number, AttemptRef][]][];
  byRrn: [string, AttemptRef][];
  /** Timer entries; null for an entry of a released attempt (skipped when it pops). */
  timers: HeapState<AttemptRef | null>;
  lifecycleEnded: boolean;
  /** Held card facts, null when the engine has no card patterns. */
  cardFacts: { facts: HeapState<{ fact: Plain; attempt: AttemptRef }>; lastFactTime: SnapNum } | null;
  faultIds: [string, number][];
  faultIdExpiry: HeapState<string>;
  /** The engine's own duplicate index; null when it shares the process's. */
  duplicates: DuplicateIndexState | null;
}

export function snapshotEngine(p: EngineParts, refs: AttemptRefs, engineId: number): EngineState {
  if (engineId < 0 || !Number.isInteger(engineId)) throw new Error(`engine id must be a non-negative integer, got ${engineId}`);
  refs.nameEngine(p.engine, engineId);
  const ref = (x: LiveAttempt) => refs.ref(x, engineId);
  const { byAttempt, byRrn } = p.index.stateMaps();
  const lc = p.lifecycle.stateParts();
  const cf = p.cardFacts?.stateParts();
  const s: EngineState = {
    v: ENGINE_STATE_VERSION, engineId, counters: structuredClone(p.counters), ended: p.ended, watermarks: watermarkState(p.wm),
    attempts: [], attemptNumbers: '', open: p.index.open,
    byAttempt: [...byAttempt].map(([tid, m]) => [tid, [...m].map(([stan, x]) => [stan, ref(x)])]),
    byRrn: [...byRrn].map(([rrn, x]) => [rrn, ref(x)]),
    timers: heapState(lc.timers, (x) => (Number.isNaN(x.n[H_DUE]) ? null : ref(x))),
    lifecycleEnded: lc.ended,
    cardFacts: cf === undefined ? null : {
      facts: heapState(cf.facts, (f) => ({ fact: toPlain(f.fact), attempt: ref(f.attempt) })), lastFactTime: snapNum(cf.lastFactTime),
    },
    faultIds: [...p.faultIds], faultIdExpiry: heapState(p.faultIdExpiry, (id) => id),
    duplicates: p.sharedDups ? null : duplicateIndexState(p.dups, refs, engineId),
  };
  [s.attempts, s.attemptNumbers] = drainAttempts(refs, engineId);
  if (!p.sharedDups) refs.resolveOwners();
  return s;
}

/** Writes every attempt named for `holder`, including those named while writing them. */
export function drainAttempts(refs: AttemptRefs, holder: number): [AttemptState[], string] {
  const out: AttemptState[] = [];
  const nums = AttemptNumbers.writer();
  for (let q = refs.takeQueued(holder); q.length > 0; q = refs.takeQueued(holder)) {
    for (const x of q) out.push(attemptState(x, refs, holder, nums));
  }
  return [out, nums.toText()];
}

/** Fills the attempts named for `holder` from their states and numbers. */
export function loadAttempts(refs: AttemptRefs, holder: number, attempts: readonly AttemptState[], numbers: string, strings: Interner): void {
  const nums = AttemptNumbers.reader(numbers);
  attempts.forEach((a, i) => loadAttempt(refs.fill([holder, i]), a, refs, strings, nums));
  nums.checkEnd();
}

/** Fills a freshly constructed engine's parts from `s`. */
export function restoreEngine(p: EngineParts, s: EngineState, refs: AttemptRefs, engineId: number): void {
  if (s.v !== ENGINE_STATE_VERSION) throw new Error(`engine state version ${String(s.v)}, this build reads ${ENGINE_STATE_VERSION}`);
  if (s.engineId !== engineId) throw new Error(`engine state of engine ${s.engineId} restored as engine ${engineId}`);
  if ((s.duplicates === null) !== p.sharedDups) throw new Error(`engine state taken with ${s.duplicates === null ? 'a shared' : 'its own'} duplicate index, restored with ${p.sharedDups ? 'a shared' : 'its own'}`);
  if ((s.cardFacts === null) !== (p.cardFacts === undefined)) throw new Error('engine state and options disagree on card patterns');
  refs.registerEngine(engineId, p.engine);
  loadAttempts(refs, engineId, s.attempts, s.attemptNumbers, p.strings);
  const get = (r: AttemptRef) => refs.attempt(r);
  restoreCounters(p.counters, s.counters);
  p.setEnded(s.ended);
  loadWatermarks(p.wm, s.watermarks);
  const { byAttempt, byRrn } = p.index.stateMaps();
  for (const [tid, stans] of s.byAttempt) byAttempt.set(p.strings.intern(tid), new Map(stans.map(([stan, r]) => [stan, get(r)])));
  for (const [rrn, r] of s.byRrn) byRrn.set(rrn, get(r));
  p.index.open = s.open;
  const lc = p.lifecycle.stateParts();
  const released = releasedAttempt();
  loadHeap(lc.timers, s.timers, (r) => (r === null ? released : get(r)));
  lc.setEnded(s.lifecycleEnded);
  loadFactsAndFaults(p, s, get);
  if (s.duplicates !== null) {
    loadDuplicateIndex(p.dups, s.duplicates, refs);
    refs.checkComplete();
  }
}

function watermarkState(wm: Watermarks): EngineState['watermarks'] {
  const f = wm.stateFields();
  return {
    maxTerminal: snapNum(f.maxTerminal), maxGateway: snapNum(f.maxGateway), maxBank: snapNum(f.maxBank), closed: f.closed,
    floor: { terminal: snapNum(f.floor.terminal), gateway: snapNum(f.floor.gateway), bank: snapNum(f.floor.bank) }, value: snapNum(f.value),
  };
}

function loadWatermarks(wm: Watermarks, s: EngineState['watermarks']): void {
  wm.loadFields({
    maxTerminal: unsnapNum(s.maxTerminal), maxGateway: unsnapNum(s.maxGateway), maxBank: unsnapNum(s.maxBank), closed: s.closed,
    floor: { terminal: unsnapNum(s.floor.terminal), gateway: unsnapNum(s.floor.gateway), bank: unsnapNum(s.floor.bank) }, value: unsnapNum(s.value),
  });
}

/** The held card facts (attempts named as R) and the DEVICE_FAULT ids. */
function loadFactsAndFaults<R>(
  p: EngineParts,
  s: { cardFacts: { facts: HeapState<{ fact: Plain; attempt: R }>; lastFactTime: SnapNum } | null; faultIds: [string, number][]; faultIdExpiry: HeapState<string> },
  get: (r: R) => LiveAttempt,
): void {
  if (s.cardFacts !== null && p.cardFacts !== undefined) {
    const cf = p.cardFacts.stateParts();
    loadHeap(cf.facts, s.cardFacts.facts, (f) => ({ fact: fromPlain<CardFact>(f.fact), attempt: get(f.attempt) }));
    cf.setLastFactTime(unsnapNum(s.cardFacts.lastFactTime));
  }
  for (const [id, t] of s.faultIds) p.faultIds.set(id, t);
  loadHeap(p.faultIdExpiry, s.faultIdExpiry, (id) => id);
}
