/**
 * The checkpoint barrier and the restore decision of `posguard run`
 * (docs/kafka.md, "Checkpoints"; issue 13).
 *
 * Barrier (every run.checkpointIntervalMs, on clean shutdown, on
 * revocation): at a batch boundary nothing is pushed → snapshot every task
 * and the process part (synchronously: one consistent point) → flush the
 * sink and the dead letters (every result derived before the snapshot is
 * durable) → write every record (in parallel; each resolves once durable) →
 * commit per partition exactly the positions the checkpoint was taken at,
 * with (epoch, barrier) and the rebuild offsets in the metadata. A failed
 * write commits nothing: the previous checkpoint and commit stay the pair a
 * restart uses.
 */
import type { Rules } from '../../../config/rules.js';
import { rulesStamp } from '../../../config/rules-version.js';
import type { CheckpointExpectation, CheckpointStore } from '../../../ingest/checkpoint-store.js';
import type { CommitPlan } from '../../../ingest/kafka/partition-targets.js';
import type { RebuildPlan } from '../../../ingest/kafka/rebuild.js';
import type { Logger } from '../../../util/log.js';
import { decideRestore, readCheckpoints, type AcceptedRestore, type FallbackReason, type RestoreDecision } from './restore.js';
import type { BarrierSnapshot } from './snapshot.js';
import { compressState, serializeState, STATE_FORMAT } from './state.js';

export interface CheckpointerOptions {
  readonly group: string;
  readonly rules: () => Rules;
  readonly store: CheckpointStore;
  /** Component "checkpoint". */
  readonly log: Logger;
  readonly now: () => number;
  /** Restores by result: `restored` or the fallback reason (posguard_checkpoint_restores_total). */
  readonly metrics?: { restore(result: 'restored' | FallbackReason): void };
}

/** What a barrier needs of the rest of the run. */
export interface BarrierParts {
  /** The snapshot and its commit, or null when nothing is held (or ownership is being checked). */
  snapshot(barrier: number): BarrierSnapshot | null;
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
  /** Input held for the snapshot and its JSON. */
  readonly heldMs: number;
  readonly writeMs: number;
}

export class Checkpointer {
  private barrier = 0;
  private last: BarrierFigures | null = null;
  /** The barrier in progress: an interval barrier is skipped meanwhile, others wait for it. */
  private inFlight: Promise<boolean> | null = null;
  /** Set at close: no barrier starts or writes any more. */
  private closed = false;
  failures = 0;

  constructor(private readonly o: CheckpointerOptions, private readonly parts: BarrierParts) {}

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
    // Barriers one at a time; interval ones never queue (a slow barrier would otherwise starve the input).
    while (this.inFlight !== null) {
      if (skipIfBusy) return false;
      await this.inFlight.catch(() => false);
    }
    if (this.closed) return false;
    const p = this.barrierNow(why, atBoundary).finally(() => {
      if (this.inFlight === p) this.inFlight = null;
    });
    this.inFlight = p;
    return p;
  }

  /** No barrier after this (the run is closing); one in progress stops before writing. */
  close(): void {
    this.closed = true;
  }

  /** The input is held only while the state is captured and frozen as JSON; compressing, flushing, writing and committing run with the input flowing. */
  private async barrierNow(why: string, atBoundary: boolean): Promise<boolean> {
    const capture = async () => {
      const snap = this.parts.snapshot(++this.barrier);
      return snap === null ? null : { snap, json: snap.records.map((r) => serializeState(r.record)) };
    };
    const t0 = this.o.now();
    const got = atBoundary ? await this.parts.atBatchBoundary(capture) : await capture();
    if (got === null) return false;
    const { snap } = got;
    const heldMs = this.o.now() - t0;
    const payloads = await Promise.all(got.json.map((j) => compressState(j)));
    await this.parts.flushOutputs();
    if (this.closed) return false;
    const t2 = this.o.now();
    const expect = this.expectation();
    try {
      await Promise.all(snap.records.map((r, i) => this.o.store.write(r.key, payloads[i], { ...r.meta, formatVersion: expect.formatVersion, rulesVersion: expect.rulesVersion })));
    } catch (e) {
      this.failures++;
      this.o.log.warn(`checkpoint ${snap.barrier} (${why}) not written, offsets not committed (the previous checkpoint stays the latest): ${(e as Error).message}`);
      return false;
    }
    await this.parts.commitExactly(snap.plan);
    const bytes = payloads.reduce((n, p) => n + p.length, 0);
    this.last = { barrier: snap.barrier, records: payloads.length, bytes, heldMs, writeMs: this.o.now() - t2 };
    this.o.log.info(`checkpoint ${snap.barrier} (${why}): ${payloads.length} partitions, ${bytes} bytes (captured in ${heldMs} ms at a batch boundary, written in ${this.last.writeMs} ms), offsets committed`);
    return true;
  }

  /**
   * Reads the latest checkpoints of `plans`, decides (restore.ts) and builds
   * the generation from them with `build` (which throws on any inconsistency
   * the parts find). Null: the caller rebuilds; that fallback is one warn
   * line and one count, with its reason.
   */
  async restore<T>(plans: readonly RebuildPlan[], build: (d: AcceptedRestore) => T): Promise<{ plans: RebuildPlan[]; built: T } | null> {
    for (const pl of plans) if (pl.checkpoint !== null) this.barrier = Math.max(this.barrier, pl.checkpoint.barrier);
    const t0 = this.o.now();
    const d = await this.decide(plans);
    let built: T | null = null;
    let why: { reason: FallbackReason; detail: string } | null = d.ok ? null : d;
    if (d.ok) {
      try {
        built = build(d);
      } catch (e) {
        why = { reason: 'corrupt', detail: `the state does not restore: ${(e as Error).message}` };
      }
    }
    this.o.metrics?.restore(why === null ? 'restored' : why.reason);
    if (why !== null || !d.ok) {
      this.o.log.warn(`no checkpoint restored (${why!.reason}: ${why!.detail}): rebuilding ${plans.length} partition${plans.length > 1 ? 's' : ''} from the committed offsets`);
      return null;
    }
    this.barrier = Math.max(this.barrier, d.barrier);
    const at = d.plans.map((pl) => `p${pl.p} at ${pl.starts.terminal}/${pl.starts.gateway}/${pl.starts.bank}`).join('; ');
    this.o.log.info(`restored checkpoint ${d.barrier} of ${d.plans.length} partition${d.plans.length > 1 ? 's' : ''} in ${this.o.now() - t0} ms: ${at}`);
    return { plans: d.plans, built: built as T };
  }

  private async decide(plans: readonly RebuildPlan[]): Promise<RestoreDecision> {
    if (plans.length === 0) return { ok: false, reason: 'missing', detail: 'no partition held' };
    try {
      return decideRestore(plans, await readCheckpoints(this.o.store, this.o.group, plans, this.expectation()));
    } catch (e) {
      return { ok: false, reason: 'corrupt', detail: `cannot read the checkpoints: ${(e as Error).message}` };
    }
  }
}
