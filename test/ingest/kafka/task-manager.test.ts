/**
 * The task manager without a broker: generations built from the group's
 * commits (a fake GroupOffsets), state kept across a rebalance only when the
 * committed epochs prove nobody else owned the partitions, rebuilt otherwise,
 * no commit while ownership is being checked, nothing built after a stop.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import { loadRunConfig } from '../../../src/config/run-config.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { RunSummary } from '../../../src/runtime/summary.js';
import type { Stream } from '../../../src/events/index.js';
import type { GroupOffsets } from '../../../src/ingest/kafka/partition-targets.js';
import type { RebuildPlan } from '../../../src/ingest/kafka/rebuild.js';
import { RunState } from '../../../src/runtime/kafka/run-state.js';
import { newRunStats } from '../../../src/runtime/kafka/run-stats.js';
import type { RunStore } from '../../../src/runtime/kafka/run-store.js';
import { TaskManager } from '../../../src/runtime/kafka/task-manager.js';
import { validateEvent } from '../../../src/ingest/validate.js';
import { simulate, SIM_DEFAULTS } from '../../../src/sim/index.js';
import { createLogger } from '../../../src/util/log.js';
import { partitionOf } from './fixtures.js';

const quiet = createLogger({ level: 'silent' });

/** The group's committed epochs per partition; `plan` can be held open to look inside the ownership check. */
class FakeGroup implements GroupOffsets {
  readonly epochs = new Map<number, number>();
  readonly seeks: { partition: number; offsets: Record<Stream, number> }[] = [];
  hold: Promise<void> | null = null;
  /** A commit in flight (commitsSettled waits for it); `planned` counts the reads of the commits. */
  commitInFlight: Promise<void> | null = null;
  planned = 0;

  async plan(partitions: readonly number[]): Promise<RebuildPlan[]> {
    this.planned++;
    if (this.hold !== null) await this.hold;
    return partitions.map((p) => ({ p, epoch: (this.epochs.get(p) ?? -1) + 1, floor: -Infinity, starts: { terminal: 0, gateway: 0, bank: 0 }, checkpoint: null, committed: { terminal: -1, gateway: -1, bank: -1 }, logStart: { terminal: 0, gateway: 0, bank: 0 } }));
  }

  async claim(plans: readonly RebuildPlan[]): Promise<void> {
    for (const pl of plans) this.epochs.set(pl.p, pl.epoch);
  }

  seek(partition: number, offsets: Readonly<Record<Stream, number>>): void {
    this.seeks.push({ partition, offsets: { ...offsets } });
  }

  async flushDeadLetters(): Promise<void> {}

  async commitsSettled(): Promise<void> {
    await this.commitInFlight;
  }
}

function fakeStore(written: Anomaly[]): RunStore {
  const sink = { rawEvent() {}, deadLetter() {}, transaction() {}, lateEvent() {}, anomaly: (a: Anomaly) => void written.push(a) };
  return {
    openWhenFree: async () => undefined, flush: async () => undefined, sink,
    storedAnomalies: () => ({ currentSince: async () => [] }), suppressions: () => undefined,
  } as unknown as RunStore;
}

function setup() {
  const config = loadRunConfig({ env: {} }).config;
  const state = new RunState();
  const stats = newRunStats();
  const group = new FakeGroup();
  const written: Anomaly[] = [];
  const tm = new TaskManager({ config, rules: () => DEFAULT_RULES, state, stats, summary: new RunSummary(), store: fakeStore(written), group, log: quiet, now: () => 0 });
  return { tm, state, stats, group, written };
}

/** Feeds the first `n` good simulated records into generation `gen`, two partitions; returns how many went to each partition. */
function feed(tm: TaskManager, gen: number, n: number): number[] {
  const offsets = [{ terminal: 0, gateway: 0, bank: 0 }, { terminal: 0, gateway: 0, bank: 0 }];
  let fed = 0;
  for (const r of simulate({ seed: 4, minutes: 3, tps: 2, startMs: SIM_DEFAULTS.startMs, badRecordRate: 0 }).records) {
    if (fed === n) break;
    const v = validateEvent(r.stream, JSON.parse(r.line));
    if (!v.ok) continue;
    const p = partitionOf(r.key, 2);
    const target = tm.target(gen, p)!;
    target.event(r.stream, v.event, { source: r.stream, partition: p, offset: String(offsets[p][r.stream]++) });
    fed++;
  }
  for (const p of [0, 1]) tm.target(gen, p)!.batchDone();
  return offsets.map((o) => o.terminal + o.gateway + o.bank);
}

describe('TaskManager', () => {
  it('builds one task per assigned partition, claiming the next epoch', async () => {
    const { tm, stats, group } = setup();
    tm.assigned(1, [0, 1]);
    await tm.ready(1);
    expect(tm.tasks().map((t) => [t.partition, t.epoch])).toEqual([[0, 0], [1, 0]]);
    expect([...group.epochs]).toEqual([[0, 0], [1, 0]]);
    expect(stats.rebuilds).toBe(1);
    expect(tm.target(1, 0)).toBeDefined();
    expect(tm.target(2, 0)).toBeUndefined();
    expect(tm.target(1, 5)).toBeUndefined();
  });

  it('commits the offsets consumed, per partition and topic; nothing while the ownership is checked', async () => {
    const { tm, group } = setup();
    tm.assigned(1, [0, 1]);
    await tm.ready(1);
    const perPartition = feed(tm, 1, 400);
    expect(perPartition[0] + perPartition[1]).toBe(400);
    const plan = tm.commitPlan()!;
    expect(plan.entries).toHaveLength(6);
    expect(plan.entries.every((e) => e.metadata.length > 0)).toBe(true);
    let release!: () => void;
    group.hold = new Promise((r) => (release = r));
    tm.assigned(2, [0, 1]);
    const ready = tm.ready(2);
    await new Promise((r) => setImmediate(r));
    expect(tm.commitPlan()).toBeNull();
    release();
    await ready;
    expect(tm.commitPlan()).not.toBeNull();
  });

  it('a plan taken before a rebalance is no longer current after it, kept state or not; the old state plans nothing meanwhile', async () => {
    const { tm, stats, group } = setup();
    tm.assigned(1, [0, 1]);
    await tm.ready(1);
    feed(tm, 1, 300);
    const before = tm.commitPlan()!;
    expect(before.current()).toBe(true);
    // The member froze while flushing and rejoined: generation 2 is assigned before its commit is sent.
    tm.assigned(2, [0, 1]);
    expect(before.current()).toBe(false);
    expect(tm.commitPlan()).toBeNull();
    await tm.ready(2);
    expect(stats.keptStates).toBe(1);
    expect(before.current()).toBe(false);
    const after = tm.commitPlan()!;
    expect(after.current()).toBe(true);
    expect(group.planned).toBe(2);
  });

  it('reads the commits for the ownership check only after the commit in flight settled', async () => {
    const { tm, group } = setup();
    tm.assigned(1, [0, 1]);
    await tm.ready(1);
    feed(tm, 1, 100);
    let settle!: () => void;
    group.commitInFlight = new Promise((r) => (settle = r));
    tm.assigned(2, [0, 1]);
    const ready = tm.ready(2);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(group.planned).toBe(1);
    settle();
    await ready;
    expect(group.planned).toBe(2);
  });

  it('keeps the state across a rebalance that gave back the same partitions with the epochs unchanged', async () => {
    const { tm, stats, group } = setup();
    tm.assigned(1, [0, 1]);
    await tm.ready(1);
    feed(tm, 1, 300);
    const before = tm.tasks();
    const events = tm.counters().events;
    const seeksBefore = group.seeks.length;
    tm.assigned(2, [0, 1]);
    await tm.ready(2);
    expect(stats.keptStates).toBe(1);
    expect(stats.rebuilds).toBe(1);
    expect(tm.tasks()).toEqual(before);
    expect(tm.counters().events).toEqual(events);
    // Each partition seeked back to its next offset on every topic.
    const seeks = group.seeks.slice(seeksBefore);
    expect(seeks.map((s) => s.partition)).toEqual([0, 1]);
    expect(seeks[0].offsets.terminal).toBeGreaterThan(0);
    expect(seeks[0].offsets).toEqual({ terminal: before[0].logs.terminal.next, gateway: before[0].logs.gateway.next, bank: before[0].logs.bank.next });
    expect(tm.target(1, 0)).toBeUndefined();
    expect(tm.target(2, 0)).toBeDefined();
  });

  it('rebuilds when another owner claimed a partition in between, keeping the retired engines in the counters', async () => {
    const { tm, stats, group } = setup();
    tm.assigned(1, [0, 1]);
    await tm.ready(1);
    feed(tm, 1, 300);
    const events = tm.counters().events;
    group.epochs.set(1, 1); // another member owned partition 1 meanwhile
    tm.assigned(2, [0, 1]);
    await tm.ready(2);
    expect(stats.keptStates).toBe(0);
    expect(stats.rebuilds).toBe(2);
    expect(tm.tasks().map((t) => [t.partition, t.epoch])).toEqual([[0, 1], [1, 2]]);
    expect(tm.tasks().every((t) => t.logs.terminal.next === 0)).toBe(true);
    expect(tm.counters().events).toEqual(events);
    // Fewer partitions: a rebuild too.
    tm.assigned(3, [0]);
    await tm.ready(3);
    expect(tm.tasks().map((t) => t.partition)).toEqual([0]);
    expect(stats.rebuilds).toBe(3);
  });

  it('builds nothing once the run is stopping, and reports the end of input only when every partition reached it', async () => {
    const { tm, state } = setup();
    tm.assigned(1, [0, 1]);
    await tm.ready(1);
    const counts = feed(tm, 1, 200);
    const t = tm.tasks();
    const next = (p: number, s: Stream) => t[p].logs[s].next;
    expect(tm.reached(1, (s, p) => next(p, s))).toBe(true);
    expect(tm.reached(1, (s, p) => (p === 1 && s === 'bank' ? next(1, 'bank') + 1 : next(p, s)))).toBe(false);
    expect(tm.reached(2, (s, p) => next(p, s))).toBe(false);
    expect(counts[0] + counts[1]).toBe(200);
    state.starting();
    state.drain('stop');
    tm.assigned(2, [0, 1]);
    await tm.ready(2);
    expect(tm.target(2, 0)).toBeUndefined();
    expect(tm.tasks()).toEqual(t);
  });
});
