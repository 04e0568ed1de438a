/**
 * The partition tasks of one process without a broker (a fake group and
 * store, as in task-manager.test.ts): a reversal settles its debit in the
 * engine holding it and makes no golden record in the others, so
 * `transactions` equals the replay's on the same data;
 * a too-old record changes nothing, is kept with the late events and never
 * pins a commit; a misrouted record adopted by its owner is processed there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import { loadRunConfig } from '../../../src/config/run-config.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import type { AnyEvent, Stream } from '../../../src/events/index.js';
import type { TransactionRecord } from '../../../src/events/transaction.js';
import type { GroupOffsets } from '../../../src/ingest/kafka/partition-targets.js';
import type { RebuildPlan } from '../../../src/ingest/kafka/rebuild.js';
import { validateEvent } from '../../../src/ingest/validate.js';
import { RunState } from '../../../src/runtime/kafka/run-state.js';
import { newRunStats } from '../../../src/runtime/kafka/run-stats.js';
import type { RunStore } from '../../../src/runtime/kafka/run-store.js';
import { TaskManager } from '../../../src/runtime/kafka/task-manager.js';
import { replayJob } from '../../../src/runtime/replay.js';
import { RunSummary } from '../../../src/runtime/summary.js';
import { simulate, SIM_DEFAULTS } from '../../../src/sim/index.js';
import { createLogger } from '../../../src/util/log.js';
import { partitionOf } from './fixtures.js';

const PARTITIONS = 4;
const SIM = { seed: 11, minutes: 12, tps: 3, startMs: SIM_DEFAULTS.startMs, badRecordRate: 0 };

class FakeGroup implements GroupOffsets {
  async plan(partitions: readonly number[]): Promise<RebuildPlan[]> {
    return partitions.map((p) => ({ p, epoch: 0, floor: -Infinity, starts: { terminal: 0, gateway: 0, bank: 0 }, checkpoint: null, committed: { terminal: -1, gateway: -1, bank: -1 }, logStart: { terminal: 0, gateway: 0, bank: 0 } }));
  }
  async claim(): Promise<void> {}
  seek(): void {}
  async flushDeadLetters(): Promise<void> {}
  async commitsSettled(): Promise<void> {}
}

interface Captured {
  readonly transactions: Map<string, TransactionRecord>;
  readonly late: { stream: Stream; event: AnyEvent }[];
  readonly anomalies: Anomaly[];
}

function harness() {
  const got: Captured = { transactions: new Map(), late: [], anomalies: [] };
  const sink = {
    rawEvent() {}, deadLetter() {},
    transaction: (t: TransactionRecord) => void got.transactions.set(t.txn_key, t),
    lateEvent: (r: { stream: Stream; event: AnyEvent }) => void got.late.push(r),
    anomaly: (a: Anomaly) => void got.anomalies.push(a),
  };
  const store = {
    openWhenFree: async () => undefined, flush: async () => undefined, sink,
    storedAnomalies: () => ({ currentSince: async () => [] }), suppressions: () => undefined,
  } as unknown as RunStore;
  const tooOld: Stream[] = [];
  const tm = new TaskManager({
    config: loadRunConfig({ env: {} }).config, rules: () => DEFAULT_RULES, state: new RunState(), stats: newRunStats(), summary: new RunSummary(),
    store, group: new FakeGroup(), log: createLogger({ level: 'silent' }), now: () => 0, metrics: { tooOld: (s) => void tooOld.push(s) },
  });
  return { tm, got, tooOld };
}

/**
 * The simulated records, good ones only, in arrival order. The simulator
 * posts every reversal at the debit's own terminal; the first MOVED bank
 * reversals are moved to a terminal of another partition (a refund at the
 * next lane), which is what a per-partition engine cannot see alone.
 */
const MOVED = 8;
function records(): { stream: Stream; key: string; line: string; event: AnyEvent }[] {
  const out: { stream: Stream; key: string; line: string; event: AnyEvent }[] = [];
  for (const r of simulate(SIM).records) {
    const v = validateEvent(r.stream, JSON.parse(r.line));
    if (v.ok) out.push({ stream: r.stream, key: r.key, line: r.line, event: v.event as AnyEvent });
  }
  const terminals = [...new Set(out.map((r) => r.event.terminal_id))];
  let moved = 0;
  for (let i = 0; i < out.length && moved < MOVED; i++) {
    const r = out[i];
    if (r.stream !== 'bank' || (r.event as { orig_rrn: string | null }).orig_rrn === null) continue;
    const p = partitionOf(r.key, PARTITIONS);
    const next = terminals.find((t) => partitionOf(t, PARTITIONS) !== p)!;
    const event = { ...r.event, terminal_id: next } as AnyEvent;
    out[i] = { stream: 'bank', key: next, line: JSON.stringify(event), event };
    moved++;
  }
  return out;
}

/** Every record into the partition its key hashes to, as `posguard run` reads them; then the end of input. */
async function runTasks(recs: ReturnType<typeof records>) {
  const h = harness();
  h.tm.assigned(1, [...Array(PARTITIONS).keys()]);
  await h.tm.ready(1);
  const offsets = Array.from({ length: PARTITIONS }, () => ({ terminal: 0, gateway: 0, bank: 0 }));
  for (const r of recs) {
    const p = partitionOf(r.key, PARTITIONS);
    h.tm.target(1, p)!.event(r.stream, r.event, { source: r.stream, partition: p, offset: String(offsets[p][r.stream]++) });
  }
  for (let p = 0; p < PARTITIONS; p++) h.tm.target(1, p)!.batchDone();
  h.tm.takeFinalDecisions();
  return h;
}

const dir = mkdtempSync(join(tmpdir(), 'posguard-placement-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The replay of the same records (three JSONL files) with its golden records. */
async function replayTransactions(recs: ReturnType<typeof records>): Promise<Map<string, TransactionRecord>> {
  const files = { terminal: join(dir, 't.jsonl'), gateway: join(dir, 'g.jsonl'), bank: join(dir, 'b.jsonl') };
  for (const s of ['terminal', 'gateway', 'bank'] as const) writeFileSync(files[s], recs.filter((r) => r.stream === s).map((r) => r.line).join('\n') + '\n');
  const outputs = { anomalies: join(dir, 'a.jsonl'), deadLetters: join(dir, 'd.jsonl'), late: join(dir, 'l.jsonl'), transactions: join(dir, 'tx.jsonl') };
  await replayJob({ inputs: files, outputs });
  const out = new Map<string, TransactionRecord>();
  for (const l of readFileSync(outputs.transactions, 'utf8').split('\n')) {
    if (l.trim() === '') continue;
    const t = JSON.parse(l) as TransactionRecord;
    const prev = out.get(t.txn_key);
    if (prev === undefined || prev.version <= t.version) out.set(t.txn_key, t);
  }
  return out;
}

const strip = (t: TransactionRecord) => ({ ...t, version: 0 });

describe('reversals across the partition engines of one process', () => {
  it('settle their debit where it is held: the transactions equal the replay\'s, with no reversal-only phantoms', async () => {
    const recs = records();
    const crossPartition = recs.filter((r) => {
      const orig = (r.event as { orig_rrn?: string | null }).orig_rrn;
      if (r.stream === 'terminal' || orig == null) return false;
      const debit = recs.find((d) => d.stream === 'bank' && (d.event as { rrn?: string }).rrn === orig && (d.event as { event_type: string }).event_type === 'AUTH_APPROVED');
      return debit !== undefined && partitionOf(debit.key, PARTITIONS) !== partitionOf(r.key, PARTITIONS);
    });
    // The data must hold what broke before: reversals whose debit sits in another partition.
    expect(crossPartition.length).toBeGreaterThan(0);
    const h = await runTasks(recs);
    const replay = await replayTransactions(recs);
    expect(replay.size).toBeGreaterThan(1000);
    const phantoms = [...h.got.transactions.keys()].filter((k) => k.startsWith('::') && !replay.has(k));
    expect(phantoms).toEqual([]);
    expect([...h.got.transactions.keys()].sort()).toEqual([...replay.keys()].sort());
    for (const [k, t] of replay) expect(strip(h.got.transactions.get(k)!), k).toEqual(strip(t));
  }, 60_000);
});

describe('too-old and adopted records', () => {
  it('a record older than watermark − resolution horizon is counted, kept as late, changes nothing and never pins a commit', async () => {
    const recs = records();
    const h = await runTasksUpTo(recs);
    const p = 0;
    const task = h.tm.tasks().find((t) => t.partition === p)!;
    const w = task.engine.watermark;
    expect(Number.isFinite(w)).toBe(true);
    const bank = recs.find((r) => r.stream === 'bank' && partitionOf(r.key, PARTITIONS) === p)!;
    const old = { ...bank.event, event_id: '00000000-0000-4000-8000-00000000abcd', event_time: w - DEFAULT_RULES.debits.resolutionHorizonMs - 1 } as AnyEvent;
    const eventsBefore = task.engine.counters.events.bank;
    const next = task.logs.bank.next;
    h.tm.target(1, p)!.event('bank', old, { source: 'bank', partition: p, offset: String(next) });
    expect(h.tooOld).toEqual(['bank']);
    expect(h.got.late.map((l) => l.event.event_id)).toContain(old.event_id);
    expect(task.engine.counters.events.bank).toBe(eventsBefore);
    expect(task.logs.bank.next).toBe(next + 1);
    // Its offset holds nothing back: the safe offset for any bound above -infinity skips a block made of it alone.
    const fresh = new (task.logs.bank.constructor as new (s: number) => typeof task.logs.bank)(next);
    fresh.add(next, null);
    expect(fresh.safeOffset(0)).toBe(next + 1);
    // Just inside the horizon it is no longer too old: it goes to the engine.
    h.tm.target(1, p)!.event('bank', { ...old, event_id: '00000000-0000-4000-8000-00000000abce', event_time: w - DEFAULT_RULES.debits.resolutionHorizonMs + 1 } as AnyEvent,
      { source: 'bank', partition: p, offset: String(next + 1) });
    expect(h.tooOld).toEqual(['bank']);
    expect(task.engine.counters.events.bank).toBe(eventsBefore + 1);
  }, 60_000);

  it('an adopted record goes to the owner\'s engine, and the partition it was read from logs its offset', async () => {
    const recs = records();
    const h = await runTasksUpTo(recs);
    const terminal = recs.find((r) => r.stream === 'terminal' && partitionOf(r.key, PARTITIONS) === 1)!;
    const owner = h.tm.tasks().find((t) => t.partition === 1)!;
    const readFrom = h.tm.tasks().find((t) => t.partition === 2)!;
    const e = { ...terminal.event, event_id: '00000000-0000-4000-8000-00000000beef', event_time: owner.engine.watermark + 1_000 } as AnyEvent;
    const before = owner.engine.counters.events.terminal;
    const next = readFrom.logs.terminal.next;
    expect(h.tm.target(1, 1)!.adopt('terminal', e, { source: 'terminal', partition: 2, offset: String(next) })).toBe(true);
    h.tm.target(1, 2)!.passOn('terminal', next, e.event_time);
    expect(readFrom.logs.terminal.next).toBe(next + 1);
    h.tm.takeFinalDecisions();
    expect(owner.engine.counters.events.terminal).toBe(before + 1);
  }, 60_000);
});

/** The first half of the records into the tasks, no end of input. */
async function runTasksUpTo(recs: ReturnType<typeof records>) {
  const h = harness();
  h.tm.assigned(1, [...Array(PARTITIONS).keys()]);
  await h.tm.ready(1);
  const offsets = Array.from({ length: PARTITIONS }, () => ({ terminal: 0, gateway: 0, bank: 0 }));
  for (const r of recs.slice(0, Math.floor(recs.length / 2))) {
    const p = partitionOf(r.key, PARTITIONS);
    h.tm.target(1, p)!.event(r.stream, r.event, { source: r.stream, partition: p, offset: String(offsets[p][r.stream]++) });
  }
  for (let p = 0; p < PARTITIONS; p++) h.tm.target(1, p)!.batchDone();
  return h;
}
