/**
 * Poison records go to the dead-letter topic (default `posguard.dlq`) as they
 * came, keyed as they came, with headers saying why and from where:
 *
 *   posguard.reason            the reason, naming the field (card numbers masked)
 *   posguard.reason.kind       empty | bad_magic_byte | unknown_schema | undecodable | contract
 *                              | event_time_in_future | wrong_partition (decoded, but cannot be placed)
 *   posguard.stream            terminal | gateway | bank
 *   posguard.source.topic      the input topic
 *   posguard.source.partition  its partition
 *   posguard.source.offset     the record's offset
 *   posguard.source.timestamp  the record's Kafka timestamp
 *   posguard.payload           original | scrubbed (a value that looked like it held a card number is masked)
 *   posguard.rejected.at       wall clock, epoch ms
 *
 * Sends are batched in the background; flush() resolves once every dead
 * letter handed over so far is acknowledged by the brokers (acks=all). The
 * runner awaits it before committing, so an offset is never committed past a
 * poison record whose dead letter might be lost.
 *
 * Bounded (docs/semantics.md, "Memory bounds"): at `maxQueued` dead letters
 * waiting for the brokers, `full` turns true and the fetch loop awaits
 * `drained()` before the next record (backpressure: nothing is dropped; a
 * broker that refuses them holds the input, retried with backoff).
 */
import type { Producer } from 'kafkajs';
import { PosguardError } from '../../errors.js';
import { containsPan, maskPans } from '../../util/pan.js';
import { stateCensus } from '../../util/state-census.js';
import type { Stream } from '../../events/index.js';
import type { PoisonKind } from './codec.js';

export interface DeadLetterRecord {
  readonly stream: Stream;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly scrubbed: boolean;
  readonly kind: PoisonKind;
  readonly reason: string;
}

export const DLQ_HEADERS = {
  reason: 'posguard.reason',
  kind: 'posguard.reason.kind',
  stream: 'posguard.stream',
  topic: 'posguard.source.topic',
  partition: 'posguard.source.partition',
  offset: 'posguard.source.offset',
  timestamp: 'posguard.source.timestamp',
  payload: 'posguard.payload',
  rejectedAt: 'posguard.rejected.at',
} as const;

/**
 * The last gate before the topic: the value is masked by the caller
 * (codec.dlqValue, `scrubbed` header), the reason and the key here. A key is
 * normally the terminal_id; one holding a card number is masked as text.
 */
function maskedKey(key: Buffer | null): Buffer | null {
  if (key === null) return null;
  const text = key.toString('latin1');
  return containsPan(text) ? Buffer.from(maskPans(text), 'latin1') : key;
}

/** Default output.dlqMaxQueued. */
export const DLQ_MAX_QUEUED = 10_000;

export class DeadLetterPublisher {
  private queue: DeadLetterRecord[] = [];
  private inFlight: Promise<void> | null = null;
  private failure: unknown = null;
  /** Dead letters handed to the producer and not acknowledged yet. */
  private sending = 0;
  sent = 0;

  constructor(private readonly producer: Producer, readonly topic: string, readonly maxQueued = DLQ_MAX_QUEUED, private readonly sleep = defaultSleep) {
    stateCensus.track('dead_letter_queue', this, (d) => d.pending());
  }

  publish(r: DeadLetterRecord): void {
    this.queue.push(r);
    if (this.pending() === this.maxQueued) stateCensus.capHit('dead_letter_queue');
    if (this.inFlight === null) this.inFlight = this.pump();
  }

  /** At the cap: the caller awaits drained() before publishing more. */
  get full(): boolean {
    return this.pending() >= this.maxQueued;
  }

  /**
   * Resolves once fewer than maxQueued dead letters wait. While the brokers
   * refuse them it retries every 0.2 s doubling to 10 s (the input waits:
   * dead letters are never dropped); `stop()` true ends the wait early.
   */
  async drained(stop: () => boolean = () => false): Promise<void> {
    let delayMs = 200;
    while (this.full && !stop()) {
      if (this.inFlight !== null) {
        await this.inFlight;
        continue;
      }
      await this.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 10_000);
      if (this.inFlight === null && this.full) this.inFlight = this.pump();
    }
  }

  private async pump(): Promise<void> {
    let batch: DeadLetterRecord[] = [];
    try {
      while (this.queue.length > 0) {
        batch = this.queue;
        this.queue = [];
        this.sending = batch.length;
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: batch.map((r) => ({
            key: maskedKey(r.key),
            value: r.value,
            headers: {
              [DLQ_HEADERS.reason]: maskPans(r.reason),
              [DLQ_HEADERS.kind]: r.kind,
              [DLQ_HEADERS.stream]: r.stream,
              [DLQ_HEADERS.topic]: r.topic,
              [DLQ_HEADERS.partition]: String(r.partition),
              [DLQ_HEADERS.offset]: r.offset,
              [DLQ_HEADERS.timestamp]: r.timestamp,
              [DLQ_HEADERS.payload]: r.scrubbed ? 'scrubbed' : 'original',
              [DLQ_HEADERS.rejectedAt]: String(Date.now()),
            },
          })),
        });
        this.sent += batch.length;
        batch = [];
      }
    } catch (e) {
      // kafkajs retried already. Keep the batch for the next attempt and the
      // error for flush(), which must not pretend success.
      this.queue = batch.concat(this.queue);
      this.failure = e;
    } finally {
      this.sending = 0;
      this.inFlight = null;
    }
  }

  /** Resolves when every dead letter published so far is acknowledged; throws PG_KAFKA if one could not be. */
  async flush(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight;
    if (this.failure === null && this.queue.length > 0) {
      this.inFlight = this.pump();
      await this.inFlight;
    }
    if (this.failure !== null) {
      const e = this.failure;
      this.failure = null;
      throw new PosguardError('PG_KAFKA', `cannot write to the dead-letter topic ${this.topic}: ${(e as Error)?.message ?? String(e)}`, { cause: e, retriable: true });
    }
  }

  /** Dead letters not acknowledged yet (waiting or being sent). */
  pending(): number {
    return this.queue.length + this.sending;
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
