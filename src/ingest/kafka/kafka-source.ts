/**
 * The Kafka source of `posguard run`: connects (co-partitioning check,
 * dead-letter topic and producer, decoder), holds the consumer-group
 * membership, fetches (eachBatch, heartbeating through every slow step),
 * decodes, sends poison records to the dead-letter topic, pauses fetching
 * while the sink is behind, and commits offsets only once what they produced
 * is durable (commit-after-durable, docs/kafka.md).
 *
 * It pushes into `PartitionTargets` (the task manager) and knows nothing of
 * engines or ClickHouse: what is safe to commit comes from the targets, what
 * "durable" means from `flushOutputs`. A rebalance is a rebuild (task-manager.ts).
 */
import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import type { RunConfig } from '../../config/run-config.js';
import { PosguardError } from '../../errors.js';
import { STREAMS, type Stream } from '../../events/index.js';
import type { Logger } from '../../util/log.js';
import { createAssigner, partitionNumbers } from './assigner.js';
import { checkKafkaAccess, createKafka, kafkaClientOptions } from './client.js';
import { AvroDecoder, ConfluentDecoder, JsonDecoder, type ValueDecoder } from './codec.js';
import { DeadLetterPublisher } from './dlq.js';
import { openCardFactsLink, type CardFactsLink } from './card-facts-link.js';
import type { CommitEntry, CommitPlan, GroupOffsets, PartitionTargets } from './partition-targets.js';
import type { CheckpointObserver, CheckpointStore } from '../checkpoint-store.js';
import { openStateStore } from './checkpoint/open.js';
import { claimEpochs, planRebuild, type RebuildPlan } from './rebuild.js';
import { RecordPlacement } from './record-placement.js';
import { Registry, registryOptions } from './registry.js';
import { groupLags } from './lag.js';
import { heldInputs } from './alignment.js';
import { InputFlow } from './input-flow.js';
import { SourceBatches } from './source-batches.js';
import type { PartitionLag, SourceReports, SourceRunState, SourceStats } from './source-context.js';
import { checkCoPartitioned, inputTopics, isRebalancing, kafkaCall, partitionCounts, streamOfTopic } from './topics.js';

export interface KafkaSourceOptions {
  readonly config: RunConfig;
  readonly state: SourceRunState;
  readonly stats: SourceStats;
  /** Component "kafka": the source's lines and kafkajs' own. */
  readonly log: Logger;
  readonly metrics?: SourceReports;
  /** Makes everything produced so far durable (the sink's flush): runs before every commit. */
  readonly flushOutputs: () => Promise<void>;
  /** The sink's backlog (null while closed) and a promise that it has drained: fetching pauses in between. */
  readonly output: { backlog(): number | null; drain(): Promise<void> };
  /** Every assigned partition reached the end offsets seen at start (--until-end). */
  readonly onEndOfInput: () => void;
  /** The consumer stopped for good. */
  readonly onFatal: (e: PosguardError) => void;
  readonly onCommit?: (c: { partition: number; topic: string; offset: number; floor: number }[]) => void;
  /**
   * Instead of commit() when the group rebalances (checkpoints on: a barrier).
   * `inBatch`: called from a batch's heartbeat, between two records.
   */
  readonly onRevoke?: (inBatch: boolean) => Promise<unknown>;
  readonly now: () => number;
  /** rules.time.maxFutureMs in force: records stamped further ahead of `now` are dead letters (record-placement.ts). */
  readonly maxFutureMs?: () => number;
}

export class KafkaSource implements GroupOffsets {
  readonly name = 'kafka';
  readonly topics: string[];
  readonly streamOf: Map<string, Stream>;
  private readonly cfg: RunConfig;
  private readonly log: Logger;
  private targets!: PartitionTargets;
  private batches!: SourceBatches;
  private kafka!: Kafka;
  private admin: Admin | null = null;
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private dlq: DeadLetterPublisher | null = null;
  /** The consumer-group generation this member is in (counted from joins). */
  private generation = 0;
  private assignment: number[] = [];
  /** The end offsets seen at start (--until-end), by topic:partition. */
  private endOffsets: Map<string, number> | null = null;
  /** Pauses and resumes of fetching: the sink's backpressure and the event-time alignment. */
  private readonly flow: InputFlow;
  private committing: Promise<void> | null = null;
  private readonly lastCommitted = new Map<string, string>();
  /** Log-end offsets by topic:partition, refreshed by refreshLogEnds() (the feed rules' "caught up"). */
  private readonly logEnds = new Map<string, number>();
  private refreshingLogEnds = false;
  /** The input topics' partition count (after connect). */
  inputPartitions = 0;

  constructor(private readonly o: KafkaSourceOptions) {
    this.cfg = o.config;
    this.log = o.log;
    this.topics = inputTopics(this.cfg.topics);
    this.streamOf = streamOfTopic(this.cfg.topics);
    this.flow = new InputFlow({
      topics: this.topics, alignAheadMs: this.cfg.run.alignAheadMs, sinkHighWaterRows: this.cfg.output.sinkHighWaterRows,
      stats: o.stats, output: o.output, draining: () => o.state.draining,
    });
  }

  /** Where batches go (the task manager); set once, before `connect`. */
  attach(targets: PartitionTargets): void {
    this.targets = targets;
  }

  get pausedForSink(): boolean {
    return this.flow.pausedForSink;
  }

  // ------------------------------------------------------------------ connect

  /** Admin client, co-partitioning check, dead-letter topic, decoder. */
  async connect(): Promise<void> {
    const k = this.cfg.kafka;
    await checkKafkaAccess(kafkaClientOptions(k, k.clientId));
    this.kafka = createKafka({ ...kafkaClientOptions(k, k.clientId), log: this.log });
    const admin = (this.admin = this.kafka.admin());
    await kafkaCall(`connect to ${k.brokers.join(',')}`, () => admin.connect());
    const partitions = (this.inputPartitions = await checkCoPartitioned(admin, this.cfg.topics));
    // Before the group is joined: a wrong registry URL or credentials refuse to run with nothing read (registry-probe.ts).
    const decoder = await this.openDecoder();
    await this.ensureDlqTopic(admin, partitions);
    this.log.info(`input topics ${this.topics.join(', ')}: ${partitions} partitions each (co-partitioned); dead letters to ${this.cfg.topics.dlq}`);
    const maxFutureMs = this.o.maxFutureMs;
    const placement = new RecordPlacement({ partitions, future: maxFutureMs === undefined ? undefined : { now: this.o.now, maxFutureMs } });
    this.batches = new SourceBatches({ ...this.o, decoder, source: this, placement });
  }

  private async openDecoder(): Promise<ValueDecoder> {
    if (this.cfg.input.format !== 'confluent') return this.cfg.input.format === 'json' ? new JsonDecoder() : new AvroDecoder();
    const registry = new Registry({ ...registryOptions(this.cfg.input), clientId: this.cfg.kafka.clientId });
    await registry.probe();
    return new ConfluentDecoder(registry);
  }

  private async ensureDlqTopic(admin: Admin, partitions: number): Promise<void> {
    const dlq = this.cfg.topics.dlq;
    const counts = await partitionCounts(admin, [dlq]);
    if (counts.get(dlq) !== null) return;
    if (!this.cfg.run.createDlqTopic) {
      throw new PosguardError('PG_KAFKA', `the dead-letter topic ${dlq} does not exist; create it (posguard topics create) or allow run.createDlqTopic`);
    }
    await kafkaCall(`create ${dlq}`, () => admin.createTopics({ topics: [{ topic: dlq, numPartitions: partitions }], waitForLeaders: true }));
    this.log.info(`created the dead-letter topic ${dlq} (${partitions} partitions)`);
  }

  /** The dead-letter producer. Idempotent with unbounded retries (kafkajs' requirement): a dead letter is retried until acknowledged, and no offset is committed before that. */
  async openDeadLetters(): Promise<void> {
    const producer = (this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 } }));
    await kafkaCall('connect the dead-letter producer', () => producer.connect());
    this.dlq = new DeadLetterPublisher(producer, this.cfg.topics.dlq, this.cfg.output.dlqMaxQueued);
  }

  /** Joins the group and starts fetching (kafkajs' eachBatch). */
  async join(): Promise<void> {
    if (this.cfg.run.untilEnd) this.endOffsets = await this.fetchEndOffsets();
    const k = this.cfg.kafka;
    const consumer = (this.consumer = this.kafka.consumer({
      groupId: k.groupId,
      partitionAssigners: [createAssigner(k.assignment, () => this.assignment.length > 0)],
      sessionTimeout: k.sessionTimeoutMs,
      heartbeatInterval: k.heartbeatIntervalMs,
      rebalanceTimeout: k.rebalanceTimeoutMs,
      maxBytesPerPartition: k.maxBytesPerPartition,
      maxWaitTimeInMs: k.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      retry: { retries: 10 },
    }));
    this.watchGroup(consumer);
    await kafkaCall('connect the consumer', () => consumer.connect());
    await kafkaCall('subscribe', () => consumer.subscribe({ topics: this.topics, fromBeginning: k.fromBeginning }));
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (p) => this.eachBatch(p) });
  }

  private async fetchEndOffsets(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const topic of this.topics) {
      const offs = await kafkaCall(`read the end offsets of ${topic}`, () => this.admin!.fetchTopicOffsets(topic));
      for (const o of offs) out.set(`${topic}:${o.partition}`, Number(o.high));
    }
    return out;
  }

  // ------------------------------------------------------- group membership

  private watchGroup(consumer: Consumer): void {
    const ev = consumer.events;
    consumer.on(ev.GROUP_JOIN, ({ payload }) => this.onJoin(payload.memberAssignment as Record<string, number[]>, payload.groupId));
    consumer.on(ev.REBALANCING, () => {
      // A rebalance noticed outside eachBatch: make what was safe durable and committed, best effort.
      void (this.o.onRevoke?.(false) ?? this.commit('rebalance')).catch((e) => this.log.warn(`commit before rebalance failed (the new owner re-reads a little more): ${(e as Error).message}`));
    });
    consumer.on(ev.CRASH, ({ payload }) => {
      const msg = payload.error?.message ?? 'unknown error';
      const k = this.cfg.kafka;
      const hint = /supported protocols are incompatible/.test(msg)
        ? ` (the members of group ${k.groupId} run with another --assignment than this one's ${k.assignment}: give every instance the same)`
        : '';
      if (!payload.restart) this.o.onFatal(new PosguardError('PG_KAFKA', `the consumer stopped: ${msg}${hint}`, { cause: payload.error }));
      else this.log.warn(`consumer error, restarting it: ${payload.error?.message}`);
    });
  }

  private onJoin(assignment: Record<string, number[]>, groupId: string): void {
    this.generation++;
    this.assignment = partitionNumbers(assignment, this.topics);
    this.flow.reset(this.consumer);
    this.o.metrics?.rebalance(this.assignment.length);
    const none = this.cfg.kafka.assignment === 'exact' ? 'none: standing by while another member holds them all (assignment exact)' : 'none';
    this.log.info(`joined group ${groupId} (generation ${this.generation}): partitions ${this.assignment.join(', ') || none}`);
    this.targets.assigned(this.generation, this.assignment);
  }

  // ----------------------------------------------------------------- batches

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    if (this.o.state.draining) return;
    await this.batches.run(p, this.targets, () => this.generation, () => {
      this.flow.backpressure(this.consumer!);
      this.align();
      this.checkEnd();
    });
  }

  /** Pauses input running ahead in event time, resumes what came within (alignment.ts): after each batch and every tick. */
  align(): void {
    const gen = this.generation;
    if (this.consumer !== null) this.flow.align(this.consumer, () => heldInputs(this.assignment, this.cfg.topics, (p) => this.targets.target(gen, p), (t, p) => this.logEnd(t, p)));
  }

  /** heartbeat() that, when the group is rebalancing, first commits what is safe (our onPartitionsRevoked). */
  async beat(p: EachBatchPayload): Promise<void> {
    try {
      await p.heartbeat();
    } catch (e) {
      if (isRebalancing(e)) {
        await (this.o.onRevoke?.(true) ?? this.commit('partitions revoked')).catch((c) => this.log.warn(`commit on revoke failed: ${(c as Error).message}`));
      }
      throw e;
    }
  }

  /** --until-end: when every held partition has reached the end offsets seen at start, the input has ended. */
  checkEnd(): void {
    const ends = this.endOffsets;
    if (ends === null || this.o.state.draining) return;
    if (this.targets.reached(this.generation, (s, p) => ends.get(`${this.cfg.topics[s]}:${p}`) ?? 0)) this.o.onEndOfInput();
  }

  /** The end offset seen at start of topic:partition (--until-end), else undefined. */
  endOffset(topic: string, partition: number): number | undefined {
    return this.endOffsets?.get(`${topic}:${partition}`);
  }

  /** The log-end offset of topic:partition: the later of the last fetch's high watermark and the last admin refresh. */
  logEnd(topic: string, partition: number): number | undefined {
    const a = this.logEnds.get(`${topic}:${partition}`);
    const b = this.batches?.highWatermark(topic, partition);
    return a === undefined ? b : b === undefined ? a : Math.max(a, b);
  }

  /**
   * Refreshes the log-end offsets of the input topics in the background (one
   * request at a time): a silent stream-partition gets no fetched batch, so
   * only the admin tells whether it is caught up. A failure keeps the old values.
   */
  refreshLogEnds(): void {
    if (this.refreshingLogEnds || this.admin === null || this.o.state.halted) return;
    this.refreshingLogEnds = true;
    void this.fetchEndOffsets().then((m) => {
      for (const [k, v] of m) this.logEnds.set(k, v);
    }, (e: unknown) => this.log.debug(`log-end offsets not refreshed: ${(e as Error)?.message ?? String(e)}`)).finally(() => {
      this.refreshingLogEnds = false;
    });
  }

  /** Runs `fn` at a batch boundary, nothing pushed meanwhile (a checkpoint barrier; source-batches.ts hold). */
  atBatchBoundary<T>(fn: () => Promise<T>): Promise<T> {
    return this.batches === undefined ? fn() : this.batches.hold(fn);
  }

  /** The checkpoint store on the state topic, created when missing and allowed (checkpoint/open.ts): the start-up check. */
  openCheckpointStore(observer: CheckpointObserver | undefined, log: Logger): Promise<CheckpointStore> {
    return openStateStore({ kafka: this.kafka, admin: this.admin!, config: this.cfg, log, now: this.o.now, observer });
  }

  /** The spread assignment's card-facts topic (created when missing and allowed) and its link, producer connected. */
  openCardFacts(log: Logger): Promise<{ link: CardFactsLink; partitions: number }> {
    return openCardFactsLink({ kafka: this.kafka, admin: this.admin!, config: this.cfg, inputPartitions: this.inputPartitions, log, onFatal: this.o.onFatal });
  }

  /** Stops fetching (a drain); waits for the batch in progress. */
  async pauseAndSettle(): Promise<void> {
    try {
      this.consumer?.pause(this.topics.map((topic) => ({ topic })));
    } catch {
      // not running yet
    }
    await this.batches?.settled();
  }

  // -------------------------------------------------- offsets (GroupOffsets)

  plan(partitions: readonly number[]): Promise<RebuildPlan[]> {
    return planRebuild(this.admin!, this.cfg.kafka.groupId, this.cfg.topics, partitions, this.cfg.kafka.fromBeginning, (m) => this.log.warn(m));
  }

  claim(plans: readonly RebuildPlan[]): Promise<void> {
    return claimEpochs(this.consumer!, this.admin!, this.cfg.kafka.groupId, this.cfg.topics, plans);
  }

  seek(partition: number, offsets: Readonly<Record<Stream, number>>): void {
    for (const s of STREAMS) this.consumer!.seek({ topic: this.cfg.topics[s], partition, offset: String(offsets[s]) });
  }

  async commitsSettled(): Promise<void> {
    await this.committing?.catch(() => undefined);
  }

  async flushDeadLetters(): Promise<void> {
    await this.dlq?.flush();
  }

  // ------------------------------------------------------------------ commit

  /**
   * Snapshots the safe offsets of every partition, makes everything produced
   * so far durable (sink flush, dead letters acknowledged), then commits.
   */
  commit(_why: string): Promise<void> {
    return this.serialCommit(() => this.commitDurable());
  }

  /** Commits a plan whose outputs are durable already (a checkpoint barrier: the checkpoint and everything derived before it). */
  commitExactly(plan: CommitPlan): Promise<void> {
    return this.serialCommit(() => this.commitPlanned(plan));
  }

  private serialCommit(fn: () => Promise<void>): Promise<void> {
    // One commit at a time; a request during a commit waits for it and runs again.
    if (this.committing !== null) return this.committing.then(() => this.serialCommit(fn));
    const p = fn().finally(() => {
      this.committing = null;
    });
    this.committing = p;
    return p;
  }

  private async commitDurable(): Promise<void> {
    const plan = this.targets?.commitPlan() ?? null;
    if (plan === null) return;
    await this.o.flushOutputs();
    await this.dlq!.flush();
    await this.commitPlanned(plan);
  }

  private async commitPlanned(plan: CommitPlan): Promise<void> {
    // Closed meanwhile (the drain committed already): nothing more is committed.
    if (this.o.state.closed) return;
    // The generation it was planned in is gone (a rebalance while the outputs flushed): its offsets are not ours to commit.
    if (!plan.current()) return void this.o.stats.staleCommitsDropped++;
    const entries = plan.entries.filter((e) => this.lastCommitted.get(`${e.topic}:${e.partition}`) !== `${e.offset}|${e.metadata}`);
    if (entries.length === 0) return;
    await kafkaCall('commit offsets', () => this.consumer!.commitOffsets(entries.map((e: CommitEntry) => ({ topic: e.topic, partition: e.partition, offset: String(e.offset), metadata: e.metadata }))));
    plan.committed();
    for (const e of entries) this.lastCommitted.set(`${e.topic}:${e.partition}`, `${e.offset}|${e.metadata}`);
    this.o.stats.commits++;
    this.o.onCommit?.(entries.map((e) => ({ partition: e.partition, topic: e.topic, offset: e.offset, floor: e.floor })));
  }

  // ---------------------------------------------------------- lag and close

  /** Per input partition: lag (end − position, held partitions only) and commit trail (end − committed), fetched at scrape time (lag.ts). */
  consumerLag(): Promise<PartitionLag[]> {
    return this.admin === null ? Promise.resolve([]) : groupLags(this.admin, this.cfg.kafka.groupId, this.topics, (topic, p) => this.targets?.target(this.generation, p)?.next(this.streamOf.get(topic)!));
  }

  /** After a drain: leave the group, acknowledge the last dead letters, disconnect. */
  async close(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.dlq?.flush().catch((e) => this.log.warn((e as Error).message));
    this.o.stats.deadLettersSent = this.dlq?.sent ?? 0;
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** After a fatal error: disconnect everything, nothing flushed. */
  async closeAfterFailure(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** The dead-letter publisher (the batch loop publishes poison records). */
  get deadLetters(): DeadLetterPublisher {
    if (this.dlq === null) throw new PosguardError('PG_INTERNAL', 'a dead letter before the producer was connected');
    return this.dlq;
  }
}
