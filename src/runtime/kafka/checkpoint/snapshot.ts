/**
 * One barrier's snapshot of a generation (docs/kafka.md, "Checkpoints"):
 * taken synchronously, between two batches, so every task, the card stage
 * and the shared duplicate index are at one consistent point. Returns the
 * records to write and the commit that goes with them: per partition its
 * exact positions (the offsets the checkpoint was taken at), with the
 * checkpoint (epoch, barrier) and the floor's rebuild offsets in the
 * metadata for a restart that cannot use the checkpoint.
 */
import type { CheckpointKey, CheckpointMeta } from '../../../ingest/checkpoint-store.js';
import { encodeMeta } from '../../../ingest/kafka/offsets.js';
import type { CommitEntry, CommitPlan } from '../../../ingest/kafka/partition-targets.js';
import type { Stream } from '../../../events/index.js';
import type { GenerationParts } from '../partition-feed.js';
import { newAttemptNames, snapshotEngine, snapshotShared, snapshotSpikes, snapshotStage } from './parts.js';
import type { ProcessPart, StateRecord } from './state.js';

export interface BarrierRecord {
  readonly key: CheckpointKey;
  readonly record: StateRecord;
  readonly meta: Omit<CheckpointMeta, 'formatVersion' | 'rulesVersion'>;
}

export interface BarrierSnapshot {
  readonly barrier: number;
  readonly records: readonly BarrierRecord[];
  /** Commit of exactly the checkpoint's positions; its `committed()` raises the floors as a floor commit does. */
  readonly plan: CommitPlan;
}

/**
 * `floorPlan` is the commit the floor rule allows now (task-manager.ts
 * commitPlan): its offsets become the rebuild offsets in the metadata.
 */
export function snapshotGeneration(parts: GenerationParts, barrier: number, group: string, floorPlan: CommitPlan, streamOf: ReadonlyMap<string, Stream>, nowMs: number): BarrierSnapshot {
  const tasks = [...parts.tasks.values()].sort((a, b) => a.partition - b.partition);
  const refs = newAttemptNames();
  const records: BarrierRecord[] = [];
  const engines = tasks.map((t) => ({ t, engine: snapshotEngine(t.engine, refs, t.partition), spikes: snapshotSpikes(t.faultSpikes), own: t.ownState() }));
  const minFloor = floorPlan.entries.reduce((m, e) => Math.min(m, e.floor), Infinity);
  const process: ProcessPart = {
    partitions: tasks.map((t) => t.partition),
    cardStage: snapshotStage(parts.stage),
    sharedDuplicates: snapshotShared(parts.duplicates, refs),
    ledger: parts.ledger.toState(minFloor),
  };
  for (const [i, x] of engines.entries()) {
    const w = x.t.engine.watermark;
    records.push({
      key: { group, partition: x.t.partition },
      record: { v: 1, barrier, epoch: x.t.epoch, task: x.own, engineId: x.t.partition, engine: x.engine, faultSpikes: x.spikes, process: i === 0 ? process : null },
      meta: { offsets: { terminal: x.t.logs.terminal.next, gateway: x.t.logs.gateway.next, bank: x.t.logs.bank.next }, takenAtEventMs: Number.isFinite(w) ? w : 0, takenAtWallMs: nowMs },
    });
  }
  const entries: CommitEntry[] = floorPlan.entries.map((e) => {
    const t = parts.tasks.get(e.partition)!;
    const stream = streamOf.get(e.topic)!;
    const ck = { epoch: t.epoch, barrier };
    return { ...e, offset: t.logs[stream].next, metadata: encodeMeta({ floor: Number.isFinite(e.floor) ? e.floor : null, epoch: t.epoch, ck, rebuildFrom: e.offset }) };
  });
  return { barrier, records, plan: { entries, committed: () => floorPlan.committed() } };
}

