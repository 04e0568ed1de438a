/**
 * When the consumer fetches (kafka-source.ts): every input topic paused while
 * the sink is behind (backpressure), and single topic-partitions paused while
 * they run ahead in event time during a catch-up (alignment.ts). One owner,
 * because kafkajs' pauses interact: pausing a partition of a wholly paused
 * topic un-pauses the topic, and resuming a whole topic lifts the pauses of
 * its partitions.
 */
import type { Consumer } from 'kafkajs';
import { applyAlignment, InputAlignment, type AlignedInput } from './alignment.js';

export interface InputFlowOptions {
  readonly topics: readonly string[];
  readonly alignAheadMs: number;
  readonly sinkHighWaterRows: number;
  readonly stats: { pauses: number; alignmentPauses: number };
  /** The sink's backlog (null while closed) and a promise that it has drained. */
  readonly output: { backlog(): number | null; drain(): Promise<void> };
  /** True once the run drains: nothing is resumed any more. */
  readonly draining: () => boolean;
}

export class InputFlow {
  private state: 'fetching' | 'paused-for-sink' = 'fetching';
  private readonly alignment: InputAlignment;

  constructor(private readonly o: InputFlowOptions) {
    this.alignment = new InputAlignment(o.alignAheadMs);
  }

  get pausedForSink(): boolean {
    return this.state === 'paused-for-sink';
  }

  /** The sink is behind: stop fetching every input topic until it drains. */
  backpressure(consumer: Consumer): void {
    const backlog = this.o.output.backlog();
    if (this.state === 'paused-for-sink' || backlog === null || backlog < this.o.sinkHighWaterRows) return;
    this.state = 'paused-for-sink';
    this.o.stats.pauses++;
    const all = this.o.topics.map((topic) => ({ topic }));
    consumer.pause(all);
    void this.o.output.drain().then(() => {
      this.state = 'fetching';
      if (this.o.draining()) return;
      consumer.resume(all);
      const aligned = this.alignment.pausedInputs();
      if (aligned.length > 0) consumer.pause(aligned);
    });
  }

  /** A new assignment: alignment pauses are lifted (the next batch decides again for what is held now). */
  reset(consumer: Consumer | null): void {
    const aligned = this.alignment.pausedInputs();
    this.alignment.retain(new Set());
    if (consumer !== null && aligned.length > 0 && this.state === 'fetching') consumer.resume(aligned);
  }

  /** Pauses inputs running ahead in event time and resumes those back within (not while the sink holds everything). */
  align(consumer: Consumer, inputs: () => readonly AlignedInput[]): void {
    if (!this.alignment.enabled || this.state === 'paused-for-sink' || this.o.draining()) return;
    applyAlignment(consumer, this.alignment.decide(inputs()), this.o.stats);
  }
}
