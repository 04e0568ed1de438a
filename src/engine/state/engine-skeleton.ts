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
import type { EngineCounters } from '../engine-types.js';
import type { TimeHeap } from '../../util/heap.js';
import { H_DUE, H_STAN, LiveAttempt } from '../live-attempt.js';
import type { AttemptTable } from './attempt-table.js';
import { readDuplicateIndex, SKELETON_VERSION, writeDuplicateIndex } from './duplicates-skeleton.js';
import type { EngineParts } from './engine-state.js';
import { PackReader, PackWriter, type Packed } from './packed.js';
import { heapState, loadHeap, type HeapState } from './plain.js';
import { readCardFacts, writeCardFacts, type HeldFacts } from './card-facts-skeleton.js';

export interface EngineSkeleton {
  v: 2;
  engineId: number;
  counters: EngineCounters;
  ended: boolean;
  lifecycleEnded: boolean;
  /** Held card facts (their heap times and attempts in `p`), null when the engine has no card patterns. */
  cardFacts: HeldFacts | null;
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
  writeIndexes(w, p, sid);
  const lc = p.lifecycle.stateParts();
  writeTimers(w, lc.timers, sid);
  if (!p.sharedDups) writeDuplicateIndex(w, p.dups, sid);
  const cardFacts = p.cardFacts === undefined ? null : writeCardFacts(w, p.cardFacts, sid);
  return {
    v: SKELETON_VERSION, engineId, counters: structuredClone(p.counters), ended: p.ended, lifecycleEnded: lc.ended, cardFacts,
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
  readIndexes(r, p, get);
  const lc = p.lifecycle.stateParts();
  readTimers(r, lc.timers, get);
  lc.setEnded(s.lifecycleEnded);
  if (s.ownDuplicates) readDuplicateIndex(r, p.dups, get);
  if (s.cardFacts !== null && p.cardFacts !== undefined) readCardFacts(r, p.cardFacts, s.cardFacts, get);
  r.checkEnd();
  for (const [id, t] of s.faultIds) p.faultIds.set(id, t);
  loadHeap(p.faultIdExpiry, s.faultIdExpiry, (id) => id);
}

/**
 * Both indexes in their order. An attempt knows its own (terminal_id, stan) and rrn, so an entry is its
 * sid × 2, + 1 with the key written out only where the key is not the attempt's own (a relinked attempt).
 */
function writeIndexes(w: PackWriter, p: EngineParts, sid: (x: LiveAttempt) => number): void {
  const { byAttempt, byRrn } = p.index.stateMaps();
  // forEach, not for-of: no [key, value] pair per entry while the code is not optimized yet (a barrier a minute).
  const stanEntry = (x: LiveAttempt, stan: number) => {
    const own = x.n[H_STAN] === stan;
    w.uint(sid(x) * 2 + (own ? 0 : 1));
    if (!own) w.num(stan);
  };
  w.uint(byAttempt.size);
  byAttempt.forEach((m, tid) => {
    const ownTid = m.size > 0 && m.values().next().value!.tid === tid;
    w.uint(m.size * 2 + (ownTid ? 0 : 1));
    if (!ownTid) w.str(tid);
    m.forEach(stanEntry);
  });
  w.uint(byRrn.size);
  byRrn.forEach((x, rrn) => {
    const own = x.rrn === rrn;
    w.uint(sid(x) * 2 + (own ? 0 : 1));
    if (!own) w.str(rrn);
  });
}

function readIndexes(r: PackReader, p: EngineParts, get: (sid: number) => LiveAttempt): void {
  const { byAttempt, byRrn } = p.index.stateMaps();
  const entry = (key: () => number | string) => {
    const ref = r.uint();
    const x = get(Math.floor(ref / 2));
    return [ref % 2 === 0 ? null : key(), x] as const;
  };
  for (let i = r.uint(); i > 0; i--) {
    const head = r.uint();
    let tid = head % 2 === 0 ? null : r.str();
    const m = new Map<number, LiveAttempt>();
    for (let j = Math.floor(head / 2); j > 0; j--) {
      const [stan, x] = entry(() => r.num());
      m.set((stan as number | null) ?? x.n[H_STAN], x);
      tid ??= x.tid;
    }
    if (tid === null) throw new Error('attempt index: an entry without its terminal');
    byAttempt.set(p.strings.intern(tid), m);
  }
  for (let i = r.uint(); i > 0; i--) {
    const [rrn, x] = entry(() => r.str());
    if ((rrn ?? x.rrn) === null) throw new Error('attempt index: an rrn entry without its rrn');
    byRrn.set((rrn as string | null) ?? x.rrn!, x);
  }
}

/**
 * The timer heap in heap order (equal times pop in the same order after a restore). A live entry's time
 * is its attempt's H_DUE: an entry is sid × 2, + 1 with the time written out for a superseded entry; a
 * released attempt's entries (skipped when they pop) name sid 0.
 */
function writeTimers(w: PackWriter, timers: TimeHeap<LiveAttempt>, sid: (x: LiveAttempt) => number): void {
  const { times, items } = timers.entries();
  w.uint(times.length);
  for (let i = 0; i < times.length; i++) {
    const x = items[i];
    const due = x.n[H_DUE];
    const own = due === times[i];
    w.uint((Number.isNaN(due) ? 0 : sid(x) * 2) + (own ? 0 : 1));
    if (!own) w.num(times[i]);
  }
}

function readTimers(r: PackReader, timers: TimeHeap<LiveAttempt>, get: (sid: number) => LiveAttempt): void {
  if (timers.size !== 0) throw new Error('restoring into a heap that is not empty');
  const released = releasedAttempt();
  const times: number[] = [];
  const items: LiveAttempt[] = [];
  for (let i = r.uint(); i > 0; i--) {
    const ref = r.uint();
    const x = ref < 2 ? released : get(Math.floor(ref / 2));
    times.push(ref % 2 === 0 ? x.n[H_DUE] : r.num());
    items.push(x);
  }
  timers.load(times, items);
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
