/**
 * `posguard run`: the detector as a Kafka consumer group: the façade over its
 * parts, each with one job:
 *
 *   kafka-source.ts   the Kafka source: connect, group membership, fetch
 *                     (source-batches.ts), decode, dead letters, backpressure,
 *                     commit-after-durable
 *   task-manager.ts   one task per partition: build, rebuild, keep state
 *                     across a rebalance, epochs (partition-task.ts,
 *                     partition-feed.ts, card-stage.ts, rebuild.ts, ledger.ts)
 *   run-store.ts      ClickHouse: handle, sink, suppressions
 *   reporting.ts      status line and the metrics' views
 *   run-state.ts      the lifecycle: created → starting → running → draining → closing → closed
 *
 * Lifecycle (docs/kafka.md):
 *   start    → connect (co-partitioning check, migrations, sink, dead-letter
 *              producer), join the group, rebuild the assigned partitions,
 *              consume; commit every commitIntervalMs
 *   drain    → SIGTERM/SIGINT (`stop`) or end of input (--until-end): stop
 *              fetching, flush, commit, leave the group
 *   close    → sink, producer, admin; `done` settles
 */
import type { RunConfig } from '../../config/run-config.js';
import type { Rules } from '../../config/rules.js';
import type { Anomaly } from '../../events/anomaly.js';
import type { EngineCounters } from '../../engine/engine.js';
import { RunSummary } from '../summary.js';
import type { DetectorMetrics } from '../../metrics/index.js';
import type { EngineView, PartitionLag } from '../../metrics/sources.js';
import type { ClickHouseSinkStats } from '../../sinks/clickhouse/index.js';
import type { Suppressor } from '../../suppress/suppressor.js';
import { createLogger, logger, type Logger } from '../../util/log.js';
import { KafkaSource } from '../../ingest/kafka/kafka-source.js';
import { Reporting } from './reporting.js';
import { RunState } from './run-state.js';
import { InputPace } from './input-pace.js';
import { newRunStats, type RunStats } from './run-stats.js';
import { RunStore } from './run-store.js';
import { TaskManager } from './task-manager.js';
import type { FeedFigures } from './feed-rules.js';
import type { CheckpointStore } from '../../ingest/checkpoint-store.js';
import { Checkpointer } from './checkpoint/checkpointer.js';
import type { CardFactsLink } from '../../ingest/kafka/card-facts-link.js';
import { CardFactsStage2 } from './card-facts/stage2.js';
import type { CardFactsView } from '../../metrics/families/card-facts.js';

/** How often, at most, a partition's card-facts watermark goes out while its frontier moves (docs/architecture.md: ~100 ms). */
const CARD_FACTS_MARKER_EVERY_MS = 100;

export type { RunStats } from './run-stats.js';

/** A line callback (level, message), for callers that collect or drop lines (tests pass a no-op). */
export type LineCallback = (level: string, msg: string) => void;

export interface KafkaRunOptions {
  readonly config: RunConfig;
  /** The rules in force (a RulesHolder's source: SIGHUP reloads apply to new decisions). */
  readonly rules: () => Rules;
  /** The logger the run's components are children of (default the root logger), or a line callback. */
  readonly log?: Logger | LineCallback;
  /** Every anomaly version written to the sink (tests, metrics). */
  readonly onAnomaly?: (a: Anomaly) => void;
  /** Prometheus metrics (src/metrics): fed per event, poison record, sink write and rebalance. */
  readonly metrics?: DetectorMetrics;
  /** Called after each commit with the committed offsets (tests). */
  readonly onCommit?: (c: { partition: number; topic: string; offset: number; floor: number }[]) => void;
  readonly now?: () => number;
}

export interface RunResult {
  readonly reason: 'stopped' | 'end-of-input';
  readonly summary: RunSummary;
  readonly stats: RunStats;
  readonly counters: EngineCounters;
  readonly elapsedMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** A pino logger whose lines go to `fn` (level label, message). */
function callbackLogger(fn: LineCallback): Logger {
  return createLogger({
    level: 'info',
    destination: {
      write: (line: string) => {
        const o = JSON.parse(line) as { level: string; msg: string };
        fn(o.level, o.msg);
      },
    },
  });
}

export class KafkaRun {
  private readonly cfg: RunConfig;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly runState = new RunState();
  private readonly store: RunStore;
  private readonly source: KafkaSource;
  private readonly tasks: TaskManager;
  private readonly reporting: Reporting;
  private timers: NodeJS.Timeout[] = [];
  /** With run.checkpointIntervalMs > 0, from start() on (docs/kafka.md, "Checkpoints"). */
  private checkpointer: Checkpointer | null = null;
  private checkpointStore: CheckpointStore | null = null;
  /** The spread assignment: the card-facts topic between the stages, and this member's stage 2 (issue 14). */
  private link: CardFactsLink | null = null;
  private stage2: CardFactsStage2 | null = null;
  /** finishHeld() in progress, and when it last said what it waits for. */
  private finishingHeld = false;
  private waitLoggedAt = 0;
  private readonly cardFacts = { out: { send: (q: number, key: string | null, value: Buffer) => this.link!.send(q, key, value) }, partitions: 0, markerEveryMs: CARD_FACTS_MARKER_EVERY_MS };
  private readonly metrics?: DetectorMetrics;
  private readonly rules: () => Rules;
  private readonly base: Logger;
  private readonly started: number;
  private resolveDone!: (r: RunResult) => void;
  private rejectDone!: (e: unknown) => void;
  /** Settles when the run has ended (stopped, end of input, or failed). */
  readonly done: Promise<RunResult>;
  readonly summary = new RunSummary();
  readonly stats: RunStats = newRunStats();
  /** The recent read pace: whether the input is a backlog (the checkpoint hold budget). */
  private readonly pace = new InputPace();

  constructor(opts: KafkaRunOptions) {
    this.cfg = opts.config;
    this.now = opts.now ?? Date.now;
    const base = opts.log === undefined ? logger() : typeof opts.log === 'function' ? callbackLogger(opts.log) : opts.log;
    this.log = base.child({ component: 'run' });
    this.metrics = opts.metrics;
    this.rules = opts.rules;
    this.base = base;
    const checkpoints = this.cfg.run.checkpointIntervalMs > 0;
    const shared = { config: this.cfg, state: this.runState, stats: this.stats, now: this.now, metrics: opts.metrics };
    this.store = new RunStore({ ...shared, rules: opts.rules, logBase: base });
    this.source = new KafkaSource({
      ...shared, log: base.child({ component: 'kafka' }), onCommit: opts.onCommit, maxFutureMs: () => opts.rules().time.maxFutureMs,
      flushOutputs: () => this.flushOutputs(),
      output: { backlog: () => this.backlog(), drain: () => this.store.sink.drain() },
      onEndOfInput: () => void this.finish(),
      // Skipped when a barrier is in progress: one waiting for this batch's end would wait for it forever (the one in progress runs right after).
      onRevoke: checkpoints ? (inBatch) => this.checkpoint('partitions revoked', !inBatch, true) : undefined,
      onFatal: (e) => void this.fail(e),
    });
    this.tasks = new TaskManager({
      ...shared, rules: opts.rules, summary: this.summary, store: this.store, group: this.source,
      log: base.child({ component: 'tasks' }), onAnomaly: opts.onAnomaly,
      logEnd: (stream, partition) => this.source.logEnd(this.cfg.topics[stream], partition),
      cardFacts: this.cfg.kafka.assignment === 'spread' ? this.cardFacts : undefined,
      checkpoints: checkpoints ? { restore: (plans, build) => this.checkpointer!.restore(plans, build), forget: (p) => opts.metrics?.checkpoint.forget(p) } : undefined,
    });
    this.source.attach(this.tasks);
    this.reporting = new Reporting({ ...shared, summary: this.summary, tasks: this.tasks, source: this.source, store: this.store, log: this.log });
    this.started = this.now();
    this.done = new Promise<RunResult>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    // Callers that only await start() must not see an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** The lifecycle state (created, starting, running, draining, closing, closed). */
  get state(): RunState['state'] {
    return this.runState.state;
  }

  /** Connects everything and joins the group. Resolves once consuming has started; on failure closes what it opened. */
  async start(): Promise<void> {
    this.runState.starting();
    try {
      await this.source.connect();
      if (this.cfg.kafka.assignment === 'spread') await this.openCardFacts();
      if (this.cfg.run.checkpointIntervalMs > 0) await this.openCheckpoints();
      await this.store.openUnlessHeld();
      await this.source.openDeadLetters();
      await this.source.join();
      if (this.stage2 !== null) await this.link!.startReading(this.stage2);
    } catch (e) {
      await this.fail(e, false);
      throw e;
    }
    const [every, what] = this.checkpointer === null ? [this.cfg.run.commitIntervalMs, 'commit'] : [this.cfg.run.checkpointIntervalMs, 'checkpoint'];
    this.timers.push(setInterval(() => {
      if (this.runState.draining) return;
      void (this.checkpointer === null ? this.commit('interval') : this.checkpoint('interval', true, true)).catch((e) => this.log.warn(`${what} failed, retrying at the next interval: ${(e as Error).message}`));
    }, every));
    // At least four ticks per quietAfter, so the feed rules act within a quarter of it.
    const tickMs = Math.max(100, Math.min(1_000, this.cfg.run.statusIntervalMs || 1_000, Math.floor(this.cfg.feeds.quietAfterMs / 4)));
    this.timers.push(setInterval(() => this.tick(), tickMs));
    for (const t of this.timers) t.unref();
    this.runState.running();
  }

  /** The card-facts topic and link, and this member's stage 2 (it joins the card-facts group after the input group). */
  private async openCardFacts(): Promise<void> {
    const log = this.base.child({ component: 'card-facts' });
    const { link, partitions } = await this.source.openCardFacts(log);
    this.link = link;
    this.cardFacts.partitions = partitions;
    this.stage2 = new CardFactsStage2({ sources: this.source.inputPartitions, rules: this.rules, now: this.now, log, write: (a) => this.tasks.write(a) });
  }

  /** Everything produced so far made durable: the sink's rows and the card facts (before any input offset is committed). */
  private async flushOutputs(): Promise<void> {
    await this.store.flush();
    await this.link?.flush();
  }

  private backlog(): number | null {
    const b = this.store.backlog();
    return b === null ? null : b + (this.link?.backlog() ?? 0);
  }

  /**
   * --until-end under spread: the input held here has ended. Its final decisions are taken (their
   * end-of-input markers sent) while the member stays in both groups, so partitions a dead member
   * leaves are given here, read to their end and decided as well. True once every card-facts partition
   * held has heard the end of input from every source: then the member may drain and leave.
   */
  private async finishHeld(): Promise<boolean> {
    if (this.finishingHeld) return false;
    this.finishingHeld = true;
    try {
      if (this.tasks.holdsState && !this.tasks.finalDecisionsTaken) {
        await this.commit('end of input (before the final decisions)');
        this.tasks.takeFinalDecisions();
      }
      await this.link!.flush();
      if (this.stage2!.ended()) return true;
      if (this.now() - this.waitLoggedAt >= 10_000) {
        this.waitLoggedAt = this.now();
        const w = this.stage2!.waitingFor();
        this.log.info(`input read to its end here; waiting for the end of input of partition${w.length === 1 ? '' : 's'} ${w.join(', ')} on the card facts (another member still reads ${w.length === 1 ? 'it' : 'them'}, or its partitions come here once its session expires)`);
      }
      return false;
    } finally {
      this.finishingHeld = false;
    }
  }

  /** The state topic checked (created when allowed) and the barrier wired (checkpoint/checkpointer.ts). */
  private async openCheckpoints(): Promise<void> {
    const log = this.base.child({ component: 'checkpoint' });
    const store = (this.checkpointStore = await this.source.openCheckpointStore(this.metrics?.checkpoint, log));
    const backlogged = () => this.pace.backlogged(this.reporting.lag());
    const stateItems = () => (this.reporting.engineView()?.openAttempts() ?? 0) + (this.reporting.activeCards() ?? 0);
    this.checkpointer = new Checkpointer({ group: this.cfg.kafka.groupId, rules: this.rules, store, log, now: this.now, metrics: this.metrics?.checkpoint, backlogged, stateItems }, {
      snapshot: (b, items) => this.tasks.snapshot(b, items),
      atBatchBoundary: (fn) => this.source.atBatchBoundary(fn),
      flushOutputs: async () => {
        await this.flushOutputs();
        await this.source.flushDeadLetters();
      },
      commitExactly: (plan) => this.source.commitExactly(plan),
    });
  }

  /** Makes what is safe durable and commits it: a checkpoint barrier with checkpoints on, else the floor commit (KafkaSource.commit). */
  async commit(why: string): Promise<void> {
    await (this.checkpointer === null ? this.source.commit(why) : this.checkpoint(why));
  }

  /** A barrier (`atBoundary` false: the caller is between two records already). */
  private async checkpoint(why: string, atBoundary = true, skipIfBusy = false): Promise<void> {
    if (await this.checkpointer?.take(why, atBoundary, skipIfBusy)) this.stats.checkpoints++;
  }

  private tick(): void {
    this.pace.sample(this.now(), this.stats.records);
    if (this.checkpointer !== null && this.pace.caughtUp(this.now(), this.reporting.lag(), this.cfg.run.checkpointIntervalMs, this.checkpointer.capturing) && !this.runState.draining) {
      void this.checkpoint('caught up').catch((e) => this.log.warn(`checkpoint failed, retrying at the next interval: ${(e as Error).message}`));
    }
    this.source.refreshLogEnds();
    this.source.align();
    // A barrier encoding its item tables needs the state still; the feed rules act a tick later.
    if (this.checkpointer?.capturing !== true) this.tasks.tick();
    this.source.checkEnd();
    this.reporting.maybeLogStatus();
  }

  // ----------------------------------------------------------- for metrics

  engineView(): EngineView | undefined {
    return this.reporting.engineView();
  }

  activeCards(): number | undefined {
    const local = this.reporting.activeCards();
    return this.stage2 === null || local === undefined ? local : local + this.stage2.activeCards();
  }

  /** Live-feed figures (quiet, stalled, released stream-partitions; idle partitions; F). */
  feedFigures(): FeedFigures {
    return this.tasks.feedFigures();
  }

  /** Stage 2 of the spread assignment, for the metrics (undefined under exact). */
  cardFactsView(): CardFactsView | undefined {
    return this.stage2 === null ? undefined : this.stage2.view(this.link!.highWatermarks, this.link!.backlog());
  }

  suppressions(): Suppressor | undefined {
    return this.reporting.suppressions();
  }

  sinkStats(): ClickHouseSinkStats | undefined {
    return this.reporting.sinkStats();
  }

  consumerLag(): Promise<PartitionLag[]> {
    return this.reporting.consumerLag();
  }

  lag(): number | null {
    return this.reporting.lag();
  }

  statusLine(rate: number): string {
    return this.reporting.statusLine(rate);
  }

  // ----------------------------------------------------------------- drain

  /**
   * End of a bounded input (--until-end): every pending decision is taken,
   * the results are made durable, and the offsets committed are the safe ones
   * from before the jump, so a later run continuing the stream still rebuilds correctly.
   */
  private async finish(): Promise<void> {
    try {
      if (this.stage2 !== null && !(await this.finishHeld())) return;
    } catch (e) {
      return void this.fail(e);
    }
    if (!this.runState.drain('end-of-input')) return;
    try {
      await this.source.pauseAndSettle();
      if (this.tasks.holdsState && !this.tasks.finalDecisionsTaken) {
        await this.commit('end of input (before the final decisions)');
        this.tasks.takeFinalDecisions();
      }
      this.log.info('end of input reached: every pending decision taken');
      await this.close('end-of-input');
    } catch (e) {
      await this.fail(e);
    }
  }

  /** SIGTERM/SIGINT: stop fetching, flush, commit, leave the group, close. Bounded by shutdownTimeoutMs. Idempotent: every call gets `done`. */
  async stop(reason = 'stop requested'): Promise<RunResult> {
    if (!this.runState.drain('stop')) return this.done;
    this.log.info(`${reason}: draining (stop fetching, flush, commit, leave the group)`);
    const timeoutMs = this.cfg.run.shutdownTimeoutMs;
    const deadline = sleep(timeoutMs).then(() => 'timeout' as const);
    const drain = (async () => {
      await this.source.pauseAndSettle();
      await this.tasks.rebuildInFlight?.catch(() => undefined);
      await this.commit('shutdown');
      return 'ok' as const;
    })();
    const r = await Promise.race([drain.catch((e: unknown) => e), deadline]);
    if (r !== 'ok') {
      this.log.error(r === 'timeout' ? `shutdown did not finish within ${timeoutMs} ms: leaving without the last commit (a restart re-reads from the previous one)` : `final commit failed: ${(r as Error)?.message ?? String(r)} (a restart re-reads from the previous commit)`);
      await this.store.abort('shutdown timeout');
    }
    await this.close('stopped');
    return this.done;
  }

  private async close(reason: RunResult['reason']): Promise<void> {
    if (!this.runState.close(false)) return;
    for (const t of this.timers) clearInterval(t);
    this.checkpointer?.close();
    await this.source.close();
    await this.link?.close();
    await this.checkpointStore?.close();
    await this.store.close();
    const counters = this.tasks.closeCounters();
    if (this.stage2 !== null) this.stats.cardFacts = { sent: this.link!.sent, read: this.stage2.counters.records, bad: this.stage2.counters.bad };
    this.runState.closedDone();
    this.resolveDone({ reason, summary: this.summary, stats: this.stats, counters, elapsedMs: this.now() - this.started });
  }

  private async fail(e: unknown, log = true): Promise<void> {
    if (!this.runState.close(true)) return;
    if (log) this.log.error((e as Error)?.message ?? String(e));
    for (const t of this.timers) clearInterval(t);
    this.checkpointer?.close();
    await this.source.closeAfterFailure();
    await this.link?.close().catch(() => undefined);
    await this.checkpointStore?.close().catch(() => undefined);
    await this.store.closeAfterFailure();
    this.runState.closedDone();
    this.rejectDone(e);
  }
}
