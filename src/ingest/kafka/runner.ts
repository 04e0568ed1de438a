/**
 * `posguard run`: the detector as a Kafka consumer group.
 *
 * Lifecycle (docs/kafka.md):
 *   connect  → co-partitioning check, migrations, sink, dead-letter producer
 *   ready    → join the group (co-partition assigner), rebuild the assigned
 *              partitions from their committed offsets, consume (eachBatch)
 *   commit   → every commitIntervalMs: snapshot safe offsets, flush the sink
 *              and the dead-letter producer, commit (offset + floor metadata)
 *   drain    → SIGTERM/SIGINT or end of input (--until-end): stop fetching,
 *              flush, commit, leave the group
 *   close    → sink, producer, admin
 *
 * A rebalance is a rebuild: kafkajs restarts every assigned partition from
 * its committed offset after each join (offsets are committed only by us), so
 * the engines of the previous generation are dropped and new ones re-read
 * from there, exactly as after a restart.
 */
import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type KafkaMessage, type Kafka, type Producer } from 'kafkajs';
import type { RunConfig } from '../../config/run-config.js';
import type { Rules } from '../../config/rules.js';
import type { Anomaly } from '../../detect/anomaly.js';
import type { EngineCounters } from '../../engine/engine.js';
import { SharedDuplicates } from '../../engine/shared-duplicates.js';
import { RunSummary } from '../../runtime/summary.js';
import { PosguardError } from '../../errors.js';
import { STREAMS, type BankEvent, type Stream } from '../../events/index.js';
import { scrubPans } from '../../util/pan.js';
import { loadActive } from '../../suppress/store.js';
import { Suppressor } from '../../suppress/suppressor.js';
import { ClickHouseSink, clientBatchWriter, dataDirHolder, describeTarget, migrate, openClickHouse, type ClickHouseHandle, type ClickHouseSinkStats } from '../../sinks/clickhouse/index.js';
import type { DetectorMetrics } from '../../metrics/index.js';
import type { EngineView, PartitionLag } from '../../metrics/sources.js';
import { createAssigner, partitionNumbers } from './assigner.js';
import { CardStage } from './card-stage.js';
import { checkKafkaAccess, createKafka, kafkaClientOptions } from './client.js';
import { AvroDecoder, ConfluentDecoder, JsonDecoder, dlqValue, poisonPayload, type PoisonKind, type ValueDecoder } from './codec.js';
import { DeadLetterPublisher } from './dlq.js';
import { Ledger } from './ledger.js';
import { epochVersion } from './offsets.js';
import { claimEpochs, planRebuild, type RebuildPlan } from './rebuild.js';
import { PartitionTask, type TaskOutput } from './partition-task.js';
import { Registry, registryOptions } from './registry.js';
import { redact } from '../../util/redact.js';
import { checkCoPartitioned, inputTopics, kafkaCall, partitionCounts, streamOfTopic } from './topics.js';

export type RunLogger = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface KafkaRunOptions {
  readonly config: RunConfig;
  /** The rules in force (a RulesHolder's source: SIGHUP reloads apply to new decisions). */
  readonly rules: () => Rules;
  readonly log?: RunLogger;
  /** Every anomaly version written to the sink (tests, metrics). */
  readonly onAnomaly?: (a: Anomaly) => void;
  /** Prometheus metrics (src/metrics): fed per event, poison record, sink write and rebalance. */
  readonly metrics?: DetectorMetrics;
  /** Called after each commit with the committed offsets (tests). */
  readonly onCommit?: (c: { partition: number; topic: string; offset: number; floor: number }[]) => void;
  readonly now?: () => number;
}

export interface RunStats {
  records: number;
  events: number;
  poison: Record<PoisonKind, number>;
  deadLettersSent: number;
  commits: number;
  rebuilds: number;
  /** Rebalances after which this member kept its partitions and their state (no re-read). */
  keptStates: number;
  pauses: number;
  suppressedBelowFloor: number;
  /** Reversals from one partition also given to the other partitions' engines of this process. */
  foreignDelivered: number;
  ledger: { loaded: number; suppressedIdentical: number; suppressedLaterTrigger: number; retracted: number };
}

export interface RunResult {
  readonly reason: 'stopped' | 'end-of-input';
  readonly summary: RunSummary;
  readonly stats: RunStats;
  readonly counters: EngineCounters;
  readonly elapsedMs: number;
}

/** One consumer-group generation's state: built when partitions are assigned, dropped at the next rebalance. */
interface Generation {
  readonly gen: number;
  readonly tasks: Map<number, PartitionTask>;
  readonly stage: CardStage;
  readonly ledger: Ledger;
  /** Versions of card-pattern anomalies: above every partition's previous epoch. */
  readonly cardEpoch: number;
}

const zeroCounters = (): EngineCounters => ({
  events: { terminal: 0, gateway: 0, bank: 0 }, duplicates: { terminal: 0, gateway: 0, bank: 0 }, late: { terminal: 0, gateway: 0, bank: 0 },
  tooLate: { terminal: 0, gateway: 0, bank: 0 }, linkConflicts: 0, anomalyVersions: 0, decisions: 0, released: 0,
});

function addCounters(into: EngineCounters, c: EngineCounters): void {
  for (const k of ['events', 'duplicates', 'late', 'tooLate'] as const) for (const s of STREAMS) into[k][s] += c[k][s];
  into.linkConflicts += c.linkConflicts;
  into.anomalyVersions += c.anomalyVersions;
  into.decisions += c.decisions;
  into.released += c.released;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
const yieldToIo = () => new Promise<void>((r) => setImmediate(r));

function isRebalancing(e: unknown): boolean {
  const t = (e as { type?: string })?.type;
  return t === 'REBALANCE_IN_PROGRESS' || t === 'NOT_COORDINATOR_FOR_GROUP' || t === 'ILLEGAL_GENERATION' || t === 'UNKNOWN_MEMBER_ID';
}

export class KafkaRun {
  private readonly cfg: RunConfig;
  private readonly rules: () => Rules;
  private readonly log: RunLogger;
  private readonly now: () => number;
  private readonly topics: string[];
  private readonly streamOf: Map<string, Stream>;
  private kafka!: Kafka;
  private admin!: Admin;
  private consumer!: Consumer;
  private producer!: Producer;
  private dlq!: DeadLetterPublisher;
  private decoder!: ValueDecoder;
  /** Open from start-up, or (embedded store held by the active member) from the first assignment on. */
  private handle: ClickHouseHandle | null = null;
  /** Stamps anomalies covered by an analyst's suppression; opened with the store. */
  private suppressor: Suppressor | null = null;
  private store: ClickHouseSink | null = null;
  readonly summary = new RunSummary();
  readonly stats: RunStats = {
    records: 0, events: 0, poison: { empty: 0, bad_magic_byte: 0, unknown_schema: 0, undecodable: 0, contract: 0 },
    deadLettersSent: 0, commits: 0, rebuilds: 0, keptStates: 0, pauses: 0, suppressedBelowFloor: 0, foreignDelivered: 0,
    ledger: { loaded: 0, suppressedIdentical: 0, suppressedLaterTrigger: 0, retracted: 0 },
  };

  private generation = 0;
  private assignment: number[] = [];
  private state: Generation | null = null;
  private building: { gen: number; promise: Promise<void> } | null = null;
  private endOffsets: Map<string, number> | null = null;
  private paused = false;
  private stopping = false;
  private finishing = false;
  private activeBatches = 0;
  private batchesIdle: (() => void)[] = [];
  private committing: Promise<void> | null = null;
  /** keepState is reading the group's commits to decide whether the old state is still ours. */
  private holdCommits = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly started: number;
  private resolveDone!: (r: RunResult) => void;
  private rejectDone!: (e: unknown) => void;
  /** Settles when the run has ended (stopped, end of input, or failed). */
  readonly done: Promise<RunResult>;
  private lastStatus = { at: 0, records: 0 };
  /** Counters of engines dropped at rebuilds, so the summary covers the whole run. */
  private readonly retired = zeroCounters();

  constructor(private readonly opts: KafkaRunOptions) {
    this.cfg = opts.config;
    this.rules = opts.rules;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? ((level, msg) => void process.stderr.write(redact(`posguard run: ${level === 'info' ? '' : level + ': '}${msg}\n`)));
    this.topics = inputTopics(this.cfg.topics);
    this.streamOf = streamOfTopic(this.cfg.topics);
    this.started = this.now();
    this.done = new Promise<RunResult>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    // Callers that only await start() must not see an unhandled rejection.
    this.done.catch(() => undefined);
  }

  // ------------------------------------------------------------------ connect

  /** Connects everything and joins the group. Resolves once consuming has started; on failure closes what it opened. */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (e) {
      await this.fail(e, false);
      throw e;
    }
  }

  private async connect(): Promise<void> {
    const k = this.cfg.kafka;
    await checkKafkaAccess(kafkaClientOptions(k, k.clientId));
    this.kafka = createKafka({
      ...kafkaClientOptions(k, k.clientId),
      // kafkajs reports a routine rebalance ("rejoin is needed") as an error; it is the group doing its job.
      log: (level, msg) => this.log(level === 'debug' || level === 'info' || /group is rebalancing, so a rejoin is needed/.test(msg) ? 'info' : level, `kafka: ${msg}`),
    });
    this.admin = this.kafka.admin();
    await kafkaCall(`connect to ${k.brokers.join(',')}`, () => this.admin.connect());
    const partitions = await checkCoPartitioned(this.admin, this.cfg.topics);
    await this.ensureDlqTopic(partitions);
    this.log('info', `input topics ${this.topics.join(', ')}: ${partitions} partitions each (co-partitioned); dead letters to ${this.cfg.topics.dlq}`);

    if (this.cfg.input.format === 'confluent') {
      this.decoder = new ConfluentDecoder(new Registry({
        ...registryOptions(this.cfg.input), clientId: k.clientId,
      }));
    } else this.decoder = this.cfg.input.format === 'json' ? new JsonDecoder() : new AvroDecoder();

    const target = this.cfg.output.clickhouse;
    const holder = target.kind === 'embedded' && k.assignment === 'exact' ? dataDirHolder(target.dataDir) : null;
    if (holder !== null) {
      // A standby on the active member's host: the folder opens when this member is given partitions and the active one has let go of it.
      this.log('info', `${describeTarget(target)} is held by pid ${holder.pid}: it opens when this member is given partitions and the folder is free`);
    } else await this.openStore();

    // Idempotent with unbounded retries (kafkajs' requirement): a dead letter is retried until acknowledged, and no offset is committed before that.
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 } });
    await kafkaCall('connect the dead-letter producer', () => this.producer.connect());
    this.dlq = new DeadLetterPublisher(this.producer, this.cfg.topics.dlq);

    if (this.cfg.run.untilEnd) this.endOffsets = await this.fetchEndOffsets();

    this.consumer = this.kafka.consumer({
      groupId: k.groupId,
      partitionAssigners: [createAssigner(k.assignment, () => this.assignment.length > 0)],
      sessionTimeout: k.sessionTimeoutMs,
      heartbeatInterval: k.heartbeatIntervalMs,
      rebalanceTimeout: k.rebalanceTimeoutMs,
      maxBytesPerPartition: k.maxBytesPerPartition,
      maxWaitTimeInMs: k.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      retry: { retries: 10 },
    });
    const ev = this.consumer.events;
    this.consumer.on(ev.GROUP_JOIN, ({ payload }) => this.onJoin(payload.memberAssignment as Record<string, number[]>, payload.groupId));
    this.consumer.on(ev.REBALANCING, () => {
      // A rebalance noticed outside eachBatch: make what was safe durable and committed, best effort.
      void this.commit('rebalance').catch((e) => this.log('warn', `commit before rebalance failed (the new owner re-reads a little more): ${(e as Error).message}`));
    });
    this.consumer.on(ev.CRASH, ({ payload }) => {
      const msg = payload.error?.message ?? 'unknown error';
      const hint = /supported protocols are incompatible/.test(msg)
        ? ` (the members of group ${k.groupId} run with another --assignment than this one's ${k.assignment}: give every instance the same)`
        : '';
      if (!payload.restart) void this.fail(new PosguardError('PG_KAFKA', `the consumer stopped: ${msg}${hint}`, { cause: payload.error }));
      else this.log('warn', `consumer error, restarting it: ${payload.error?.message}`);
    });
    await kafkaCall('connect the consumer', () => this.consumer.connect());
    await kafkaCall('subscribe', () => this.consumer.subscribe({ topics: this.topics, fromBeginning: k.fromBeginning }));
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (p) => this.eachBatch(p),
    });

    this.timers.push(setInterval(() => {
      void this.commit('interval').catch((e) => this.log('warn', `commit failed, retrying at the next interval: ${(e as Error).message}`));
    }, this.cfg.run.commitIntervalMs));
    this.timers.push(setInterval(() => this.tick(), Math.max(100, Math.min(1_000, this.cfg.run.statusIntervalMs || 1_000))));
    for (const t of this.timers) t.unref();
  }

  private async openStore(): Promise<void> {
    const handle = await openClickHouse(this.cfg.output.clickhouse);
    try {
      await migrate(handle.client);
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
    this.handle = handle;
    this.suppressor = new Suppressor((cap) => loadActive(handle.client, cap), {
      reloadIntervalMs: this.cfg.run.suppressionsReloadMs,
      log: (level, msg) => this.log(level, `suppressions: ${msg}`),
    });
    await this.suppressor.start();
    this.store = new ClickHouseSink(clientBatchWriter(handle.client), {
      highWaterRows: this.cfg.output.sinkHighWaterRows,
      batchRows: this.cfg.output.sinkBatchRows,
      skipTables: this.cfg.output.skipRawEvents ? ['events_raw'] : [],
      onClose: () => handle.close(),
      onEvent: this.opts.metrics?.sinkEvent,
      rules: this.rules,
    });
  }

  /** Opens the deferred embedded store, waiting while the previous holder still has the folder. */
  private async ensureStore(gen: number): Promise<void> {
    let lastLog = 0;
    while (this.store === null && !this.stopping && gen === this.generation) {
      try {
        await this.openStore();
        this.log('info', `opened the embedded store ${describeTarget(this.cfg.output.clickhouse)}`);
        return;
      } catch (e) {
        if (!(e instanceof PosguardError) || e.code !== 'PG_DATA_LOCKED') throw e;
        if (this.now() - lastLog >= 10_000) {
          lastLog = this.now();
          this.log('warn', `waiting for the embedded store: ${e.message}`);
        }
        await sleep(250);
      }
    }
  }

  /** The sink; exists whenever partitions are held. */
  private get sink(): ClickHouseSink {
    if (this.store === null) throw new PosguardError('PG_INTERNAL', 'the ClickHouse sink is used before the store was opened');
    return this.store;
  }

  private async ensureDlqTopic(partitions: number): Promise<void> {
    const counts = await partitionCounts(this.admin, [this.cfg.topics.dlq]);
    if (counts.get(this.cfg.topics.dlq) !== null) return;
    if (!this.cfg.run.createDlqTopic) {
      throw new PosguardError('PG_KAFKA', `the dead-letter topic ${this.cfg.topics.dlq} does not exist; create it (posguard topics create) or allow run.createDlqTopic`);
    }
    await kafkaCall(`create ${this.cfg.topics.dlq}`, () => this.admin.createTopics({ topics: [{ topic: this.cfg.topics.dlq, numPartitions: partitions }], waitForLeaders: true }));
    this.log('info', `created the dead-letter topic ${this.cfg.topics.dlq} (${partitions} partitions)`);
  }

  private async fetchEndOffsets(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const topic of this.topics) {
      const offs = await kafkaCall(`read the end offsets of ${topic}`, () => this.admin.fetchTopicOffsets(topic));
      for (const o of offs) out.set(`${topic}:${o.partition}`, Number(o.high));
    }
    return out;
  }

  // ----------------------------------------------------------- for metrics

  /** All partition engines as one (counters summed with those of engines retired at rebuilds, watermark the minimum). */
  engineView(): EngineView | undefined {
    const st = this.state;
    if (st === null) return undefined;
    const tasks = [...st.tasks.values()];
    const counters = zeroCounters();
    addCounters(counters, this.retired);
    for (const t of tasks) addCounters(counters, t.counters);
    const marks = tasks.map((t) => t.engine.watermarks());
    const minOf = (s: Stream) => (marks.length === 0 ? -Infinity : Math.min(...marks.map((m) => m[s])));
    return {
      counters,
      watermark: tasks.length === 0 ? -Infinity : Math.min(...tasks.map((t) => t.engine.watermark)),
      openAttempts: () => tasks.reduce((n, t) => n + t.engine.openAttempts(), 0),
      watermarks: () => ({ terminal: minOf('terminal'), gateway: minOf('gateway'), bank: minOf('bank') }),
    };
  }

  activeCards(): number | undefined {
    return this.state?.stage.patterns.activeCards();
  }

  /** The suppressions applied, for metrics; undefined before the store is open. */
  suppressions(): Suppressor | undefined {
    return this.suppressor ?? undefined;
  }

  sinkStats(): ClickHouseSinkStats | undefined {
    return this.store?.stats();
  }

  /** Lag per input partition: the topic's end offset minus the group's committed offset (fetched at scrape time). */
  async consumerLag(): Promise<PartitionLag[]> {
    if (!this.admin) return [];
    const out: PartitionLag[] = [];
    const committed = await this.admin.fetchOffsets({ groupId: this.cfg.kafka.groupId, topics: this.topics });
    for (const topic of this.topics) {
      const ends = await this.admin.fetchTopicOffsets(topic);
      const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const e of ends) {
        const c = Number(mine.find((m) => m.partition === e.partition)?.offset ?? '-1');
        const low = Number(e.low ?? '0');
        out.push({ topic, partition: e.partition, lag: Math.max(0, Number(e.high) - (c >= 0 ? c : low)) });
      }
    }
    return out;
  }

  // ------------------------------------------------------------- rebalance

  private onJoin(assignment: Record<string, number[]>, groupId: string): void {
    this.generation++;
    this.assignment = partitionNumbers(assignment, this.topics);
    this.opts.metrics?.rebalance(this.assignment.length);
    const none = this.cfg.kafka.assignment === 'exact' ? 'none: standing by while another member holds them all (assignment exact)' : 'none';
    this.log('info', `joined group ${groupId} (generation ${this.generation}): partitions ${this.assignment.join(', ') || none}`);
    // Start rebuilding now: with nothing left to fetch no batch would trigger it.
    void this.ensureState(this.generation).catch((e) => this.log('warn', `rebuild failed, retried at the next batch: ${(e as Error).message}`));
  }

  private ensureState(gen: number): Promise<void> {
    if (this.state?.gen === gen) return Promise.resolve();
    if (this.building?.gen === gen) return this.building.promise;
    const promise = this.rebuild(gen).finally(() => {
      if (this.building?.promise === promise) this.building = null;
    });
    this.building = { gen, promise };
    return promise;
  }

  /**
   * Drops the previous generation (after making its output durable) and
   * rebuilds every assigned partition from its committed offset: reads the
   * floor and epoch from the commit metadata, claims epoch + 1 (committing
   * the same offsets with the new epoch, so a crash before the next commit
   * still moves the next rebuild's versions higher), seeks there, and loads
   * the ledger from ClickHouse.
   */
  private async rebuild(gen: number): Promise<void> {
    if (this.assignment.length > 0) await this.ensureStore(gen);
    if (gen !== this.generation || this.stopping) return;
    const keep = await this.keepState(gen);
    if (keep === 'kept') return;
    const old = this.state;
    this.state = null;
    if (old !== null) {
      for (const t of old.tasks.values()) {
        addCounters(this.retired, t.counters);
        this.stats.suppressedBelowFloor += t.suppressedBelowFloor;
        this.stats.foreignDelivered += t.foreignDelivered;
      }
      this.mergeLedgerStats(old.ledger);
      await this.store?.flush();
      await this.dlq.flush();
    }
    if (gen !== this.generation) return;
    // The commits keepState read are still current: nothing of ours commits while the state is null.
    const plans = keep ?? await this.plan();
    if (gen !== this.generation) return;
    if (plans.length > 0) {
      await claimEpochs(this.consumer, this.admin, this.cfg.kafka.groupId, this.cfg.topics, plans);
      for (const pl of plans) for (const s of STREAMS) this.consumer.seek({ topic: this.cfg.topics[s], partition: pl.p, offset: String(pl.starts[s]) });
    }
    const ledger = new Ledger();
    const minFloor = plans.reduce((m, pl) => Math.min(m, pl.floor), Infinity);
    if (plans.length > 0) {
      try {
        const n = await ledger.load(this.handle!.client, minFloor);
        if (n > 0) this.log('info', `rebuild: ${n} stored anomalies from ${Number.isFinite(minFloor) ? new Date(minFloor).toISOString() : 'the beginning'} loaded to reconcile re-emissions`);
      } catch (e) {
        throw new PosguardError('PG_CLICKHOUSE', `cannot read anomalies_current to rebuild: ${(e as Error).message}`, { cause: e, retriable: true });
      }
    }
    if (gen !== this.generation) return;
    const cardEpoch = plans.reduce((m, pl) => Math.max(m, pl.epoch), 0);
    const stage = new CardStage(this.rules, (a) => this.emitCard(a), this.cfg.run.idleTimeoutMs, this.now);
    const tasks = new Map<number, PartitionTask>();
    const out = this.taskOutput();
    // One duplicate-debit index for all partitions: a merchant's terminals may sit in different partitions.
    const duplicateGroups = new SharedDuplicates();
    for (const pl of plans) tasks.set(pl.p, new PartitionTask(pl.p, pl.epoch, pl.floor, pl.starts, this.rules, stage.source(pl.p), out, duplicateGroups));
    this.state = { gen, tasks, stage, ledger, cardEpoch };
    this.stats.rebuilds++;
    if (plans.length > 0) {
      this.log('info', `rebuilt ${plans.length} partition${plans.length > 1 ? 's' : ''}: ${plans.map((pl) => `p${pl.p} from ${STREAMS.map((s) => pl.starts[s]).join('/')} (epoch ${pl.epoch}${Number.isFinite(pl.floor) ? `, floor ${new Date(pl.floor).toISOString()}` : ''})`).join('; ')}`);
    }
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
    const old = this.state;
    if (old === null || old.tasks.size === 0 || old.tasks.size !== this.assignment.length || !this.assignment.every((p) => old.tasks.has(p))) return null;
    // No commit of the old state while deciding: if another member owned the partitions in between, ours would overwrite its offsets.
    this.holdCommits = true;
    let plans: RebuildPlan[];
    try {
      plans = await this.plan();
    } finally {
      this.holdCommits = false;
    }
    if (gen !== this.generation || this.state !== old) return null;
    if (!plans.every((pl) => pl.epoch === old.tasks.get(pl.p)!.epoch + 1)) return plans;
    for (const t of old.tasks.values()) for (const s of STREAMS) this.consumer.seek({ topic: this.cfg.topics[s], partition: t.partition, offset: String(t.logs[s].next) });
    this.state = { ...old, gen };
    this.stats.keptStates++;
    this.log('info', `kept the state of ${old.tasks.size} partition${old.tasks.size > 1 ? 's' : ''} across the rebalance: same partitions, no other owner since (epochs unchanged), nothing re-read`);
    return 'kept';
  }

  private plan(): Promise<RebuildPlan[]> {
    return planRebuild(this.admin, this.cfg.kafka.groupId, this.cfg.topics, this.assignment, this.cfg.kafka.fromBeginning, (m) => this.log('warn', m));
  }

  private taskOutput(): TaskOutput {
    return {
      anomaly: (task, a) => {
        const st = this.state;
        if (st !== null && !st.ledger.admit(a)) return;
        const b = st === null ? a : st.ledger.withStoredEvidence(a);
        this.write({ ...b, version: epochVersion(task.epoch, b.version) });
      },
      transaction: (task, t) => this.sink.transaction({ ...t, version: epochVersion(task.epoch, t.version) }),
      late: (_task, stream, event, ref) => this.sink.lateEvent({ stream, event, ref }),
    };
  }

  private emitCard(a: Anomaly): void {
    const st = this.state;
    if (st === null) return;
    if (!st.ledger.admit(a)) return;
    this.write({ ...a, version: epochVersion(st.cardEpoch, a.version) });
  }

  private write(found: Anomaly): void {
    const a = this.suppressor?.stamp(found) ?? found;
    this.summary.anomaly(a);
    this.sink.anomaly(a);
    this.opts.onAnomaly?.(a);
  }

  // ------------------------------------------------------------------ consume

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    if (this.stopping || this.finishing) return;
    this.activeBatches++;
    try {
      await this.handleBatch(p);
    } finally {
      this.activeBatches--;
      if (this.activeBatches === 0) for (const w of this.batchesIdle.splice(0)) w();
    }
  }

  /** heartbeat() that, when the group is rebalancing, first commits what is safe (our onPartitionsRevoked). */
  private async beat(p: EachBatchPayload): Promise<void> {
    try {
      await p.heartbeat();
    } catch (e) {
      if (isRebalancing(e)) {
        await this.commit('partitions revoked').catch((c) => this.log('warn', `commit on revoke failed: ${(c as Error).message}`));
      }
      throw e;
    }
  }

  /** Waits for `task`, heartbeating, so a slow step never costs the group membership. */
  private async withHeartbeats<T>(p: EachBatchPayload, task: Promise<T>): Promise<T> {
    let settled = false;
    const t = task.finally(() => {
      settled = true;
    });
    while (!settled) {
      await Promise.race([t.then(() => undefined, () => undefined), sleep(Math.max(100, Math.floor(this.cfg.kafka.heartbeatIntervalMs / 2)))]);
      if (!settled) await this.beat(p);
    }
    return t;
  }

  private async handleBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const gen = this.generation;
    await this.withHeartbeats(p, this.ensureState(gen));
    const st = this.state;
    if (st === null || st.gen !== gen || p.isStale() || !p.isRunning()) return;
    const task = st.tasks.get(batch.partition);
    const stream = this.streamOf.get(batch.topic);
    if (task === undefined || stream === undefined) return;
    const log = task.logs[stream];
    this.highWater.set(`${batch.topic}:${batch.partition}`, Number(batch.highWatermark));
    const msgs = batch.messages;
    // Records before our start offset can come with a batch that began earlier: skip them.
    let i = 0;
    while (i < msgs.length && Number(msgs[i].offset) < log.next) i++;
    if (i === msgs.length) return;
    await this.prepare(p, stream, msgs, i);
    const source = batch.topic;
    const part = batch.partition;
    let sinceBeat = 0;
    // Resolved once per chunk, not per record: kafkajs parses every offset into a Long.
    let consumed: string | null = null;
    for (; i < msgs.length; i++) {
      if (this.stopping || this.finishing || gen !== this.generation) break;
      const m = msgs[i];
      this.consume(st, task, stream, source, part, m);
      consumed = m.offset;
      if (++sinceBeat >= 500) {
        p.resolveOffset(consumed);
        consumed = null;
        sinceBeat = 0;
        // A macrotask turn, not just a resolved await: the embedded engine's
        // insert completions wait in the I/O queue, and the sink starts its
        // next insert only once it sees them. Without this turn ClickHouse sat
        // idle through most of each long batch (docs/kafka.md, "Throughput").
        await yieldToIo();
        await this.beat(p);
        if (p.isStale()) break;
      }
    }
    if (consumed !== null) p.resolveOffset(consumed);
    st.stage.touch(part);
    const now = this.now();
    for (const t of st.tasks.values()) t.deliverForeign(false, now, this.cfg.run.idleTimeoutMs);
    const due = st.ledger.retractionsDue(part, task.engine.watermark, this.rules().debits.reversalGraceMs, task.floorAtStart);
    for (const a of due) this.write({ ...a, version: epochVersion(task.epoch, 1) });
    await this.beat(p);
    this.backpressure();
    if (this.endOffsets !== null) this.checkEnd();
  }

  /** Resolves the schema ids of the batch, waiting (with heartbeats) while the registry is unreachable. */
  private async prepare(p: EachBatchPayload, stream: Stream, msgs: KafkaMessage[], from: number): Promise<void> {
    let delay = 200;
    for (;;) {
      try {
        await this.withHeartbeats(p, this.decoder.prepare(stream, from === 0 ? msgs.map((m) => m.value) : msgs.slice(from).map((m) => m.value)));
        return;
      } catch (e) {
        if (!(e instanceof PosguardError) || !e.retriable || this.stopping) throw e;
        this.log('warn', `${e.code}: ${e.message}; retrying in ${delay} ms (partition not advanced)`);
        await this.withHeartbeats(p, sleep(delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private consume(st: Generation, task: PartitionTask, stream: Stream, topic: string, partition: number, m: KafkaMessage): void {
    this.stats.records++;
    const offset = Number(m.offset);
    const d = this.decoder.decode(stream, m.value);
    if (d.ok) {
      const e = d.event;
      this.stats.events++;
      this.opts.metrics?.event(stream, e);
      task.logs[stream].add(offset, e.event_time);
      const ref = { source: topic, partition, offset: m.offset };
      this.sink.rawEvent({ stream, event: e, ref });
      if (stream === 'bank') st.ledger.noteBank(partition, (e as BankEvent).rrn);
      task.push(stream, e, ref);
      if (stream !== 'terminal' && (e as { orig_rrn: string | null }).orig_rrn !== null && st.tasks.size > 1) {
        const now = this.now();
        for (const other of st.tasks.values()) if (other !== task) other.offerForeign(stream, e, ref, now);
      }
      return;
    }
    task.logs[stream].add(offset, null);
    this.stats.poison[d.kind]++;
    this.opts.metrics?.decodeError(stream, d.kind);
    this.summary.bad[stream]++;
    const reason = scrubPans(d.reason);
    this.sink.deadLetter({
      source: topic, stream, line: null, partition, offset: m.offset, reason: `${d.kind}: ${reason}`,
      payload: poisonPayload(m.value, d.ok ? undefined : d.value), received_at: this.now(),
    });
    const v = dlqValue(m.value, d.value);
    this.dlq.publish({
      stream, topic, partition, offset: m.offset, timestamp: m.timestamp, key: m.key ?? null,
      value: v.value, scrubbed: v.scrubbed, kind: d.kind, reason,
    });
  }

  // -------------------------------------------------------------- backpressure

  /** The sink is behind: stop fetching every input topic until it drains. */
  private backpressure(): void {
    if (this.paused || this.store === null || this.store.backlog() < this.cfg.output.sinkHighWaterRows) return;
    this.paused = true;
    this.stats.pauses++;
    const all = this.topics.map((topic) => ({ topic }));
    this.consumer.pause(all);
    void this.sink.drain().then(() => {
      this.paused = false;
      if (!this.stopping && !this.finishing) this.consumer.resume(all);
    });
  }

  // ------------------------------------------------------------------ commit

  /**
   * Snapshots the safe offsets of every partition, makes everything produced
   * so far durable (sink flush, dead letters acknowledged), then commits.
   * One commit at a time; a request during a commit waits for it and runs again.
   */
  commit(why: string): Promise<void> {
    if (this.committing !== null) return this.committing.then(() => this.commit(why));
    const p = this.doCommit(why).finally(() => {
      this.committing = null;
    });
    this.committing = p;
    return p;
  }

  private lastCommitted = new Map<string, string>();
  /** topic:partition → high watermark of its last batch, for the lag in the status line. */
  private readonly highWater = new Map<string, number>();

  /** Records behind the high watermarks of the assigned partitions (null while one has not reported yet). */
  lag(): number | null {
    const st = this.state;
    if (st === null) return null;
    let lag = 0;
    for (const t of st.tasks.values()) {
      for (const s of STREAMS) {
        const hw = this.highWater.get(`${this.cfg.topics[s]}:${t.partition}`);
        if (hw === undefined) {
          if (t.logs[s].next === t.logs[s].start && this.endOffsets?.get(`${this.cfg.topics[s]}:${t.partition}`) === t.logs[s].start) continue;
          return null;
        }
        lag += Math.max(0, hw - t.logs[s].next);
      }
    }
    return lag;
  }

  private async doCommit(_why: string): Promise<void> {
    const st = this.state;
    if (st === null || st.tasks.size === 0 || this.holdCommits) return;
    // One floor for the whole process: a reversal read on partition q may settle a debit of partition p.
    const tasks = [...st.tasks.values()];
    const active = tasks.filter((t) => !t.untouched());
    let floor = Infinity;
    for (const t of active) floor = Math.min(floor, t.floorNow());
    const snaps = tasks.map((t) => ({ t, s: active.includes(t) ? t.commitAt(floor) : t.commitAt(t.floor) }));
    await this.sink.flush();
    await this.dlq.flush();
    // Closed meanwhile (the drain committed already), or a new generation owns the state now: commit anyway only if still connected.
    if (this.closed) return;
    const entries: { topic: string; partition: number; offset: string; metadata: string }[] = [];
    const report: { partition: number; topic: string; offset: number; floor: number }[] = [];
    for (const { t, s } of snaps) {
      for (const stream of STREAMS) {
        const topic = this.cfg.topics[stream];
        const key = `${topic}:${t.partition}`;
        const val = `${s.offsets[stream]}|${s.metadata}`;
        if (this.lastCommitted.get(key) === val) continue;
        entries.push({ topic, partition: t.partition, offset: String(s.offsets[stream]), metadata: s.metadata });
        report.push({ partition: t.partition, topic, offset: s.offsets[stream], floor: s.floor });
      }
    }
    if (entries.length === 0) return;
    await kafkaCall('commit offsets', () => this.consumer.commitOffsets(entries));
    if (floor !== Infinity) for (const t of active) t.floor = Math.max(t.floor, floor);
    for (const e of entries) this.lastCommitted.set(`${e.topic}:${e.partition}`, `${e.offset}|${e.metadata}`);
    this.stats.commits++;
    this.opts.onCommit?.(report);
  }

  // -------------------------------------------------------------- periodic

  private tick(): void {
    const st = this.state;
    if (st !== null && !this.finishing) {
      const now = this.now();
      for (const t of st.tasks.values()) t.deliverForeign(false, now, this.cfg.run.idleTimeoutMs);
      st.stage.pump(); // idle sources stop holding card patterns back
    }
    if (this.endOffsets !== null) this.checkEnd();
    const every = this.cfg.run.statusIntervalMs;
    const now = this.now();
    if (every > 0 && now - this.lastStatus.at >= every && !this.stopping) {
      const rate = this.lastStatus.at === 0 ? 0 : Math.round(((this.stats.records - this.lastStatus.records) * 1000) / (now - this.lastStatus.at));
      this.lastStatus = { at: now, records: this.stats.records };
      this.log('info', this.statusLine(rate));
    }
  }

  statusLine(rate: number): string {
    const st = this.state;
    const tasks = st ? [...st.tasks.values()] : [];
    const open = tasks.reduce((n, t) => n + t.engine.openAttempts(), 0);
    const wms = tasks.map((t) => t.engine.watermark).filter((w) => Number.isFinite(w));
    const w = wms.length > 0 ? new Date(Math.min(...wms)).toISOString() : '-';
    const kinds = Object.entries(this.summary.countsByKind()).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ') || 'none';
    const poison = Object.values(this.stats.poison).reduce((a, b) => a + b, 0);
    const lag = this.lag();
    return `${this.stats.records} records (${rate}/s), lag ${lag ?? '?'}, ${poison} dead-lettered, ${this.stats.commits} commits | partitions ${tasks.map((t) => t.partition).join(',') || '-'} | min watermark ${w} | open attempts ${open} | sink backlog ${this.store?.backlog() ?? '-'}${this.paused ? ' (paused)' : ''} | anomalies: ${kinds}`;
  }

  private checkEnd(): void {
    const st = this.state;
    const ends = this.endOffsets;
    if (st === null || ends === null || this.finishing || this.stopping || st.gen !== this.generation) return;
    if (st.tasks.size === 0) return;
    for (const t of st.tasks.values()) {
      const e = {} as Record<Stream, number>;
      for (const s of STREAMS) e[s] = ends.get(`${this.cfg.topics[s]}:${t.partition}`) ?? 0;
      if (!t.reached(e)) return;
    }
    void this.finish();
  }

  // ----------------------------------------------------------------- drain

  private waitBatches(): Promise<void> {
    if (this.activeBatches === 0) return Promise.resolve();
    return new Promise((r) => this.batchesIdle.push(r));
  }

  /**
   * End of a bounded input (--until-end): every pending decision is taken
   * (engine.end(): the watermark jumps to +infinity), the results are made
   * durable, and the offsets committed are the safe ones from before the
   * jump, so a later run continuing the stream still rebuilds correctly.
   */
  private async finish(): Promise<void> {
    if (this.finishing || this.stopping) return;
    this.finishing = true;
    try {
      this.consumer.pause(this.topics.map((topic) => ({ topic })));
      await this.waitBatches();
      const st = this.state;
      if (st !== null) {
        await this.commit('end of input (before the final decisions)');
        for (const t of st.tasks.values()) t.deliverForeign(true, this.now(), 0);
        for (const t of st.tasks.values()) t.engine.end();
        st.stage.pump();
        for (const t of st.tasks.values()) {
          for (const a of st.ledger.retractionsDue(t.partition, Infinity, 0, t.floorAtStart)) this.write({ ...a, version: epochVersion(t.epoch, 1) });
        }
      }
      this.log('info', 'end of input reached: every pending decision taken');
      await this.close('end-of-input');
    } catch (e) {
      await this.fail(e);
    }
  }

  /** SIGTERM/SIGINT: stop fetching, flush, commit, leave the group, close. Bounded by shutdownTimeoutMs. */
  async stop(reason = 'stop requested'): Promise<RunResult> {
    if (this.stopping || this.finishing || this.closed) return this.done;
    this.stopping = true;
    this.log('info', `${reason}: draining (stop fetching, flush, commit, leave the group)`);
    const deadline = sleep(this.cfg.run.shutdownTimeoutMs).then(() => 'timeout' as const);
    const drain = (async () => {
      try {
        this.consumer?.pause(this.topics.map((topic) => ({ topic })));
      } catch {
        // not running yet
      }
      await this.waitBatches();
      if (this.building !== null) await this.building.promise.catch(() => undefined);
      await this.commit('shutdown');
      return 'ok' as const;
    })();
    const r = await Promise.race([drain.catch((e: unknown) => e), deadline]);
    if (r !== 'ok') {
      this.log('error', r === 'timeout' ? `shutdown did not finish within ${this.cfg.run.shutdownTimeoutMs} ms: leaving without the last commit (a restart re-reads from the previous one)` : `final commit failed: ${(r as Error)?.message ?? String(r)} (a restart re-reads from the previous commit)`);
      await this.store?.abort('shutdown timeout').catch(() => undefined);
    }
    await this.close('stopped');
    return this.done;
  }

  private closed = false;

  private async close(reason: RunResult['reason']): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.dlq?.flush().catch((e) => this.log('warn', (e as Error).message));
    this.stats.deadLettersSent = this.dlq?.sent ?? 0;
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.suppressor?.close();
    await this.store?.close().catch((e) => this.log('error', `closing the sink: ${(e as Error).message}`));
    const counters = zeroCounters();
    addCounters(counters, this.retired);
    if (this.state !== null) {
      for (const t of this.state.tasks.values()) {
        addCounters(counters, t.counters);
        this.stats.suppressedBelowFloor += t.suppressedBelowFloor;
        this.stats.foreignDelivered += t.foreignDelivered;
      }
      this.mergeLedgerStats(this.state.ledger);
    }
    this.resolveDone({ reason, summary: this.summary, stats: this.stats, counters, elapsedMs: this.now() - this.started });
  }

  private mergeLedgerStats(l: Ledger): void {
    const s = this.stats.ledger;
    s.loaded += l.stats.loaded;
    s.suppressedIdentical += l.stats.suppressedIdentical;
    s.suppressedLaterTrigger += l.stats.suppressedLaterTrigger;
    s.retracted += l.stats.retracted;
  }

  private async fail(e: unknown, log = true): Promise<void> {
    if (this.closed) return;
    this.stopping = true;
    if (log) this.log('error', (e as Error)?.message ?? String(e));
    for (const t of this.timers) clearInterval(t);
    this.closed = true;
    this.suppressor?.close();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    if (this.store !== null) await this.store.abort('fatal error').catch(() => undefined);
    else await this.handle?.close().catch(() => undefined);
    this.rejectDone(e);
  }
}
