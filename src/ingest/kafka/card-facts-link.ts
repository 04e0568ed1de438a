/**
 * The card-facts topic on Kafka (issue 14; docs/architecture.md, "The
 * internal topic"): both ends of the repartition, as bytes. The runtime gives
 * it records to write (stage 1) and targets to read into (stage 2); it never
 * sees a fact.
 *
 * Writing: records are buffered and sent in order, one batch at a time, on
 * one idempotent producer (acks=all, unbounded retries), so in every
 * partition a watermark stands behind the facts it covers and a retry never
 * duplicates or reorders. `flush()` resolves once every record handed over
 * is acknowledged: the input offsets are committed only after it, so a crash
 * never loses a fact between the stages (at least once; stage 2 drops a
 * fact read twice by its event_id).
 *
 * Reading: a consumer in its own group (`<group>.card-facts`), partitions
 * spread over the members by Kafka's default assigner. A partition given to
 * a member is read from its earliest retained record (the retention covers
 * the longest card look-back), so its windows are rebuilt whole; before
 * that, the member claims the partition's next epoch in the group's commit
 * metadata (offset = that earliest record), and the anomalies it writes
 * carry the epoch in their version, so a later owner's versions win.
 *
 * Memory: the records waiting for the brokers count in the run's output
 * backlog (backlog()), so fetching pauses at output.sinkHighWaterRows as for
 * a slow sink.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../../util/log.js';
import { PosguardError } from '../../errors.js';
import { ensureCardFactsTopic, isRebalancing, kafkaCall } from './topics.js';
import type { RunConfig } from '../../config/run-config.js';

/** Where stage 2's records go (implemented by the runtime's stage 2). */
export interface CardFactsTargets {
  /** Generation `gen` of the card-facts group gave this member `partitions`, each read from `start` with epoch `epoch`. */
  assigned(gen: number, partitions: readonly { partition: number; start: number; epoch: number }[]): void;
  /** One record of `partition`, in offset order. */
  record(gen: number, partition: number, offset: number, value: Buffer | null): void;
}

export interface CardFactsLinkOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topic: string;
  /** The stage-2 consumer group: `<kafka.groupId>.card-facts`. */
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly log: Logger;
  readonly onFatal: (e: PosguardError) => void;
}

const LINGER_MS = 20;

export class CardFactsLink {
  private producer: Producer | null = null;
  private consumer: Consumer | null = null;
  private queue: { topic: string; partition: number; key: string | null; value: Buffer }[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private sending = 0;
  private timer: NodeJS.Timeout | null = null;
  private targets: CardFactsTargets | null = null;
  private generation = 0;
  private failed: PosguardError | null = null;
  private closing = false;
  sent = 0;
  /** Log end of each partition read, as the last fetched batch saw it (stage 2's lag). */
  readonly highWatermarks = new Map<number, number>();

  constructor(private readonly o: CardFactsLinkOptions) {}

  async openProducer(): Promise<void> {
    const producer = (this.producer = this.o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 } }));
    await kafkaCall('connect the card-facts producer', () => producer.connect());
  }

  // ------------------------------------------------------------------ write

  send(partition: number, key: string | null, value: Buffer): void {
    this.queue.push({ topic: this.o.topic, partition, key, value });
    if (this.queue.length >= 10_000) this.pump();
    else if (this.timer === null) this.timer = setTimeout(() => this.pump(), LINGER_MS);
  }

  /** Records waiting for the brokers. */
  backlog(): number {
    return this.queue.length + this.sending;
  }

  /** Resolves once every record handed over so far is acknowledged; rejects if a send failed for good. */
  async flush(): Promise<void> {
    this.pump();
    await this.inFlight;
    if (this.failed !== null) throw this.failed;
  }

  private pump(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0 || this.producer === null) return;
    const batch = this.queue;
    this.queue = [];
    const producer = this.producer;
    // Counted from now: a batch waiting behind the one in flight is still backlog.
    this.sending += batch.length;
    this.inFlight = this.inFlight.then(async () => {
      try {
        if (this.failed !== null) return;
        await producer.send({ topic: this.o.topic, acks: -1, messages: batch.map((m) => ({ partition: m.partition, key: m.key, value: m.value })) });
        this.sent += batch.length;
      } catch (e) {
        // kafkajs retried without bound: what is left is fatal (a fact lost would make stage 2 wrong).
        this.failed = new PosguardError('PG_KAFKA', `cannot write to ${this.o.topic}: ${(e as Error).message}`, { cause: e });
        this.o.onFatal(this.failed);
      } finally {
        this.sending -= batch.length;
      }
    });
  }

  // ------------------------------------------------------------------- read

  /** Joins the card-facts group and starts reading into `targets`. */
  async startReading(targets: CardFactsTargets): Promise<void> {
    this.targets = targets;
    const consumer = (this.consumer = this.o.kafka.consumer({
      groupId: this.o.groupId, sessionTimeout: this.o.sessionTimeoutMs, heartbeatInterval: this.o.heartbeatIntervalMs, allowAutoTopicCreation: false, retry: { retries: 10 },
    }));
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const parts = (payload.memberAssignment as Record<string, number[]>)[this.o.topic] ?? [];
      this.claimUntilDone(parts, ++this.generation, 1_000);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.o.onFatal(new PosguardError('PG_KAFKA', `the card-facts consumer stopped: ${payload.error?.message ?? 'unknown error'}`, { cause: payload.error }));
    });
    await kafkaCall('connect the card-facts consumer', () => consumer.connect());
    await kafkaCall('subscribe to the card facts', () => consumer.subscribe({ topics: [this.o.topic], fromBeginning: true }));
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, partitionsConsumedConcurrently: 1, eachBatch: (p) => this.eachBatch(p) });
  }

  /** claim(), retried (1 s doubling to 30 s) while its generation lasts: until then the partitions' records are skipped. */
  private claimUntilDone(partitions: readonly number[], gen: number, delayMs: number): void {
    this.claim(partitions, gen).catch((e: unknown) => {
      if (gen !== this.generation || this.closing) return;
      this.o.log.warn(`card-facts partitions ${partitions.join(', ')} not claimed, retrying in ${delayMs} ms: ${(e as Error).message}`);
      setTimeout(() => this.claimUntilDone(partitions, gen, Math.min(delayMs * 2, 30_000)), delayMs).unref();
    });
  }

  /**
   * A new generation: reads each partition's committed epoch, claims the next (committing the earliest
   * retained offset with it), seeks there, and only then hands the partitions to the targets.
   */
  private async claim(partitions: readonly number[], gen: number): Promise<void> {
    const consumer = this.consumer!;
    const committed = await kafkaCall('read the card-facts commits', () => this.o.admin.fetchOffsets({ groupId: this.o.groupId, topics: [this.o.topic] }));
    const metaOf = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p.metadata]));
    const low = new Map((await kafkaCall('read the card-facts offsets', () => this.o.admin.fetchTopicOffsets(this.o.topic))).map((p) => [p.partition, Number(p.low)]));
    const plans = partitions.map((partition) => ({ partition, start: low.get(partition) ?? 0, epoch: epochOf(metaOf.get(partition)) + 1 }));
    if (gen !== this.generation) return;
    if (plans.length > 0) {
      await kafkaCall('claim the card-facts partitions', () => consumer.commitOffsets(plans.map((pl) => ({ topic: this.o.topic, partition: pl.partition, offset: String(pl.start), metadata: JSON.stringify({ e: pl.epoch }) }))));
    }
    if (gen !== this.generation) return;
    for (const pl of plans) consumer.seek({ topic: this.o.topic, partition: pl.partition, offset: String(pl.start) });
    this.o.log.info(`card facts: reading partition${plans.length === 1 ? '' : 's'} ${plans.map((pl) => `${pl.partition} from ${pl.start} (epoch ${pl.epoch})`).join(', ') || 'none'}`);
    this.targets!.assigned(gen, plans);
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const gen = this.generation;
    const t = this.targets!;
    this.highWatermarks.set(p.batch.partition, Number(p.batch.highWatermark));
    for (const m of p.batch.messages) {
      // A seek is pending (a claim moved the partition back to its start): this batch is from before it.
      if (p.isStale()) break;
      t.record(gen, p.batch.partition, Number(m.offset), m.value);
    }
    try {
      await p.heartbeat();
    } catch (e) {
      if (!isRebalancing(e)) throw e;
    }
  }

  /** Stops reading (the group rebalances the partitions to the others at once) and writing (after a flush). */
  async close(): Promise<void> {
    this.closing = true;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.flush().catch((e) => this.o.log.warn((e as Error).message));
    await this.producer?.disconnect().catch(() => undefined);
  }
}

/** The card-facts topic checked (created when missing and run.createDlqTopic allows), and a link with its producer connected. */
export async function openCardFactsLink(o: { kafka: Kafka; admin: Admin; config: RunConfig; inputPartitions: number; log: Logger; onFatal: (e: PosguardError) => void }): Promise<{ link: CardFactsLink; partitions: number }> {
  const { kafka: k, topics, run } = o.config;
  const t = await ensureCardFactsTopic(o.admin, topics.cardFacts, o.inputPartitions, run.createDlqTopic);
  if (t.created) o.log.info(`created the card-facts topic ${topics.cardFacts} (${t.partitions} partitions)`);
  const link = new CardFactsLink({
    kafka: o.kafka, admin: o.admin, topic: topics.cardFacts, groupId: `${k.groupId}.card-facts`, sessionTimeoutMs: k.sessionTimeoutMs,
    heartbeatIntervalMs: k.heartbeatIntervalMs, log: o.log, onFatal: o.onFatal,
  });
  await link.openProducer();
  return { link, partitions: t.partitions };
}

function epochOf(metadata: string | null | undefined): number {
  try {
    const e = (JSON.parse(metadata ?? '') as { e?: unknown }).e;
    return Number.isSafeInteger(e) && (e as number) >= 0 ? (e as number) : -1;
  } catch {
    return -1;
  }
}
