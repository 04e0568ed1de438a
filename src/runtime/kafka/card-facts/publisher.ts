/**
 * Stage 1's end of the card-facts topic (docs/architecture.md, "Carrying
 * watermarks across the repartition"): the card-pattern detector a partition's
 * engine pushes to when stage 2 runs in other processes. Each released fact
 * goes to the card's partition (Kafka's murmur2 of card_token, so every fact
 * of a card lands in one partition); its fact frontier goes as a WATERMARK to
 * every partition, throttled to one per `markerEveryMs`, and again as a
 * heartbeat (tick) so an idle source still speaks.
 *
 * A marker is handed to the output after every fact it covers, and the
 * output keeps order per partition (one producer, idempotent), so in each
 * partition a marker stands behind the facts it vouches for.
 *
 * Memory: a few numbers; nothing is held (the output buffers, bounded there).
 */
import type { CardFact, CardPatternDetector } from '../../../detect/patterns/types.js';
import { partitionForKey } from '../../../ingest/kafka/partitioner.js';
import { encodeFactRecord, encodeWatermark } from './record.js';

/** Appends records to the card-facts topic, in order per partition. */
export interface CardFactsOutput {
  send(partition: number, key: string | null, value: Buffer): void;
}

export interface CardFactsPublisherOptions {
  /** The stage-1 input partition this publisher speaks for. */
  readonly source: number;
  /** Partitions of the card-facts topic. */
  readonly partitions: number;
  /** The writing task's epoch (its commit metadata's), carried by every marker. */
  readonly epoch: number;
  readonly out: CardFactsOutput;
  /** Wall clock, for the throttle only (never in a decision). */
  readonly now: () => number;
  /** At most one marker per this many ms while the frontier moves (heartbeat() sends a held one). */
  readonly markerEveryMs: number;
  /** The input partition counts as idle after this long without an event (touch()); run.idleTimeoutMs. */
  readonly idleAfterMs?: number;
}

export class CardFactsPublisher implements CardPatternDetector {
  /** The fact frontier: no fact older will be pushed, except ones flagged late. */
  private frontier = -Infinity;
  /** The idleness the last markers carried, and when they went. */
  private sentIdle = false;
  private sentAt = -Infinity;
  private lastActivity: number;

  constructor(private readonly o: CardFactsPublisherOptions) {
    this.lastActivity = o.now();
  }

  /** The input partition took an event: not idle. */
  touch(): void {
    this.lastActivity = this.o.now();
  }

  push(f: CardFact): void {
    this.o.out.send(partitionForKey(f.card_token, this.o.partitions), f.card_token, encodeFactRecord(this.o.source, f));
  }

  advance(frontierMs: number): void {
    if (frontierMs <= this.frontier) return;
    this.frontier = frontierMs;
    // The end of a bounded input goes out at once: nothing would send it later.
    if (frontierMs === Infinity || this.o.now() - this.sentAt >= this.o.markerEveryMs) this.mark(this.sentIdle);
  }

  /**
   * Time-driven (every tick): sends the frontier a throttle held back, a change of idleness at once, and
   * otherwise a marker every `markerEveryMs` so stage 2 knows this source is alive. `idle`: the input
   * partition has carried no event for the idle timeout (feeds.md); by default from touch() and idleAfterMs.
   */
  heartbeat(idle = this.o.now() - this.lastActivity > (this.o.idleAfterMs ?? Infinity)): void {
    if (idle !== this.sentIdle || this.o.now() - this.sentAt >= this.o.markerEveryMs) this.mark(idle);
  }

  /** Stage 2 runs elsewhere: no card is held here. */
  activeCards(): number {
    return 0;
  }

  private mark(idle: boolean): void {
    const value = encodeWatermark(this.o.source, this.frontier, this.o.epoch, idle);
    for (let q = 0; q < this.o.partitions; q++) this.o.out.send(q, null, value);
    this.sentIdle = idle;
    this.sentAt = this.o.now();
  }
}
