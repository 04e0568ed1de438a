/**
 * The `posguard run` wiring the checkpoint benches fill: four partition tasks
 * sharing one card stage and one duplicate index, fed the simulator's
 * records routed by terminal (bench/checkpoint-state.ts, bench/engine-checkpoint.ts).
 */
import { DEFAULT_RULES } from '../src/config/rules.js';
import { SharedDuplicates } from '../src/engine/shared-duplicates.js';
import type { AnyEvent, Stream } from '../src/events/index.js';
import { partitionForKey } from '../src/ingest/kafka/partitioner.js';
import { validateEvent } from '../src/ingest/validate.js';
import { CardStage } from '../src/runtime/kafka/card-stage.js';
import { PartitionTask, type TaskOutput } from '../src/runtime/kafka/partition-task.js';

export const PARTITIONS = 4;

export interface RunWorkload {
  tasks: Map<number, PartitionTask>;
  stage: CardStage;
  duplicates: SharedDuplicates;
  /** Routes one simulator record to its task; false for a record the validator refuses. */
  feed(r: { stream: string; line: string }): boolean;
}

export function runWorkload(): RunWorkload {
  const rules = () => DEFAULT_RULES;
  const stage = new CardStage(rules, () => undefined, 30_000);
  const duplicates = new SharedDuplicates();
  const out: TaskOutput = { anomaly: () => undefined, transaction: () => undefined, late: () => undefined };
  const tasks = new Map<number, PartitionTask>();
  for (let p = 0; p < PARTITIONS; p++) tasks.set(p, new PartitionTask(p, 0, -Infinity, { terminal: 0, gateway: 0, bank: 0 }, rules, stage.source(p), out, duplicates));
  const offsets = new Map<string, number>();
  const feed = (r: { stream: string; line: string }): boolean => {
    let v;
    try {
      v = validateEvent(r.stream as Stream, JSON.parse(r.line));
    } catch {
      return false; // the simulator's poison records
    }
    if (!v.ok) return false;
    const e = v.event as AnyEvent;
    const p = partitionForKey(e.terminal_id, PARTITIONS);
    const k = `${r.stream}:${p}`;
    const offset = offsets.get(k) ?? 0;
    offsets.set(k, offset + 1);
    const t = tasks.get(p)!;
    t.logs[r.stream as Stream].add(offset, e.event_time);
    t.push(r.stream as Stream, e, { source: r.stream, partition: p, offset: String(offset) });
    return true;
  };
  return { tasks, stage, duplicates, feed };
}

/** Feeds `records` into `w` in arrival order, up to a moving arrival time; returns how many were events. */
export function arrivalFeeder(w: RunWorkload, records: Iterator<{ arrivalMs: number; stream: string; line: string }>): (arrivalMs: number) => number {
  let pending: { arrivalMs: number; stream: string; line: string } | undefined;
  return (arrivalMs) => {
    let n = 0;
    for (let r = pending ?? records.next().value; r !== undefined; r = records.next().value) {
      if (r.arrivalMs >= arrivalMs) {
        pending = r;
        return n;
      }
      if (w.feed(r)) n++;
    }
    pending = undefined;
    return n;
  };
}

/** The checkpoint benches' arguments: minutes of traffic, tps, the interval between barriers (ms) and how many deltas. */
export function checkpointBenchArgs(argv: readonly string[]): { minutes: number; tps: number; intervalMs: number; deltas: number } {
  return { minutes: Number(argv[2] ?? 60), tps: Number(argv[3] ?? 100), intervalMs: Number(argv[4] ?? 60) * 1000, deltas: Number(argv[5] ?? 3) };
}

/** A point in wall and CPU time, to measure a step from (the machine may be shared: CPU is the figure). */
export interface Mark { wall: number; cpu: NodeJS.CpuUsage }
export const mark = (): Mark => ({ wall: performance.now(), cpu: process.cpuUsage() });
export const cpuMs = (t0: Mark): number => {
  const c = process.cpuUsage(t0.cpu);
  return Math.round((c.user + c.system) / 1000);
};
export const took = (t0: Mark): string => `${cpuMs(t0)} ms CPU (${Math.round(performance.now() - t0.wall)} wall)`;
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;
