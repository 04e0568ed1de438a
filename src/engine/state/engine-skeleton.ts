/**
 * One stage-1 engine's skeleton (issue 13, STATE_FORMAT 2): everything but
 * the attempts themselves, which are items of the process-wide AttemptTable
 * named here by sid. Written whole every barrier, so kept compact: both
 * indexes, the timer heap (exact heap order: equal times pop in the same
 * order after a restore) and, when the engine owns it, its duplicate index go
 * into packed columns (packed.ts); the watermarks and the open count too.
 * The counters, end flags, held card facts (heap order), DEVICE_FAULT ids and
 * their expiry heap are small and stay plain JSON.
 *
 * Not here, as for the full snapshot (engine-state.ts): card patterns, fault
 * spikes, rules, the Interner.
 */
import type { CardFact } from '../../detect/patterns/types.js';
import { snapNum, unsnapNum, type SnapNum } from '../../util/snapshot-num.js';
import type { EngineCounters } from '../engine-types.js';
import { H_DUE, LiveAttempt } from '../live-attempt.js';
import type { AttemptTable } from './attempt-table.js';
import { readDuplicateIndex, readHeap, SKELETON_VERSION, writeDuplicateIndex, writeHeap } from './duplicates-skeleton.js';
import type { EngineParts } from './engine-state.js';
import { PackReader, PackWriter, type Packed } from './packed.js';
import { fromPlain, heapState, loadHeap, toPlain, type HeapState, type Plain } from './plain.js';

export interface EngineSkeleton {
  v: 2;
  engineId: number;
  counters: EngineCounters;
  ended: boolean;
  lifecycleEnded: boolean;
  /** Held card facts (attempts by sid), null when the engine has no card patterns. */
  cardFacts: { facts: HeapState<{ fact: Plain; attempt: number }>; lastFactTime: SnapNum } | null;
  faultIds: [string, number][];
  faultIdExpiry: HeapState<string>;
  /** True when the engine owns its duplicate index (it is in `p`); false when it shares the process's. */
  ownDuplicates: boolean;
  /** Watermarks, open count, byAttempt, byRrn, timers (0 for a released attempt's entry), own duplicate index. */
  p: Packed;
}

export function captureEngineSkeleton(p: EngineParts, table: AttemptTable, engineId: number): EngineSkeleton {
  table.beginEngine(p.engine, engineId);
  const sid = (x: LiveAttempt) => table.sid(x);
  const w = new PackWriter();
  writeWatermarks(w, p);
  w.uint(p.index.open);
  const { byAttempt, byRrn } = p.index.stateMaps();
  w.uint(byAttempt.size);
  for (const [tid, m] of byAttempt) {
    w.str(tid);
    w.uint(m.size);
    for (const [stan, x] of m) {
      w.num(stan);
      w.uint(sid(x));
    }
  }
  w.uint(byRrn.size);
  for (const [rrn, x] of byRrn) {
    w.str(rrn);
    w.uint(sid(x));
  }
  const lc = p.lifecycle.stateParts();
  // A released attempt's entries are skipped when they pop: 0 stands for them (sids start at 1).
  writeHeap(w, lc.timers, (x) => (Number.isNaN(x.n[H_DUE]) ? 0 : sid(x)));
  if (!p.sharedDups) writeDuplicateIndex(w, p.dups, sid);
  const cf = p.cardFacts?.stateParts();
  return {
    v: SKELETON_VERSION, engineId, counters: structuredClone(p.counters), ended: p.ended, lifecycleEnded: lc.ended,
    cardFacts: cf === undefined ? null : {
      facts: heapState(cf.facts, (f) => ({ fact: toPlain(f.fact), attempt: sid(f.attempt) })), lastFactTime: snapNum(cf.lastFactTime),
    },
    faultIds: [...p.faultIds], faultIdExpiry: heapState(p.faultIdExpiry, (id) => id),
    ownDuplicates: !p.sharedDups, p: w.done(),
  };
}

/** Fills a freshly constructed engine's parts from its skeleton and the restored table. */
export function restoreEngineSkeleton(p: EngineParts, s: EngineSkeleton, table: AttemptTable, engineId: number): void {
  if (s?.v !== SKELETON_VERSION) throw new Error(`engine skeleton version ${String(s?.v)}, this build reads ${SKELETON_VERSION}`);
  if (s.engineId !== engineId) throw new Error(`engine skeleton of engine ${s.engineId} restored as engine ${engineId}`);
  if (s.ownDuplicates === p.sharedDups) throw new Error(`engine skeleton taken with ${s.ownDuplicates ? 'its own' : 'a shared'} duplicate index, restored with ${p.sharedDups ? 'a shared' : 'its own'}`);
  if ((s.cardFacts === null) !== (p.cardFacts === undefined)) throw new Error('engine skeleton and options disagree on card patterns');
  table.registerEngine(engineId, p.engine);
  const get = (sid: number) => table.attempt(sid);
  restoreCounters(p.counters, s.counters);
  p.setEnded(s.ended);
  const r = new PackReader(s.p);
  readWatermarks(r, p);
  p.index.open = r.uint();
  const { byAttempt, byRrn } = p.index.stateMaps();
  for (let i = r.uint(); i > 0; i--) {
    const m = new Map<number, LiveAttempt>();
    byAttempt.set(p.strings.intern(r.str()), m);
    for (let j = r.uint(); j > 0; j--) m.set(r.num(), get(r.uint()));
  }
  for (let i = r.uint(); i > 0; i--) byRrn.set(r.str(), get(r.uint()));
  const lc = p.lifecycle.stateParts();
  const released = releasedAttempt();
  readHeap(r, lc.timers, (sid) => (sid === 0 ? released : get(sid)));
  lc.setEnded(s.lifecycleEnded);
  if (s.ownDuplicates) readDuplicateIndex(r, p.dups, get);
  r.checkEnd();
  loadFactsAndFaults(p, s, get);
}

/** The held card facts (attempts named as R) and the DEVICE_FAULT ids, shared by both state formats. */
export function loadFactsAndFaults<R>(
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

export function restoreCounters(c: EngineCounters, s: EngineCounters): void {
  Object.assign(c.events, s.events);
  Object.assign(c.duplicates, s.duplicates);
  Object.assign(c.late, s.late);
  Object.assign(c.tooLate, s.tooLate);
  for (const k of ['linkConflicts', 'anomalyVersions', 'decisions', 'released'] as const) c[k] = s[k];
}

/** Stands for a released attempt in the timer heap: its entry is skipped when it pops (H_DUE is NaN). */
export function releasedAttempt(): LiveAttempt {
  const x = new LiveAttempt();
  x.n[H_DUE] = NaN;
  return x;
}

function writeWatermarks(w: PackWriter, p: EngineParts): void {
  const f = p.wm.stateFields();
  for (const t of [f.maxTerminal, f.maxGateway, f.maxBank, f.floor.terminal, f.floor.gateway, f.floor.bank, f.value]) w.num(t);
  w.uint(f.closed ? 1 : 0);
}

function readWatermarks(r: PackReader, p: EngineParts): void {
  const [maxTerminal, maxGateway, maxBank, terminal, gateway, bank, value] = Array.from({ length: 7 }, () => r.num());
  p.wm.loadFields({ maxTerminal, maxGateway, maxBank, closed: r.uint() === 1, floor: { terminal, gateway, bank }, value });
}
