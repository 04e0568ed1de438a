/**
 * Restore at a rebuild (docs/kafka.md, "Checkpoints"): read the latest
 * checkpoint of every assigned partition (in parallel), check that together
 * they are one barrier this group's commits stand for, and build the
 * generation's tasks, card stage, duplicate index and ledger from them.
 * Anything else is a fallback to the rebuild from offsets, for every
 * partition: never a partial or a wrong state.
 *
 * Accepted, per partition p (its commit metadata: epoch E claimed last, checkpoint ref R):
 *  - the record is the one R names (epoch and barrier), or
 *  - no restart since it was written: its epoch is E and its barrier is above
 *    R's (written, then the process died before committing it);
 * and every record has the barrier of the lowest partition's record, which
 * lists exactly the assigned partitions, and positions at or above each log's
 * start. A zombie's late write (an older epoch) never matches.
 * Then the lowest record's chain manifest: its segments read (one scan),
 * verified (sha256) and merged into the item tables the parts restore from;
 * a segment missing or corrupt is a fallback (`corrupt`), as a bad record is.
 */
import type { Checkpoint, CheckpointExpectation, CheckpointStore, CheckpointUnusable, SegmentRef } from '../../../ingest/checkpoint-store.js';
import type { RebuildPlan } from '../../../ingest/kafka/rebuild.js';
import { STREAMS, type Stream } from '../../../events/index.js';
import type { Rules } from '../../../config/rules.js';
import type { SharedDuplicates } from '../../../engine/shared-duplicates.js';
import type { AttemptTable } from '../../../engine/state/index.js';
import { unsnapNum } from '../../../util/snapshot-num.js';
import type { CardStage } from '../card-stage.js';
import type { CardPatternDetector } from '../../../detect/patterns/types.js';
import { Ledger } from '../ledger.js';
import { PartitionTask, type TaskOutput } from '../partition-task.js';
import { prepareRestore, restoreSession, restoreSpikes } from './parts.js';
import { applySegmentYielding, emptyItems, type MergedItems } from './segment-read.js';
import { decodeState, type StateRecord } from './state.js';
import { yieldToIo } from '../../../util/yield.js';

export type FallbackReason = CheckpointUnusable | 'mismatch' | 'fenced' | 'below_log_start';

export const FALLBACK_REASONS: readonly FallbackReason[] = ['missing', 'corrupt', 'incompatible_format', 'different_rules', 'mismatch', 'fenced', 'below_log_start'];

export interface ReadCheckpoint {
  readonly p: number;
  readonly record: StateRecord;
  readonly chain: readonly SegmentRef[] | null;
  readonly offsets: Readonly<Record<Stream, number>>;
  /** Where the store holds its first record (a state topic offset), when it says. */
  readonly offset?: number | null;
  /** The partition's checkpoint before this one (the store's other slot), decoded; null when none or unreadable. */
  readonly previous?: ReadCheckpoint | null;
}

export type Fallback = { readonly ok: false; readonly reason: FallbackReason; readonly detail: string };

export type RestoreDecision =
  | {
    readonly ok: true; readonly records: ReadonlyMap<number, StateRecord>; readonly plans: RebuildPlan[]; readonly barrier: number; readonly chain: readonly SegmentRef[];
    /** The newest barrier when it did not complete on every partition and the one before it is restored; else null. */
    readonly torn: number | null;
  }
  | Fallback;

/** A decision with its chain read and merged: what the parts restore from. */
export type AcceptedRestore = Extract<RestoreDecision, { ok: true }> & { readonly items: MergedItems };

/** An accepted restore with its attempt table built and its card items parsed (prepareAccepted): what the synchronous build takes. */
export type PreparedRestore = AcceptedRestore & { readonly table: AttemptTable };

type Read = { ok: true; value: ReadCheckpoint } | { ok: false; reason: FallbackReason; detail: string };

/** Reads and decodes the latest checkpoint of every planned partition (parallel). */
export async function readCheckpoints(store: CheckpointStore, group: string, plans: readonly RebuildPlan[], expect: CheckpointExpectation): Promise<Read[]> {
  return Promise.all(plans.map(async (pl): Promise<Read> => {
    // From where the commit says its checkpoint lies (an older commit without it: the whole partition).
    const r = await store.readLatest({ group, partition: pl.p }, expect, pl.checkpoint === null ? null : pl.stateFrom ?? null);
    if (!r.ok) return { ok: false, reason: r.reason, detail: `p${pl.p}: ${r.detail}` };
    const decode = (c: Checkpoint): ReadCheckpoint => ({ p: pl.p, ...decodeState(c.payload), offsets: c.meta.offsets, offset: c.offset ?? null });
    let previous: ReadCheckpoint | null = null;
    try {
      previous = r.previous === null ? null : decode(r.previous);
    } catch {
      // Only a torn newest barrier would need it: without it that is a fallback, as before.
    }
    try {
      return { ok: true, value: { ...decode(r.checkpoint), previous } };
    } catch (e) {
      return { ok: false, reason: 'corrupt', detail: `p${pl.p}: cannot decode: ${(e as Error).message}` };
    }
  }));
}

/** Pure: restore from these reads, or why not. */
export function decideRestore(plans: readonly RebuildPlan[], reads: readonly Read[]): RestoreDecision {
  const bad = reads.find((r) => !r.ok);
  if (bad !== undefined && !bad.ok) return { ok: false, reason: bad.reason, detail: bad.detail };
  const newest = new Map(reads.map((r) => [(r as { value: ReadCheckpoint }).value.p, (r as { value: ReadCheckpoint }).value]));
  const sorted = [...plans].sort((a, b) => a.p - b.p);
  const got = atOneBarrier(newest);
  const head = got.get(sorted[0].p)!.record;
  const chain = got.get(sorted[0].p)!.chain;
  const barrier = head.barrier;
  const want = sorted.map((pl) => pl.p).join(',');
  if (head.process === null || head.process.partitions.join(',') !== want) {
    return { ok: false, reason: 'mismatch', detail: `p${sorted[0].p}: the checkpoint covers partitions ${head.process?.partitions.join(',') ?? '(none)'}, this member holds ${want}` };
  }
  if (chain === null || chain[chain.length - 1].barrier !== barrier) {
    return { ok: false, reason: 'corrupt', detail: `p${sorted[0].p}: the chain manifest ${chain === null ? 'is missing' : `ends at barrier ${chain[chain.length - 1].barrier}, the record is of ${barrier}`}` };
  }
  const out: RebuildPlan[] = [];
  for (const pl of sorted) {
    const c = got.get(pl.p)!;
    const rec = c.record;
    if (rec.barrier !== barrier) return { ok: false, reason: 'mismatch', detail: `p${pl.p}: barrier ${rec.barrier}, p${sorted[0].p} has ${barrier} (a barrier that did not complete)` };
    const committedEpoch = pl.epoch - 1;
    const named = pl.checkpoint !== null && pl.checkpoint.epoch === rec.epoch && pl.checkpoint.barrier === rec.barrier;
    const unclaimedSince = rec.epoch === committedEpoch && (pl.checkpoint === null || rec.barrier > pl.checkpoint.barrier);
    if (!named && !unclaimedSince) {
      return { ok: false, reason: 'fenced', detail: `p${pl.p}: checkpoint (epoch ${rec.epoch}, barrier ${rec.barrier}) is not the one the commits name (${pl.checkpoint === null ? 'none' : `epoch ${pl.checkpoint.epoch}, barrier ${pl.checkpoint.barrier}`}; epoch claimed ${committedEpoch})` };
    }
    const low = STREAMS.find((s) => c.offsets[s] < pl.logStart[s]);
    if (low !== undefined) return { ok: false, reason: 'below_log_start', detail: `p${pl.p}: ${low} position ${c.offsets[low]} is below the log start ${pl.logStart[low]}` };
    const rebuildFrom = {} as Record<Stream, number>;
    for (const s of STREAMS) rebuildFrom[s] = Math.min(pl.starts[s], c.offsets[s]);
    out.push({ ...pl, starts: { ...c.offsets }, resume: { checkpoint: { epoch: rec.epoch, barrier: rec.barrier }, rebuildFrom, stateFrom: stateFromOf(c, pl.p === sorted[0].p ? chain : []) } });
  }
  const torn = Math.max(...[...newest.values()].map((c) => c.record.barrier));
  return { ok: true, records: new Map([...got].map(([p, v]) => [p, v.record])), plans: out, barrier, chain, torn: torn > barrier ? torn : null };
}

/**
 * Where a later restore of this checkpoint may start reading its partition of the state topic: its first
 * record, and for the writer partition the chain's base (the segments lie in the same state partition).
 * Null when the store did not say: that restore reads the whole partition.
 */
export function stateFromOf(c: Pick<ReadCheckpoint, 'offset'>, chain: readonly SegmentRef[]): number | null {
  const at = [c.offset ?? null, ...chain.map((s) => s.offset ?? null)];
  return at.every((x) => x !== null) ? Math.min(...(at as number[])) : null;
}

/**
 * Per partition, its checkpoint of the lowest newest barrier among them: the newest, or the one before it
 * when the newest barrier did not complete on every partition (the process died while writing its records;
 * the offsets commit only after all of them, so the barrier before is the one the commits name). Without
 * it a kill inside a barrier's write fell back to the rebuild from offsets (`mismatch`, kill-random.test.ts).
 * Where a partition holds neither, its newest stays (and the barriers' mismatch is the fallback, as before).
 */
function atOneBarrier(newest: ReadonlyMap<number, ReadCheckpoint>): Map<number, ReadCheckpoint> {
  const barrier = Math.min(...[...newest.values()].map((c) => c.record.barrier));
  return new Map([...newest].map(([p, c]) => [p, c.record.barrier !== barrier && c.previous?.record.barrier === barrier ? c.previous : c]));
}

/**
 * The chain's item tables: every segment read and verified, then applied in
 * order (the base, then each delta: upserts overwrite, removes delete).
 * Memory: the chain's compressed bytes while read, then one frame's JSON at a time.
 */
export async function loadChain(store: CheckpointStore, chain: readonly SegmentRef[], now: () => number, steps: ChainReadSteps): Promise<{ ok: true; items: MergedItems } | Fallback> {
  const t0 = now();
  const reads = await store.readSegments(chain);
  const t1 = now();
  steps.segmentsMs = t1 - t0;
  const bad = reads.find((r) => !r.ok);
  if (bad !== undefined && !bad.ok) return { ok: false, reason: 'corrupt', detail: `p${bad.ref.partition}: ${bad.detail}` };
  const bytes = reads.map((r) => (r as { bytes: Buffer }).bytes);
  steps.segmentBytes = bytes.reduce((n, b) => n + b.length, 0);
  const merged = await mergeSegments(bytes, chain);
  steps.mergeMs = now() - t1;
  return merged;
}

/** Where loadChain's time went. */
export interface ChainReadSteps {
  segmentsMs: number;
  segmentBytes: number;
  mergeMs: number;
}

/** The segments' bytes (in chain order) merged, or why they cannot be; frame by frame, handing the event loop back between frames (the group's heartbeats go on). */
export async function mergeSegments(bytes: readonly Buffer[], chain: readonly SegmentRef[]): Promise<{ ok: true; items: MergedItems } | Fallback> {
  const items = emptyItems();
  for (const [i, ref] of chain.entries()) {
    try {
      await applySegmentYielding(items, bytes[i], ref.barrier, i === 0, yieldToIo);
    } catch (e) {
      return { ok: false, reason: 'corrupt', detail: `p${ref.partition}: ${(e as Error).message}` };
    }
  }
  return { ok: true, items };
}

export interface RestoreContext {
  readonly rules: () => Rules;
  readonly stage: CardStage;
  /** Where partition p's card facts go, when not to `stage` (the spread assignment's publishers). */
  readonly cards?: (p: number, epoch: number) => CardPatternDetector;
  readonly out: TaskOutput;
  readonly duplicates: SharedDuplicates;
  readonly now: number;
}

/** The accepted restore with its attempt table built and card items parsed, the event loop handed back as it goes (parts.ts prepareRestore). */
export async function prepareAccepted(d: AcceptedRestore): Promise<PreparedRestore> {
  return { ...d, table: await prepareRestore(d.records.get(d.plans[0].p)!.process!.attemptTable, d.items) };
}

/**
 * Builds the tasks of an accepted restore, in the contract's order: card
 * stage, every engine (ascending partition, engine id = partition) with the
 * fresh shared duplicate index, then the index itself. Returns them with the ledger.
 */
export function restoreTasks(d: PreparedRestore, ctx: RestoreContext): { tasks: Map<number, PartitionTask>; ledger: Ledger } {
  const head = d.records.get(d.plans[0].p)!;
  const process = head.process!;
  const session = restoreSession(d.table, d.items, ctx.duplicates);
  session.stage(ctx.stage, process.cardStage);
  const tasks = new Map<number, PartitionTask>();
  for (const pl of d.plans) {
    const rec = d.records.get(pl.p)!;
    const own = rec.task;
    const task = new PartitionTask(pl.p, pl.epoch, unsnapNum(own.floorAtStart), pl.starts, ctx.rules, ctx.cards?.(pl.p, pl.epoch) ?? ctx.stage.source(pl.p), ctx.out, ctx.duplicates,
      (opts) => session.engine(opts, rec.engine, rec.engineId));
    restoreSpikes(task.faultSpikes, rec.faultSpikes);
    task.restoreOwn(own, ctx.now);
    tasks.set(pl.p, task);
  }
  session.shared(ctx.duplicates, process.sharedDuplicates);
  session.finish();
  return { tasks, ledger: Ledger.fromState(process.ledger) };
}

/** A restored generation learns what the crashed run stored after its checkpoint (Ledger.absorbAfterRestore). */
export function absorbStored(g: { readonly tasks: ReadonlyMap<number, PartitionTask>; readonly ledger: Ledger }, stored: Ledger, log: { info(msg: string): void }): void {
  const tasks = [...g.tasks.values()];
  const n = g.ledger.absorbAfterRestore(stored, (id) => tasks.some((t) => t.pins.has(id)), (rrn) => tasks.find((t) => t.engine.holdsAttempt(rrn))?.partition ?? null);
  if (n > 0) log.info(`restore: ${n} anomalies stored after the checkpoint reconciled`);
}
