/**
 * Event-time alignment of the input during a catch-up (docs/kafka.md,
 * "Alignment").
 *
 * An engine decides on the minimum watermark of its three streams, and the
 * card stage and the shared duplicate index on the minimum over partitions.
 * Reading a backlog, kafkajs fetches the topic-partitions at whatever speed
 * their sizes give: on the 6 h recovery workload the bank topic ran 4.2 h of
 * event time ahead of the terminal topic, so 4 h of bank events waited for
 * their terminal events and the open attempts grew to 1.7 M (heap 3.7 GB of
 * 3.9 GB) instead of the ~200k of live traffic. Kafka Streams picks the next
 * record by timestamp across a task's partitions and Flink pauses sources
 * whose watermark runs ahead; this does the latter: a topic-partition whose
 * largest event time read is more than `aheadMs` past the lowest of those
 * still behind their log end is paused until the others come within
 * `aheadMs`. A caught-up topic-partition (position ≥ log end) holds nothing
 * back, so a quiet or empty stream never stops the others; the lowest one is
 * never paused, so the input always moves.
 *
 * Pure decision over what the source reports; the source pauses and resumes.
 */
import type { Consumer } from 'kafkajs';
import { STREAMS, type Stream } from '../../events/index.js';
import type { PartitionTarget } from './partition-targets.js';

/** One input topic-partition as the source sees it after a batch. */
export interface AlignedInput {
  readonly topic: string;
  readonly partition: number;
  /** Largest event time read (−∞ before any). */
  readonly maxEventTime: number;
  /** Position ≥ log end: nothing to read, it holds nothing back. */
  readonly caughtUp: boolean;
}

export interface AlignmentChange {
  readonly pause: readonly AlignedInput[];
  readonly resume: readonly AlignedInput[];
}

const key = (i: { topic: string; partition: number }) => `${i.topic}:${i.partition}`;

export class InputAlignment {
  /** Paused by alignment, by topic:partition (at most the held topic-partitions). */
  private readonly paused = new Set<string>();
  /** Pauses so far (a metric's worth: how often the input ran apart). */
  pauses = 0;

  constructor(private readonly aheadMs: number) {}

  get enabled(): boolean {
    return this.aheadMs > 0;
  }

  isPaused(topic: string, partition: number): boolean {
    return this.paused.has(`${topic}:${partition}`);
  }

  /**
   * What to pause and resume now. The reference is the lowest largest-event-time
   * among inputs not caught up that have read something: one that has read
   * nothing yet is fetched as usual but holds nothing back (its log end may be
   * unknown until a fetch or the admin says, and an empty one gets no batch
   * that would ever release the others).
   */
  decide(inputs: readonly AlignedInput[]): AlignmentChange {
    let low = Infinity;
    for (const i of inputs) if (!i.caughtUp && i.maxEventTime > -Infinity && i.maxEventTime < low) low = i.maxEventTime;
    const pause: AlignedInput[] = [];
    const resume: AlignedInput[] = [];
    for (const i of inputs) {
      const ahead = this.enabled && !i.caughtUp && i.maxEventTime > low + this.aheadMs;
      const was = this.paused.has(key(i));
      if (ahead && !was) {
        this.paused.add(key(i));
        this.pauses++;
        pause.push(i);
      } else if (!ahead && was) {
        this.paused.delete(key(i));
        resume.push(i);
      }
    }
    return { pause, resume };
  }

  /** Topic-partitions no longer held (revoked): forgotten without a resume. */
  retain(held: ReadonlySet<string>): void {
    for (const k of this.paused) if (!held.has(k)) this.paused.delete(k);
  }

  /** Everything paused by alignment, to pause again after a pause of whole topics was lifted (the sink's). */
  pausedInputs(): { topic: string; partitions: number[] }[] {
    return [...this.paused].map((k) => {
      const at = k.lastIndexOf(':');
      return { topic: k.slice(0, at), partitions: [Number(k.slice(at + 1))] };
    });
  }
}

/** The inputs of the held partitions: per partition and stream, its largest event time and whether it is caught up. */
export function heldInputs(
  partitions: readonly number[],
  topicOf: Readonly<Record<Stream, string>>,
  target: (partition: number) => PartitionTarget | undefined,
  logEnd: (topic: string, partition: number) => number | undefined,
): AlignedInput[] {
  const out: AlignedInput[] = [];
  for (const p of partitions) {
    const t = target(p);
    if (t === undefined) continue;
    for (const s of STREAMS) {
      const end = logEnd(topicOf[s], p);
      out.push({ topic: topicOf[s], partition: p, maxEventTime: t.maxEventTime(s), caughtUp: end !== undefined && t.next(s) >= end });
    }
  }
  return out;
}

/** Applies a decision to the consumer (kafkajs pauses and resumes per topic-partition). */
export function applyAlignment(consumer: Pick<Consumer, 'pause' | 'resume'>, c: AlignmentChange, stats: { alignmentPauses: number }): void {
  if (c.pause.length > 0) consumer.pause(c.pause.map((i) => ({ topic: i.topic, partitions: [i.partition] })));
  if (c.resume.length > 0) consumer.resume(c.resume.map((i) => ({ topic: i.topic, partitions: [i.partition] })));
  stats.alignmentPauses += c.pause.length;
}
