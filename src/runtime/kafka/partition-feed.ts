/**
 * What the Kafka source pushes into for one input partition number of one
 * generation (a `PartitionTarget`): the partition's task (its engine and
 * offset logs), the raw-event and dead-letter rows for the sink, the ledger's
 * view of bank events, and the reversals shared with the other partitions of
 * this process.
 */
import type { Anomaly } from '../../events/anomaly.js';
import type { RunSummary } from '../summary.js';
import type { AnyEvent, BankEvent, SourceRef, Stream } from '../../events/index.js';
import type { BadRecord } from '../../ingest/source.js';
import type { CardStage } from './card-stage.js';
import type { Ledger } from './ledger.js';
import { epochVersion } from '../../ingest/kafka/offsets.js';
import type { PartitionTarget } from '../../ingest/kafka/partition-targets.js';
import type { PartitionTask } from './partition-task.js';
import type { RunStore } from './run-store.js';

/** The parts one consumer-group generation builds: a task per partition, one card stage, one ledger. */
export interface GenerationParts {
  readonly tasks: Map<number, PartitionTask>;
  readonly stage: CardStage;
  readonly ledger: Ledger;
  /** Versions of card-pattern anomalies: above every partition's previous epoch. */
  readonly cardEpoch: number;
}

/** What every feed shares: the output and the clock. */
export interface FeedContext {
  readonly store: RunStore;
  readonly summary: RunSummary;
  /** Writes an anomaly (suppressions stamped, summary, sink, listeners). */
  write(a: Anomaly): void;
  /** The reversal grace of the rules in force. */
  reversalGraceMs(): number;
  readonly idleTimeoutMs: number;
  readonly now: () => number;
}

export class PartitionFeed implements PartitionTarget {
  constructor(
    private readonly parts: GenerationParts,
    private readonly task: PartitionTask,
    private readonly ctx: FeedContext,
  ) {}

  next(stream: Stream): number {
    return this.task.logs[stream].next;
  }

  event(stream: Stream, e: AnyEvent, ref: SourceRef): void {
    const task = this.task;
    task.recordRead(stream);
    task.logs[stream].add(Number(ref.offset), e.event_time);
    this.ctx.store.sink.rawEvent({ stream, event: e, ref });
    if (stream === 'bank') this.parts.ledger.noteBank(task.partition, (e as BankEvent).rrn);
    task.push(stream, e, ref);
    // A reversal may settle a debit read from another partition (a refund at the next lane).
    if (stream !== 'terminal' && (e as { orig_rrn: string | null }).orig_rrn !== null && this.parts.tasks.size > 1) {
      const now = this.ctx.now();
      for (const other of this.parts.tasks.values()) if (other !== task) other.offerForeign(stream, e, ref, now);
    }
  }

  bad(b: BadRecord & { readonly stream: Stream; readonly offset: string }): void {
    this.task.recordRead(b.stream);
    this.task.logs[b.stream].add(Number(b.offset), null);
    this.ctx.summary.bad[b.stream]++;
    this.ctx.store.sink.deadLetter({ ...b, received_at: this.ctx.now() });
  }

  batchDone(): void {
    const { parts, task, ctx } = this;
    parts.stage.touch(task.partition);
    const now = ctx.now();
    for (const t of parts.tasks.values()) t.deliverForeign(false, now, ctx.idleTimeoutMs);
    const due = parts.ledger.retractionsDue(task.partition, task.engine.watermark, ctx.reversalGraceMs(), task.floorAtStart);
    for (const a of due) ctx.write({ ...a, version: epochVersion(task.epoch, 1) });
  }
}
