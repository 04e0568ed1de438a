/**
 * The checkpoint barrier and the restore decision of `posguard run`
 * (docs/kafka.md, "Checkpoints"; issue 13).
 *
 * Barrier (every run.checkpointIntervalMs, on clean shutdown, on
 * revocation): at a batch boundary nothing is pushed → snapshot every task
 * and the process part (synchronously: one consistent point): skeletons
 * frozen as JSON, the item tables (a base or a delta, chain.ts) streamed
 * into the barrier's segment → flush the sink and the dead letters (every
 * result derived before the snapshot is durable) → write the segment, then
 * every record (in parallel; each resolves once durable), the lowest
 * partition's naming the chain → commit per partition exactly the positions
 * the checkpoint was taken at, with (epoch, barrier) and the rebuild offsets
 * in the metadata → tombstone the segments a newer base has made useless.
 * A failed write commits nothing: the previous checkpoint and commit stay the
 * pair a restart uses, and the next barrier is a base.
 *
 * Hold budget: while the input is a backlog (input-pace.ts), an interval
 * barrier is skipped while the input held by the last barrier exceeds
 * MAX_HOLD_SHARE of the time since it started. Reading a backlog, an interval
 * covers hours of event time, every barrier is a base of the whole state
 * (seconds), and without it the barriers would take a fixed share of the
 * catch-up (Flink's minimum pause between checkpoints, scaled by what they
 * cost). On a live feed it never applies: a hold there delays decisions but
 * costs no throughput, and a skipped barrier would let the re-read after a
 * crash grow past two intervals (the catch-up's last base held ~14 s, which
 * would otherwise have skipped every barrier for the next 4.5 minutes).
 * The first barrier of the process is budgeted too, from the run's start,
 * with its hold estimated from the state's size (FIRST_HOLD_US_PER_ITEM): it
 * is a base of everything, and a catch-up's first interval otherwise paid
 * for one whatever its length (on the 1 h recovery workload ~11 s of a 90 s
 * catch-up). Until it is taken, a crash re-reads from the checkpoint the run
 * restored (or rebuilds, as without checkpoints); the barrier taken when the
 * catch-up ends ("caught up", runner.ts) is never skipped.
 */
import type { Rules } from '../../../config/rules.js';
import { rulesStamp } from '../../../config/rules-version.js';
import type { CheckpointExpectation, CheckpointStore, SegmentRef } from '../../../ingest/checkpoint-store.js';
import type { CommitPlan } from '../../../ingest/kafka/partition-targets.js';
import type { RebuildPlan } from '../../../ingest/kafka/rebuild.js';
import type { Logger } from '../../../util/log.js';
import { ChainPolicy, orphans, type BaseReason } from './chain.js';
import { decideRestore, loadChain, readCheckpoints, stateFromOf, type AcceptedRestore, type ChainReadSteps, type FallbackReason, type RestoreDecision } from './restore.js';
import { SegmentEncoder, type ItemTables, type SegmentFigures } from './segment.js';
import { withStateFrom, type BarrierSnapshot, type ItemSink } from './snapshot.js';
import { compressState, envelope, serializeState, STATE_FORMAT } from './state.js';
import { HoldSplit } from './hold-split.js';

/** Largest share of the time the input may be held by barriers before an interval barrier is skipped (hold budget, above). */
export const MAX_HOLD_SHARE = 0.05;
/** Estimated hold per item (open attempt or active card) of the run's first barrier, a base (measured below: docs/kafka.md, "Hold budget"). */
export const FIRST_HOLD_US_PER_ITEM = 30;

export interface CheckpointerOptions {
  readonly group: string;
  readonly rules: () => Rules;
  readonly store: CheckpointStore;
  /** Component "checkpoint". */
  readonly log: Logger;
  readonly now: () => number;
  /** Restores by result: `restored` or the fallback reason (posguard_checkpoint_restores_total). */
  readonly metrics?: { restore(result: 'restored' | FallbackReason): void; segment?(e: SegmentWrittenEvent): void };
  /** Whether the input is a backlog (runtime/kafka/input-pace.ts): the hold budget applies only then. Default: always. */
  readonly backlogged?: () => boolean;
  /** Items a base would capture now (open attempts and active cards): the first barrier's estimated hold. Default: none (the first barrier is never skipped). */
  readonly stateItems?: () => number;
  /** Chain policy (tests): default ChainPolicy(). */
  readonly chain?: ChainPolicy;
}

/** One barrier's segment, for the metrics (posguard_checkpoint_segment_*). */
export interface SegmentWrittenEvent {
  readonly kind: 'base' | 'delta';
  readonly bytes: number;
  readonly upserts: number;
  readonly removes: number;
}

/** What a barrier needs of the rest of the run. */
export interface BarrierParts {
  /** The snapshot and its commit, or null when nothing is held (or ownership is being checked). The item tables go to `items`. */
  snapshot(barrier: number, items: ItemSink): BarrierSnapshot | null;
  /** Runs fn with no batch in progress and none starting. */
  atBatchBoundary<T>(fn: () => Promise<T>): Promise<T>;
  /** Sink flush and dead letters acknowledged. */
  flushOutputs(): Promise<void>;
  commitExactly(plan: CommitPlan): Promise<void>;
}

export interface BarrierFigures {
  readonly barrier: number;
  readonly records: number;
  readonly bytes: number;
  /** The segment: a base (and why) or a delta. */
  readonly kind: 'delta' | BaseReason;
  readonly segmentBytes: number;
  readonly items: number;
  /** Input held for the snapshot, its JSON and the segment's lines. */
  readonly heldMs: number;
  readonly writeMs: number;
}

/** What the held part of a barrier hands to the rest. */
interface Captured {
  readonly snap: BarrierSnapshot;
  readonly frozen: readonly Buffer[];
  readonly reason: BaseReason | null;
  readonly figures: SegmentFigures;
  readonly frames: () => AsyncIterable<Buffer>;
  /** Where the hold went, for the log line. */
  readonly split: string;
}

export class Checkpointer {
  private barrier = 0;
  private last: BarrierFigures | null = null;
  /** The barrier in progress, up to its commit: one interval barrier waits for it, further ones are skipped; others wait. */
  private inFlight: Promise<boolean> | null = null;
  /** An interval barrier waits for the one in progress. */
  private intervalWaiting = false;
  /** Tombstones and sweeps of committed barriers, one after the other (never rejects): the next barrier does not wait for them, take() does. */
  private housekeeping: Promise<void> = Promise.resolve();
  /** Set at close: no barrier starts or writes any more. */
  private closed = false;
  failures = 0;
  private readonly chain: ChainPolicy;
  /** Wall clock the last barrier started at (hold budget); the checkpointer's creation before the first. */
  private lastStartedMs: number;
  private started = false;
  private capturingNow = false;

  constructor(private readonly o: CheckpointerOptions, private readonly parts: BarrierParts) {
    this.chain = o.chain ?? new ChainPolicy();
    this.lastStartedMs = o.now();
  }

  expectation(): CheckpointExpectation {
    return { formatVersion: STATE_FORMAT, rulesVersion: rulesStamp(this.o.rules()).version };
  }

  /** The figures of the last completed barrier. */
  get lastBarrier(): BarrierFigures | null {
    return this.last;
  }

  /**
   * Takes a barrier. `atBoundary` false: the caller is between two records
   * already (inside a batch at a heartbeat, or after the drain settled).
   * Resolves true once checkpoint and commit are durable; false when nothing
   * was held or a write failed (logged, counted by the store).
   */
  async take(why: string, atBoundary = true, skipIfBusy = false): Promise<boolean> {
    if (skipIfBusy && this.inFlight !== null) {
      // One interval barrier waits for a slow one and starts as it commits (its interval has passed): without it the
      // next started an interval later, and a crash before its commit re-read more than two intervals (a 6 h state's
      // caught-up base took 74 s to commit). More never queue: a slow barrier would otherwise starve the input.
      if (this.intervalWaiting) return false;
      this.intervalWaiting = true;
      try {
        await this.inFlight.catch(() => false);
      } finally {
        this.intervalWaiting = false;
      }
      // Another barrier started meanwhile (caught up, shutdown): it covers this interval.
      if (this.inFlight !== null) return false;
    }
    // Barriers one at a time.
    while (this.inFlight !== null) await this.inFlight.catch(() => false);
    if (skipIfBusy && this.overBudget() && (this.o.backlogged?.() ?? true)) return false;
    if (this.closed) return false;
    const p = this.barrierNow(why, atBoundary).finally(() => {
      if (this.inFlight === p) this.inFlight = null;
    });
    this.inFlight = p;
    const ok = await p;
    await this.housekeeping;
    return ok;
  }

  /**
   * The last barrier's hold is more than MAX_HOLD_SHARE of the time since it
   * started (interval barriers wait); before the first, its estimated hold
   * against the time since the run started.
   */
  private overBudget(): boolean {
    const held = this.started ? (this.last?.heldMs ?? 0) : ((this.o.stateItems?.() ?? 0) * FIRST_HOLD_US_PER_ITEM) / 1000;
    return held > MAX_HOLD_SHARE * (this.o.now() - this.lastStartedMs);
  }

  /** No barrier after this (the run is closing); one in progress stops before writing. */
  close(): void {
    this.closed = true;
  }

  /** The input is held only while the state is captured (skeletons as JSON, items as segment lines); compressing, flushing, writing and committing run with the input flowing. */
  private async barrierNow(why: string, atBoundary: boolean): Promise<boolean> {
    const t0 = this.o.now();
    this.lastStartedMs = t0;
    this.started = true;
    const got = atBoundary ? await this.parts.atBatchBoundary(() => this.capture()) : await this.capture();
    if (got === null) return false;
    const heldMs = this.o.now() - t0;
    let seg: SegmentRef | null = null, payloads: Buffer[], t2: number, stateFrom: Map<number, number | null>;
    try {
      await this.parts.flushOutputs();
      if (this.closed) throw new Closed();
      t2 = this.o.now();
      const { snap } = got;
      // Until the line that ends it (committed, or not written), a crash leaves this barrier torn or absent.
      this.o.log.info(`writing the checkpoint of barrier ${snap.barrier} (${why})`);
      seg = await this.o.store.writeSegment({ group: this.o.group, partition: snap.writer.partition, epoch: snap.writer.epoch, barrier: snap.barrier }, got.frames());
      const chain = this.chain.manifest(seg, got.reason !== null);
      payloads = await Promise.all(got.frozen.map((f, i) => compressState(envelope(f, i === 0 ? chain : null))));
      const expect = this.expectation();
      const written = await Promise.all(snap.records.map((r, i) => this.o.store.write(r.key, payloads[i], { ...r.meta, formatVersion: expect.formatVersion, rulesVersion: expect.rulesVersion })));
      // Records are sorted by partition: the first is the writer's, whose state partition holds the chain too.
      stateFrom = new Map(snap.records.map((r, i) => [r.key.partition, stateFromOf({ offset: written[i].offset }, i === 0 ? chain : [])]));
    } catch (e) {
      // The parts handed out their changes: whatever reached the topic, the next barrier is a base.
      this.chain.failed(seg);
      if (e instanceof Closed) return false;
      this.failures++;
      this.o.log.warn(`checkpoint ${got.snap.barrier} (${why}) not written, offsets not committed (the previous checkpoint stays the latest): ${(e as Error).message}`);
      return false;
    }
    await this.committed(got, seg, payloads, why, heldMs, t2, stateFrom);
    return true;
  }

  /** True while a barrier captures: the state must stay still (the runner skips its time-driven work). */
  get capturing(): boolean {
    return this.capturingNow;
  }

  /**
   * The held part: the snapshot, its records frozen, its items in the
   * segment's lines. The skeletons are taken in one synchronous step; the
   * item tables are encoded after it in slices that hand the event loop
   * back (segment.ts tableYielding), with the state still: the input is held
   * (or the caller sits between two records) and `capturing` keeps the
   * time-driven work off.
   */
  private async capture(): Promise<Captured | null> {
    this.capturingNow = true;
    try {
      return await this.captureStill();
    } finally {
      this.capturingNow = false;
    }
  }

  private async captureStill(): Promise<Captured | null> {
    const barrier = ++this.barrier;
    let enc: SegmentEncoder | null = null;
    let reason: BaseReason | null = null;
    let tables: ItemTables | null = null;
    const sink: ItemSink = {
      full: (generation) => {
        reason = this.chain.decide(generation);
        enc = new SegmentEncoder(barrier);
        return reason !== null;
      },
      consume: (t) => {
        tables = t;
      },
    };
    try {
      const split = new HoldSplit();
      const snap = this.parts.snapshot(barrier, sink);
      if (snap === null) return null;
      if (enc === null || tables === null) throw new Error('the snapshot captured no item tables');
      const e = enc as SegmentEncoder;
      const t = tables as ItemTables;
      split.mark('skeletons');
      await e.tableYielding('attempts', t.attempts, split.pause);
      split.mark('attempts');
      await e.tableYielding('cards', t.cards, split.pause);
      split.mark('cards');
      const { figures, frames } = e.finish();
      if (reason !== null && !figures.base) throw new Error(`barrier ${barrier}: a full capture was asked for (${reason as string}) and a part answered a delta`);
      // A part may answer full where a delta was asked for (its tracker overflowed): every table full is a base.
      if (reason === null && figures.base) reason = 'parts';
      const frozen = snap.records.map((r) => serializeState(r.record));
      split.mark('records');
      return { snap, frozen, reason, figures, frames, split: split.toString() };
    } catch (e) {
      if (enc !== null) this.chain.failed(null);
      throw e;
    }
  }

  /** Records durable: commit, tombstone what a newer base made useless, figures. */
  private async committed(got: Captured, seg: SegmentRef, payloads: readonly Buffer[], why: string, heldMs: number, t2: number, stateFrom: ReadonlyMap<number, number | null>): Promise<void> {
    const { snap } = got;
    const drop = this.chain.durable(seg, got.reason !== null, snap.records.map((r) => r.key.partition));
    try {
      await this.parts.commitExactly(withStateFrom(snap.plan, stateFrom));
    } catch (e) {
      this.chain.undeleted(drop);
      throw e;
    }
    // Durable and committed: the tombstones and the sweep are housekeeping, off the next barrier's path.
    const writeMs = this.o.now() - t2;
    this.housekeeping = this.housekeeping.then(() => this.tidy(snap, seg, drop, got.reason === 'generation'));
    const kind = got.reason ?? 'delta';
    const items = got.figures.upserts + got.figures.removes;
    this.o.metrics?.segment?.({ kind: got.reason === null ? 'delta' : 'base', bytes: seg.bytes, upserts: got.figures.upserts, removes: got.figures.removes });
    const bytes = payloads.reduce((n, p) => n + p.length, 0);
    this.last = { barrier: snap.barrier, records: payloads.length, bytes, kind, segmentBytes: seg.bytes, items, heldMs, writeMs };
    const seg1 = got.reason === null ? `delta of ${items} items` : `base (${got.reason}) of ${items} items`;
    this.o.log.info(`checkpoint ${snap.barrier} (${why}): ${payloads.length} partitions, ${bytes} bytes, segment ${seg1} ${seg.bytes} bytes, chain of ${this.chain.current.length} (captured in ${heldMs} ms at a batch boundary: ${got.split}; written in ${this.last.writeMs} ms), offsets committed`);
  }

  /** Tombstones what a newer base made useless; after a generation's first base, the orphans too. */
  private async tidy(snap: BarrierSnapshot, seg: SegmentRef, drop: readonly SegmentRef[], generationBase: boolean): Promise<void> {
    if (drop.length > 0) {
      await this.o.store.deleteSegments(drop).catch((e: unknown) => {
        this.chain.undeleted(drop);
        this.o.log.warn(`checkpoint ${snap.barrier}: ${drop.length} old segments not deleted, trying again after the next barrier: ${(e as Error).message}`);
      });
    }
    if (generationBase) await this.sweep(snap, seg, drop);
  }

  /** After a generation's first base: tombstones the segments of its writer partition written before it (below its offset: the
   * base, often the topic's largest, holds none; the tombstones of `dropped` lie above) that no manifest can name (chain.ts orphans). */
  private async sweep(snap: BarrierSnapshot, base: SegmentRef, dropped: readonly SegmentRef[]): Promise<void> {
    try {
      const listed = await this.o.store.listSegments(this.o.group, snap.writer.partition, base.offset);
      const found = orphans(listed.filter((s) => !dropped.some((d) => d.epoch === s.epoch && d.barrier === s.barrier)), snap.writer, base.barrier, this.chain.current);
      if (found.length === 0) return;
      await this.o.store.deleteSegments(found);
      this.o.log.info(`checkpoint ${snap.barrier}: ${found.length} orphan segment${found.length > 1 ? 's' : ''} of p${snap.writer.partition} deleted (of a write cut short, or of a chain no restore took)`);
    } catch (e) {
      this.o.log.warn(`checkpoint ${snap.barrier}: orphan segments not swept (tried again after the next generation's first base): ${(e as Error).message}`);
    }
  }

  /**
   * Reads the latest checkpoints of `plans`, decides (restore.ts) and builds
   * the generation from them with `build` (which throws on any inconsistency
   * the parts find). Null: the caller rebuilds; that fallback is one warn
   * line and one count, with its reason.
   */
  async restore<T>(plans: readonly RebuildPlan[], build: (d: AcceptedRestore) => T | Promise<T>): Promise<{ plans: RebuildPlan[]; built: T } | null> {
    for (const pl of plans) if (pl.checkpoint !== null) this.barrier = Math.max(this.barrier, pl.checkpoint.barrier);
    const t0 = this.o.now();
    const steps: RestoreSteps = { recordsMs: 0, segmentsMs: 0, segmentBytes: 0, mergeMs: 0, buildMs: 0 };
    const d = await this.decide(plans, steps);
    let built: T | null = null;
    let why: { reason: FallbackReason; detail: string } | null = d.ok ? null : d;
    if (d.ok) {
      const t3 = this.o.now();
      try {
        built = await build(d);
      } catch (e) {
        why = { reason: 'corrupt', detail: `the state does not restore: ${(e as Error).message}` };
      }
      steps.buildMs = this.o.now() - t3;
    }
    this.o.metrics?.restore(why === null ? 'restored' : why.reason);
    if (why !== null || !d.ok) {
      this.o.log.warn(`no checkpoint restored (${why!.reason}: ${why!.detail}): rebuilding ${plans.length} partition${plans.length > 1 ? 's' : ''} from the committed offsets`);
      return null;
    }
    this.barrier = Math.max(this.barrier, d.barrier);
    // The restored chain is the dead writer's: dropped once this process's first base is durable.
    this.chain.restored(d.chain);
    const at = d.plans.map((pl) => `p${pl.p} at ${pl.starts.terminal}/${pl.starts.gateway}/${pl.starts.bank}`).join('; ');
    const took = `records read in ${steps.recordsMs} ms; chain of ${d.chain.length} segment${d.chain.length > 1 ? 's' : ''}, ${steps.segmentBytes} bytes, read in ${steps.segmentsMs} ms, merged in ${steps.mergeMs} ms; state built in ${steps.buildMs} ms`;
    const torn = d.torn === null ? '' : `; barrier ${d.torn} did not complete on every partition, the one before it restored`;
    this.o.log.info(`restored checkpoint ${d.barrier} of ${d.plans.length} partition${d.plans.length > 1 ? 's' : ''} in ${this.o.now() - t0} ms: ${at} (${took}${torn})`);
    return { plans: d.plans, built: built as T };
  }

  /** Records as before, then the chain they name: read, verified, merged. */
  private async decide(plans: readonly RebuildPlan[], steps: RestoreSteps): Promise<AcceptedRestore | Extract<RestoreDecision, { ok: false }>> {
    if (plans.length === 0) return { ok: false, reason: 'missing', detail: 'no partition held' };
    try {
      const t0 = this.o.now();
      const d = decideRestore(plans, await readCheckpoints(this.o.store, this.o.group, plans, this.expectation()));
      steps.recordsMs = this.o.now() - t0;
      if (!d.ok) return d;
      const c = await loadChain(this.o.store, d.chain, this.o.now, steps);
      return c.ok ? { ...d, items: c.items } : c;
    } catch (e) {
      return { ok: false, reason: 'corrupt', detail: `cannot read the checkpoints: ${(e as Error).message}` };
    }
  }
}

/** Where a restore's time went (its log line). */
interface RestoreSteps extends ChainReadSteps {
  recordsMs: number;
  buildMs: number;
}

/** A barrier stopped because the run is closing (not a failure). */
class Closed extends Error {}
