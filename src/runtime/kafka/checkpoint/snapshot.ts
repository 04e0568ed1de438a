/**
 * One barrier's snapshot of a generation (docs/kafka.md, "Checkpoints"):
 * taken synchronously, between two batches, so every task, the card stage
 * and the shared duplicate index are at one consistent point. The skeletons
 * go into the records; the item tables (full or a delta, as the chain asks
 * for this generation) go to `items` as they are captured. Returns the
 * records to write and the commit that goes with them: per partition its
 * exact positions (the offsets the checkpoint was taken at), with the
 * checkpoint (epoch, barrier) and the floor's rebuild offsets in the
 * metadata for a restart that cannot use the checkpoint.
 */
import type { CheckpointKey, CheckpointMeta } from '../../../ingest/checkpoint-store.js';
import { decodeMeta, encodeMeta } from '../../../ingest/kafka/offsets.js';
import type { CommitEntry, CommitPlan } from '../../../ingest/kafka/partition-targets.js';
import type { Stream } from '../../../events/index.js';
import type { GenerationParts } from '../partition-feed.js';
import type { PartitionTask } from '../partition-task.js';
import { captureSession, snapshotSpikes, type CaptureSession } from './parts.js';
import type { ItemTables } from './segment.js';
import { STATE_FORMAT, type ProcessPart, type StateRecord } from './state.js';

/** Where a barrier's item tables go (the checkpointer's segment encoder). */
export interface ItemSink {
  /** Whether this barrier captures every item (a base) in generation `generation` (chain.ts). */
  full(generation: number): boolean;
  /** Takes the tables (lazy: their items are encoded as iterated, before anything changes the state). */
  consume(tables: ItemTables): void;
}

/** Generations as numbers, for the chain: a new one starts a new base. Weak: an old generation is not kept alive. */
const generations = new WeakMap<GenerationParts, number>();
let nextGeneration = 1;

function generationOf(parts: GenerationParts): number {
  let g = generations.get(parts);
  if (g === undefined) generations.set(parts, (g = nextGeneration++));
  return g;
}

export interface BarrierRecord {
  readonly key: CheckpointKey;
  readonly record: StateRecord;
  readonly meta: Omit<CheckpointMeta, 'formatVersion' | 'rulesVersion'>;
}

export interface BarrierSnapshot {
  readonly barrier: number;
  /** Epoch under which the lowest held partition (the chain's writer) is held. */
  readonly writer: { readonly partition: number; readonly epoch: number };
  readonly records: readonly BarrierRecord[];
  /** Commit of exactly the checkpoint's positions; its `committed()` raises the floors as a floor commit does. */
  readonly plan: CommitPlan;
}

/** Skeletons (engines in ascending partition, card stage, shared index), then the item tables, then the table's own state: the contract's order. */
function captureParts(parts: GenerationParts, tasks: readonly PartitionTask[], session: CaptureSession, items: ItemSink, minFloor: number) {
  const engines = tasks.map((t) => ({ t, engine: session.engine(t.engine, t.partition), spikes: snapshotSpikes(t.faultSpikes), own: t.ownState() }));
  const cardStage = session.stage(parts.stage);
  const sharedDuplicates = session.shared(parts.duplicates);
  items.consume(session.items(items.full(generationOf(parts))));
  const process: ProcessPart = {
    partitions: tasks.map((t) => t.partition), cardStage, sharedDuplicates, attemptTable: session.tableState(), ledger: parts.ledger.toState(minFloor),
  };
  return { engines, process };
}

/**
 * `floorPlan` is the commit the floor rule allows now (task-manager.ts
 * commitPlan): its offsets become the rebuild offsets in the metadata.
 */
export function snapshotGeneration(
  parts: GenerationParts, barrier: number, group: string, floorPlan: CommitPlan, streamOf: ReadonlyMap<string, Stream>, nowMs: number, items: ItemSink,
): BarrierSnapshot {
  const tasks = [...parts.tasks.values()].sort((a, b) => a.partition - b.partition);
  const session = captureSession(parts);
  const records: BarrierRecord[] = [];
  let captured: ReturnType<typeof captureParts>;
  try {
    captured = captureParts(parts, tasks, session, items, floorPlan.entries.reduce((m, e) => Math.min(m, e.floor), Infinity));
  } catch (e) {
    session.abandon();
    throw e;
  }
  const { engines, process } = captured;
  for (const [i, x] of engines.entries()) {
    const w = x.t.engine.watermark;
    records.push({
      key: { group, partition: x.t.partition },
      record: { v: STATE_FORMAT, barrier, epoch: x.t.epoch, task: x.own, engineId: x.t.partition, engine: x.engine, faultSpikes: x.spikes, process: i === 0 ? process : null },
      meta: { offsets: { terminal: x.t.logs.terminal.next, gateway: x.t.logs.gateway.next, bank: x.t.logs.bank.next }, takenAtEventMs: Number.isFinite(w) ? w : 0, takenAtWallMs: nowMs },
    });
  }
  const entries: CommitEntry[] = floorPlan.entries.map((e) => {
    const t = parts.tasks.get(e.partition)!;
    const stream = streamOf.get(e.topic)!;
    const ck = { epoch: t.epoch, barrier };
    return { ...e, offset: t.logs[stream].next, metadata: encodeMeta({ floor: Number.isFinite(e.floor) ? e.floor : null, epoch: t.epoch, ck, rebuildFrom: e.offset }) };
  });
  return { barrier, writer: { partition: tasks[0].partition, epoch: tasks[0].epoch }, records, plan: { entries, committed: () => floorPlan.committed(), current: () => floorPlan.current() } };
}


/**
 * The barrier's commit with, per partition, where a restore may start reading the state topic
 * (`stateFrom`, known once its records are written): the commit metadata's `s`.
 */
export function withStateFrom(plan: CommitPlan, stateFrom: ReadonlyMap<number, number | null>): CommitPlan {
  const entries = plan.entries.map((e) => {
    const m = decodeMeta(e.metadata);
    const from = stateFrom.get(e.partition) ?? null;
    return m === null || from === null ? e : { ...e, metadata: encodeMeta({ ...m, stateFrom: from }) };
  });
  return { entries, committed: () => plan.committed(), current: () => plan.current() };
}
