/**
 * The Kafka source's batch loop: one kafkajs batch (one topic-partition) at a
 * time, decoded record by record into the partition's target, heartbeating
 * through every slow step so a slow registry or a long batch never costs the
 * group membership. Poison records go to the dead-letter topic (raw bytes,
 * PANs scrubbed) and to the target as bad records; the partition goes on.
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { RunConfig } from '../../config/run-config.js';
import { PosguardError } from '../../errors.js';
import type { Stream } from '../../events/index.js';
import { scrubPans } from '../../util/pan.js';
import type { Logger } from '../../util/log.js';
import { dlqValue, poisonPayload, type PoisonKind, type ValueDecoder } from './codec.js';
import type { DeadLetterPublisher } from './dlq.js';
import type { PartitionTarget, PartitionTargets } from './partition-targets.js';
import type { RecordPlacement } from './record-placement.js';
import type { SourceReports, SourceRunState, SourceStats } from './source-context.js';
import { yieldToIo } from '../../util/yield.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Records between two heartbeats (and offset resolutions) inside one batch. */
const RECORDS_PER_BEAT = 500;

export interface SourceBatchesOptions {
  readonly config: RunConfig;
  readonly state: SourceRunState;
  readonly stats: SourceStats;
  readonly log: Logger;
  readonly metrics?: SourceReports;
  readonly decoder: ValueDecoder;
  readonly now: () => number;
  /** Far-future and wrong-partition records (record-placement.ts); absent: every record stays where it was read. */
  readonly placement?: RecordPlacement;
  readonly source: {
    readonly streamOf: ReadonlyMap<string, Stream>;
    readonly deadLetters: DeadLetterPublisher;
    beat(p: EachBatchPayload): Promise<void>;
  };
}

export class SourceBatches {
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  /** topic:partition → high watermark of its last batch, for the lag in the status line. */
  private readonly highWater = new Map<string, number>();

  constructor(private readonly o: SourceBatchesOptions) {}

  /** Set while a checkpoint barrier holds the input (hold()): a new batch waits for it, heartbeating. */
  private gate: Promise<void> | null = null;

  /** Runs one batch into its target; `after` runs when the batch went through to its end. */
  async run(p: EachBatchPayload, targets: PartitionTargets, generation: () => number, after: () => void): Promise<void> {
    while (this.gate !== null) await this.withHeartbeats(p, this.gate);
    this.active++;
    try {
      if (await this.handle(p, targets, generation)) after();
    } finally {
      this.active--;
      if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when no batch is in progress. */
  settled(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Runs `fn` at a batch boundary: new batches wait (heartbeating) and the
   * one in progress finishes first, so nothing is pushed while `fn` runs (a
   * checkpoint barrier). Holds do not nest: a second waits for the first.
   */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    while (this.gate !== null) await this.gate;
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    try {
      await this.settled();
      return await fn();
    } finally {
      this.gate = null;
      release();
    }
  }

  highWatermark(topic: string, partition: number): number | undefined {
    return this.highWater.get(`${topic}:${partition}`);
  }

  /** Waits for `task`, heartbeating, so a slow step never costs the group membership. */
  private async withHeartbeats<T>(p: EachBatchPayload, task: Promise<T>): Promise<T> {
    let settled = false;
    const t = task.finally(() => {
      settled = true;
    });
    while (!settled) {
      await Promise.race([t.then(() => undefined, () => undefined), sleep(Math.max(100, Math.floor(this.o.config.kafka.heartbeatIntervalMs / 2)))]);
      if (!settled) await this.o.source.beat(p);
    }
    return t;
  }

  /** True when the batch was consumed to its end (then backpressure and the end of input are checked). */
  private async handle(p: EachBatchPayload, targets: PartitionTargets, generation: () => number): Promise<boolean> {
    const { batch } = p;
    const gen = generation();
    await this.withHeartbeats(p, targets.ready(gen));
    if (p.isStale() || !p.isRunning()) return false;
    const target = targets.target(gen, batch.partition);
    const stream = this.o.source.streamOf.get(batch.topic);
    if (target === undefined || stream === undefined) return false;
    this.highWater.set(`${batch.topic}:${batch.partition}`, Number(batch.highWatermark));
    const msgs = batch.messages;
    // Records before our start offset can come with a batch that began earlier: skip them.
    const next = target.next(stream);
    let i = 0;
    while (i < msgs.length && Number(msgs[i].offset) < next) i++;
    if (i === msgs.length) return false;
    await this.prepare(p, stream, msgs, i);
    let sinceBeat = 0;
    // Resolved once per chunk, not per record: kafkajs parses every offset into a Long.
    let consumed: string | null = null;
    for (; i < msgs.length; i++) {
      if (this.o.state.draining || gen !== generation()) break;
      const m = msgs[i];
      this.consume(target, stream, batch.topic, batch.partition, m, (q) => targets.target(gen, q));
      consumed = m.offset;
      // Dead letters waiting for the brokers are bounded: at output.dlqMaxQueued the input waits for them.
      if (this.o.source.deadLetters.full) await this.withHeartbeats(p, this.o.source.deadLetters.drained(() => this.o.state.halted));
      if (++sinceBeat >= RECORDS_PER_BEAT) {
        p.resolveOffset(consumed);
        consumed = null;
        sinceBeat = 0;
        // A macrotask turn, not just a resolved await: the embedded engine's
        // insert completions wait in the I/O queue, and the sink starts its
        // next insert only once it sees them. Without this turn ClickHouse sat
        // idle through most of each long batch (docs/kafka.md, "Throughput").
        await yieldToIo();
        await this.o.source.beat(p);
        if (p.isStale()) break;
      }
    }
    if (consumed !== null) p.resolveOffset(consumed);
    target.batchDone();
    await this.o.source.beat(p);
    return true;
  }

  /** Resolves the schema ids of the batch, waiting (with heartbeats) while the registry is unreachable. */
  private async prepare(p: EachBatchPayload, stream: Stream, msgs: KafkaMessage[], from: number): Promise<void> {
    let delay = 200;
    for (;;) {
      try {
        await this.withHeartbeats(p, this.o.decoder.prepare(stream, from === 0 ? msgs.map((m) => m.value) : msgs.slice(from).map((m) => m.value)));
        if (delay > 200) this.o.metrics?.registryUnreachable?.(false);
        return;
      } catch (e) {
        if (!(e instanceof PosguardError) || !e.retriable || this.o.state.halted) throw e;
        this.o.metrics?.registryUnreachable?.(true);
        this.o.log.warn(`${e.code}: ${e.message}; retrying in ${delay} ms (partition not advanced)`);
        await this.withHeartbeats(p, sleep(delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private consume(target: PartitionTarget, stream: Stream, topic: string, partition: number, m: KafkaMessage, targetOf: (p: number) => PartitionTarget | undefined): void {
    this.o.stats.records++;
    const d = this.o.decoder.decode(stream, m.value);
    if (d.ok) {
      const ref = { source: topic, partition, offset: m.offset };
      const placed = this.o.placement?.place(d.event, partition, (q) => targetOf(q) !== undefined);
      if (placed?.to === 'owner' || (placed?.to === 'dead-letter' && placed.kind === 'wrong_partition')) {
        this.o.metrics?.misrouted?.(topic);
        this.o.stats.misrouted++;
      }
      if (placed !== undefined && placed.to === 'dead-letter') {
        this.deadLetter(target, stream, topic, partition, m, placed.kind, placed.reason, d.event);
        return;
      }
      this.o.stats.events++;
      this.o.metrics?.event(stream, d.event);
      if (placed === undefined || placed.to === 'here') {
        target.event(stream, d.event, ref);
        return;
      }
      // Misrouted: its offset stays in this partition's log (a restart re-reads and re-routes it), the owner processes it.
      const taken = targetOf(placed.owner)!.adopt(stream, d.event, ref);
      target.passOn(stream, Number(m.offset), taken ? d.event.event_time : null);
      return;
    }
    this.o.stats.poison[d.kind]++;
    this.o.metrics?.decodeError(stream, d.kind);
    this.deadLetter(target, stream, topic, partition, m, d.kind, `${d.kind}: ${scrubPans(d.reason)}`, d.value);
  }

  /** A record that cannot become an event here: to the target as bad, and to the dead-letter topic. */
  private deadLetter(target: PartitionTarget, stream: Stream, topic: string, partition: number, m: KafkaMessage, kind: PoisonKind, reason: string, decoded: unknown): void {
    if (kind === 'event_time_in_future' || kind === 'wrong_partition') {
      this.o.stats.poison[kind]++;
      this.o.metrics?.deadLetter?.(stream, kind);
    }
    target.bad({ source: topic, stream, line: null, partition, offset: m.offset, reason, payload: poisonPayload(m.value, decoded) });
    const v = dlqValue(m.value, decoded);
    this.o.source.deadLetters.publish({
      stream, topic, partition, offset: m.offset, timestamp: m.timestamp, key: m.key ?? null,
      value: v.value, scrubbed: v.scrubbed, kind, reason: reason.slice(kind.length + 2),
    });
  }
}
