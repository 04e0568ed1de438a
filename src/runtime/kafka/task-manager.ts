/**
 * The task manager of a Kafka run (Kafka Streams' TaskManager): which tasks
 * this member owns. One task per input partition number (partition-task.ts),
 * one card stage over them (card-stage.ts) and one ledger of what earlier
 * runs stored (ledger.ts), built per consumer-group generation:
 *
 *   assigned(gen)  → rebuild: open the store if deferred, keep the state when
 *                    the partitions are unchanged and nobody else owned them
 *                    (epochs unchanged), else retire the old generation (its
 *                    output made durable) and rebuild every partition from its
 *                    committed offset, claiming epoch + 1 before emitting.
 *   commitPlan()   → the safe offsets (one floor for the process).
 *   tick()         → time-driven work (idle sources, foreign reversals).
 *   takeFinalDecisions() → the end of a bounded input.
 */
import type { Rules } from '../../config/rules.js';
import type { RunConfig } from '../../config/run-config.js';
import type { Anomaly } from '../../events/anomaly.js';
import type { EngineCounters } from '../../engine/engine.js';
import { SharedDuplicates } from '../../engine/shared-duplicates.js';
import type { RunSummary } from '../summary.js';
import { STREAMS, type Stream } from '../../events/index.js';
import type { Logger } from '../../util/log.js';
import { CardStage } from './card-stage.js';
import { CardFactsPublisher, type CardFactsOutput } from './card-facts/publisher.js';
import { FeedRules, tooOldBelowMs, type FeedFigures } from './feed-rules.js';
import { Ledger, loadRebuildLedger } from './ledger.js';
import { epochVersion } from '../../ingest/kafka/offsets.js';
import { PartitionFeed, type FeedContext, type GenerationParts } from './partition-feed.js';
import type { CommitEntry, CommitPlan, GroupOffsets, PartitionTargets } from '../../ingest/kafka/partition-targets.js';
import { PartitionTask, type TaskOutput } from './partition-task.js';
import { ReversalRouter } from './reversal-router.js';
import type { RebuildPlan } from '../../ingest/kafka/rebuild.js';
import type { RunState } from './run-state.js';
import { addCounters, addLedgerStats, zeroCounters, type RunStats } from './run-stats.js';
import type { RunStore } from './run-store.js';
import { absorbStored, prepareAccepted, restoreTasks, type AcceptedRestore, type PreparedRestore } from './checkpoint/restore.js';
import { snapshotGeneration, type BarrierSnapshot, type ItemSink } from './checkpoint/snapshot.js';
import { streamOfTopic } from '../../ingest/kafka/topics.js';

/** One consumer-group generation's state: built when partitions are assigned, dropped at the next rebalance. */
interface Generation extends GenerationParts {
  readonly gen: number;
  readonly feeds: Map<number, PartitionFeed>;
}

export interface TaskManagerOptions {
  readonly config: RunConfig;
  readonly rules: () => Rules;
  readonly state: RunState;
  readonly stats: RunStats;
  readonly summary: RunSummary;
  readonly store: RunStore;
  readonly group: GroupOffsets;
  /** Component "tasks". */
  readonly log: Logger;
  /** Every anomaly version written to the sink. */
  readonly onAnomaly?: (a: Anomaly) => void;
  readonly now: () => number;
  /** Log-end offset of (stream, partition) when known: the feed rules' "caught up". */
  readonly logEnd?: (stream: Stream, partition: number) => number | undefined;
  /** Too-old records, counted per stream (docs/metrics.md). */
  readonly metrics?: { tooOld(stream: Stream): void };
  /** With checkpoints on: restores at a rebuild (checkpoint/checkpointer.ts); commits then move only at barriers. */
  /** The spread assignment: card facts to the card-facts topic (card-facts/publisher.ts), stage 2 run by card-facts/stage2.ts. */
  readonly cardFacts?: { readonly out: CardFactsOutput; readonly partitions: number; readonly markerEveryMs: number };
  readonly checkpoints?: {
    restore<T>(plans: readonly RebuildPlan[], build: (d: AcceptedRestore) => T | Promise<T>): Promise<{ plans: RebuildPlan[]; built: T } | null>;
    /** A partition no longer held (its checkpoint age stops being reported). */
    forget(partition: number): void;
  };
}

export class TaskManager implements PartitionTargets {
  private readonly log: Logger;
  private generation = 0;
  private assignment: readonly number[] = [];
  private current: Generation | null = null;
  /** The rebuild in flight, shared by every batch of its generation. */
  private building: { gen: number; promise: Promise<void> } | null = null;
  /** The tasks whose final decisions were taken (end of a bounded input): nothing of theirs is committed any more. */
  private finalized: ReadonlyMap<number, PartitionTask> | null = null;
  /** 'checking-ownership' while keepState reads the group's commits: no commit of the old state meanwhile. */
  private commits: 'open' | 'checking-ownership' = 'open';
  /** Counters of engines dropped at rebuilds, so the summary covers the whole run. */
  private readonly retired = zeroCounters();
  private readonly feedContext: FeedContext;
  private readonly feeds: FeedRules;

  constructor(private readonly o: TaskManagerOptions) {
    this.log = o.log;
    this.feeds = new FeedRules(o.config, o.rules, o.logEnd ?? (() => undefined));
    this.feedContext = {
      store: o.store, summary: o.summary, write: (a) => this.write(a), now: o.now,
      reversalGraceMs: () => o.rules().debits.reversalGraceMs, idleTimeoutMs: o.config.run.idleTimeoutMs,
      tooOldBelowMs: () => tooOldBelowMs(o.rules()), tooOld: (stream) => o.metrics?.tooOld(stream),
    };
  }

  // --------------------------------------------------- PartitionTargets

  assigned(gen: number, partitions: readonly number[]): void {
    for (const p of this.assignment) if (!partitions.includes(p)) this.o.checkpoints?.forget(p);
    this.generation = gen;
    this.assignment = partitions;
    // Start rebuilding now: with nothing left to fetch no batch would trigger it.
    void this.ready(gen).catch((e) => this.log.warn(`rebuild failed, retried at the next batch: ${(e as Error).message}`));
  }

  ready(gen: number): Promise<void> {
    if (this.current?.gen === gen) return Promise.resolve();
    if (this.building?.gen === gen) return this.building.promise;
    const promise = this.rebuild(gen).finally(() => {
      if (this.building?.promise === promise) this.building = null;
    });
    this.building = { gen, promise };
    return promise;
  }

  target(gen: number, partition: number): PartitionFeed | undefined {
    const st = this.current;
    return st === null || st.gen !== gen ? undefined : st.feeds.get(partition);
  }

  reached(gen: number, endOf: (stream: Stream, partition: number) => number): boolean {
    const st = this.current;
    if (st === null || st.gen !== gen || st.tasks.size === 0) return false;
    for (const t of st.tasks.values()) {
      const e = {} as Record<Stream, number>;
      for (const s of STREAMS) e[s] = endOf(s, t.partition);
      if (!t.reached(e)) return false;
    }
    return true;
  }

  /** With checkpoints on, offsets move only at barriers (snapshot()). */
  commitPlan(): CommitPlan | null {
    return this.o.checkpoints === undefined ? this.floorPlan() : null;
  }

  /** A barrier's snapshot of the current generation and its exact commit (checkpoint/snapshot.ts), or null. */
  snapshot(barrier: number, items: ItemSink): BarrierSnapshot | null {
    const st = this.current;
    const plan = this.floorPlan();
    return st === null || plan === null ? null : snapshotGeneration(st, barrier, this.o.config.kafka.groupId, plan, streamOfTopic(this.o.config.topics), this.o.now(), items);
  }

  private floorPlan(): CommitPlan | null {
    const st = this.current;
    // A state of an older generation commits nothing: the group may have given its partitions to another member in between.
    if (st === null || st.tasks.size === 0 || st.gen !== this.generation || this.commits === 'checking-ownership' || st.tasks === this.finalized) return null;
    // One floor for the whole process: a reversal read on partition q may settle a debit of partition p.
    const tasks = [...st.tasks.values()];
    const active = tasks.filter((t) => !t.untouched());
    let floor = Infinity;
    for (const t of active) floor = Math.min(floor, t.floorNow());
    const entries: CommitEntry[] = [];
    for (const t of tasks) {
      const s = active.includes(t) ? t.commitAt(floor) : t.commitAt(t.floor);
      for (const stream of STREAMS) entries.push({ topic: this.o.config.topics[stream], partition: t.partition, offset: s.offsets[stream], floor: s.floor, metadata: s.metadata });
    }
    return {
      entries,
      committed: () => {
        if (floor !== Infinity) for (const t of active) t.floor = Math.max(t.floor, floor);
      },
      current: () => this.current === st && st.gen === this.generation && this.commits === 'open',
    };
  }

  // --------------------------------------------------------------- rebuild

  /** The rebuild in flight, if any (a drain waits for it). */
  get rebuildInFlight(): Promise<void> | null {
    return this.building?.promise ?? null;
  }

  /**
   * Drops the previous generation (after making its output durable) and rebuilds every assigned partition
   * from its committed offset (or its checkpoint): reads the floor and epoch from the commit metadata, claims
   * epoch + 1 (committing the same offsets with the new epoch, so a crash before the next commit still moves
   * the next rebuild's versions higher), seeks there, with the ledger loaded from ClickHouse.
   */
  private async rebuild(gen: number): Promise<void> {
    const stale = () => gen !== this.generation;
    if (this.assignment.length > 0) await this.o.store.openWhenFree(() => !this.o.state.halted && !stale());
    if (stale() || this.o.state.halted) return;
    const keep = await this.keepState(gen);
    if (keep === 'kept') return;
    await this.retireCurrent();
    if (stale()) return;
    // The commits keepState read are still current: nothing of ours commits while the state is null.
    const planned = keep ?? await this.o.group.plan(this.assignment);
    if (stale()) return;
    // The ledger loads (by the planned floors) while the checkpoint restores: 6.4 s after a 31 s restore on 6 h. Awaited below.
    const ledgerLoad = loadRebuildLedger(() => this.o.store.storedAnomalies(), planned, this.log).catch((e: unknown) => e as Error);
    // A checkpoint's generation is built before anything is claimed: a restore that throws leaves the rebuild intact.
    const restored = planned.length > 0 && this.o.checkpoints !== undefined ? await this.o.checkpoints.restore(planned, async (d) => this.buildGeneration(gen, d.plans, await prepareAccepted(d))) : null;
    if (stale()) return;
    const plans = restored?.plans ?? planned;
    if (plans.length > 0) {
      await this.o.group.claim(plans);
      for (const pl of plans) this.o.group.seek(pl.p, pl.starts);
    }
    const ledger = await ledgerLoad;
    if (ledger instanceof Error) throw ledger;
    if (stale()) return;
    if (restored !== null) absorbStored(restored.built, ledger, this.log);
    this.current = restored?.built ?? this.buildGeneration(gen, plans, ledger);
    if (restored !== null) this.o.stats.restores++;
    this.o.stats.rebuilds++;
    if (plans.length > 0 && restored === null) {
      this.log.info(`rebuilt ${plans.length} partition${plans.length > 1 ? 's' : ''}: ${plans.map((pl) => `p${pl.p} from ${STREAMS.map((s) => pl.starts[s]).join('/')} (epoch ${pl.epoch}${Number.isFinite(pl.floor) ? `, floor ${new Date(pl.floor).toISOString()}` : ''})`).join('; ')}`);
    }
  }

  /** Drops the current generation, its counters kept for the summary and its output made durable. */
  private async retireCurrent(): Promise<void> {
    const old = this.current;
    if (old === null) return;
    // --until-end: the end was reached just as a rebalance takes this generation away. It has read
    // its partitions to the end, so it takes their final decisions before it goes (while it is still
    // current, so they pass its ledger): the member the partitions move to may be ending too, and
    // would otherwise never decide them.
    if (this.o.state.finishingInput) this.finalDecisions(old);
    this.current = null;
    this.retire(old);
    await this.o.store.flush();
    await this.o.group.flushDeadLetters();
  }

  private retire(g: GenerationParts): void {
    for (const t of g.tasks.values()) {
      addCounters(this.retired, t.counters);
      this.o.stats.suppressedBelowFloor += t.suppressedBelowFloor;
      this.o.stats.foreignDelivered += t.foreignDelivered;
    }
    addLedgerStats(this.o.stats.ledger, g.ledger.stats);
  }

  /** A new generation: rebuilt from `plans` with `from` the ledger, or restored from an accepted checkpoint. */
  private buildGeneration(gen: number, plans: readonly RebuildPlan[], from: Ledger | PreparedRestore): Generation {
    const cardEpoch = plans.reduce((m, pl) => Math.max(m, pl.epoch), 0);
    const stage = new CardStage(this.o.rules, (a) => this.emitCard(a), this.o.config.run.idleTimeoutMs, this.o.now);
    const out = this.taskOutput();
    // One duplicate-debit index for all partitions: a merchant's terminals may sit in different partitions.
    const duplicates = new SharedDuplicates();
    let tasks = new Map<number, PartitionTask>();
    let ledger: Ledger;
    const c = this.o.cardFacts;
    const publishers = c === undefined ? undefined : new Map<number, CardFactsPublisher>();
    const cards = c === undefined ? undefined : (p: number, epoch: number) => {
      const pub = new CardFactsPublisher({ source: p, partitions: c.partitions, epoch, out: c.out, now: this.o.now, markerEveryMs: c.markerEveryMs, idleAfterMs: this.o.config.run.idleTimeoutMs });
      publishers!.set(p, pub);
      return pub;
    };
    if (from instanceof Ledger) {
      ledger = from;
      for (const pl of plans) tasks.set(pl.p, new PartitionTask(pl.p, pl.epoch, pl.floor, pl.starts, this.o.rules, cards?.(pl.p, pl.epoch) ?? stage.source(pl.p), out, duplicates));
    } else ({ tasks, ledger } = restoreTasks(from, { rules: this.o.rules, stage, cards, out, duplicates, now: this.o.now() }));
    const parts: GenerationParts = { tasks, stage, ledger, cardEpoch, duplicates, reversals: new ReversalRouter(), publishers };
    const feeds = new Map<number, PartitionFeed>();
    for (const t of tasks.values()) feeds.set(t.partition, new PartitionFeed(parts, t, this.feedContext));
    return { ...parts, gen, feeds };
  }

  /**
   * A rebalance that gave this member the partitions it already held (a
   * standby joining or restarting, under the exact assignment) needs no
   * rebuild, provided nobody else owned them in between: every owner claims a
   * new epoch in the committed metadata before it emits anything, so the
   * committed epochs still being ours proves it. Then the engines go on from
   * where they were (each topic-partition seeked back to its next offset)
   * instead of re-reading up to the look-back.
   * Returns 'kept', or the plans it read (for the rebuild to use), or null.
   */
  private async keepState(gen: number): Promise<'kept' | RebuildPlan[] | null> {
    const old = this.current;
    if (old === null || old.tasks.size === 0 || old.tasks.size !== this.assignment.length || !this.assignment.every((p) => old.tasks.has(p))) return null;
    // No commit of the old state while deciding: if another member owned the partitions in between, ours would overwrite its offsets.
    this.commits = 'checking-ownership';
    let plans: RebuildPlan[];
    try {
      await this.o.group.commitsSettled();
      plans = await this.o.group.plan(this.assignment);
    } finally {
      this.commits = 'open';
    }
    if (gen !== this.generation || this.current !== old) return null;
    if (!plans.every((pl) => pl.epoch === old.tasks.get(pl.p)!.epoch + 1)) return plans;
    for (const t of old.tasks.values()) this.o.group.seek(t.partition, { terminal: t.logs.terminal.next, gateway: t.logs.gateway.next, bank: t.logs.bank.next });
    this.current = { ...old, gen };
    this.o.stats.keptStates++;
    this.log.info(`kept the state of ${old.tasks.size} partition${old.tasks.size > 1 ? 's' : ''} across the rebalance: same partitions, no other owner since (epochs unchanged), nothing re-read`);
    return 'kept';
  }

  // ---------------------------------------------------------------- output

  private taskOutput(): TaskOutput {
    return {
      anomaly: (task, a) => {
        const st = this.current;
        if (st !== null && !st.ledger.admit(a)) return;
        const b = st === null ? a : st.ledger.withStoredEvidence(a);
        this.write({ ...b, version: epochVersion(task.epoch, b.version) });
      },
      transaction: (task, t) => this.o.store.sink.transaction({ ...t, version: epochVersion(task.epoch, t.version) }),
      late: (_task, stream, event, ref) => this.o.store.sink.lateEvent({ stream, event, ref }),
    };
  }

  private emitCard(a: Anomaly): void {
    const st = this.current;
    if (st === null) return;
    if (!st.ledger.admit(a)) return;
    this.write({ ...a, version: epochVersion(st.cardEpoch, a.version) });
  }

  /** An anomaly version out: suppressions stamped, summary, sink (stage 2 of the spread assignment writes through it too). */
  write(found: Anomaly): void {
    const a = this.o.store.suppressions()?.stamp(found) ?? found;
    this.o.summary.anomaly(a);
    this.o.store.sink.anomaly(a);
    this.o.onAnomaly?.(a);
  }

  // ------------------------------------------------- time, end, reporting

  /** Time-driven work: the live-feed rules, foreign reversals waiting on an idle partition, and idle sources stop holding card patterns back. */
  tick(): void {
    const st = this.current;
    if (st === null || this.o.state.finishingInput) return;
    const now = this.o.now();
    this.feeds.apply([...st.tasks.values()], now);
    for (const t of st.tasks.values()) t.deliverForeign(false, now, this.o.config.run.idleTimeoutMs);
    st.stage.pump();
    for (const pub of st.publishers?.values() ?? []) pub.heartbeat();
  }

  /** True while a generation's tasks exist. */
  get holdsState(): boolean {
    return this.current !== null;
  }

  /**
   * End of a bounded input: every pending decision is taken (engine.end():
   * the watermark jumps to +infinity) and the stored debit anomalies the
   * rebuild never re-emitted are retracted.
   */
  takeFinalDecisions(): void {
    if (this.current !== null) this.finalDecisions(this.current);
  }

  /** The current tasks' final decisions are taken (a kept generation shares its tasks, and so this). */
  get finalDecisionsTaken(): boolean {
    return this.current !== null && this.current.tasks === this.finalized;
  }

  private finalDecisions(st: GenerationParts): void {
    if (st.tasks === this.finalized) return;
    this.finalized = st.tasks;
    for (const t of st.tasks.values()) t.deliverForeign(true, this.o.now(), 0);
    for (const t of st.tasks.values()) t.engine.end();
    st.stage.pump();
    for (const t of st.tasks.values()) {
      for (const a of st.ledger.retractionsDue(t.partition, Infinity, 0, t.floorAtStart)) this.write({ ...a, version: epochVersion(t.epoch, 1) });
    }
  }

  /** The tasks held now (empty between generations). */
  tasks(): PartitionTask[] {
    return this.current === null ? [] : [...this.current.tasks.values()];
  }

  /** The live-feed figures of the last tick (metrics). */
  feedFigures(): FeedFigures {
    return this.feeds.figures();
  }

  activeCards(): number | undefined {
    return this.current?.stage.patterns.activeCards();
  }

  /** Engine counters of the whole run: retired engines plus the current ones. */
  counters(): EngineCounters {
    const c = zeroCounters();
    addCounters(c, this.retired);
    for (const t of this.tasks()) addCounters(c, t.counters);
    return c;
  }

  /** At close: the current generation's figures join the run's stats; returns the run's engine counters. */
  closeCounters(): EngineCounters {
    const c = this.counters();
    if (this.current !== null) this.retire(this.current);
    return c;
  }
}
