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
import type { CardFactsPublisher } from './card-facts/publisher.js';
import type { Ledger } from './ledger.js';
import type { SharedDuplicates } from '../../engine/shared-duplicates.js';
import { epochVersion } from '../../ingest/kafka/offsets.js';
import type { PartitionTarget } from '../../ingest/kafka/partition-targets.js';
import type { PartitionTask } from './partition-task.js';
import type { ReversalRouter } from './reversal-router.js';
import type { RunStore } from './run-store.js';

/** The parts one consumer-group generation builds: a task per partition, one card stage, one ledger. */
export interface GenerationParts {
  readonly tasks: Map<number, PartitionTask>;
  readonly stage: CardStage;
  readonly ledger: Ledger;
  /** The duplicate-debit index all partition engines share. */
  readonly duplicates: SharedDuplicates;
  /** Reversals to the engine that holds their debit (reversal-router.ts). */
  readonly reversals: ReversalRouter;
  /** Versions of card-pattern anomalies: above every partition's previous epoch. */
  readonly cardEpoch: number;
  /** Under the spread assignment: each partition's card facts go to the card-facts topic (stage 2 elsewhere), not to `stage`. */
  readonly publishers?: ReadonlyMap<number, CardFactsPublisher>;
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
  /** A record older than its partition's watermark − this changes nothing (the resolution horizon, or the retention when longer). */
  tooOldBelowMs(): number;
  /** A too-old record (counted per stream: posguard_too_old_events_total). */
  tooOld?(stream: Stream): void;
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

  maxEventTime(stream: Stream): number {
    return this.task.maxEventTime(stream);
  }

  event(stream: Stream, e: AnyEvent, ref: SourceRef): void {
    this.task.recordRead(stream);
    const log = this.task.logs[stream];
    if (this.keptAsTooOld(stream, e, ref)) {
      log.add(Number(ref.offset), null);
      return;
    }
    log.add(Number(ref.offset), e.event_time);
    this.take(stream, e, ref, false);
  }

  passOn(stream: Stream, offset: number, eventTime: number | null): void {
    this.task.recordRead(stream);
    this.task.logs[stream].add(offset, eventTime);
  }

  adopt(stream: Stream, e: AnyEvent, ref: SourceRef): boolean {
    if (this.keptAsTooOld(stream, e, ref)) return false;
    this.take(stream, e, ref, true);
    return true;
  }

  /**
   * Older than this partition's watermark minus the resolution horizon (or
   * the engine's retention, when rules make it longer): it can change
   * nothing (feeds.md). Kept with the late events and counted; the
   * caller logs its offset without a time, so it never pins a commit.
   */
  private keptAsTooOld(stream: Stream, e: AnyEvent, ref: SourceRef): boolean {
    if (e.event_time >= this.task.engine.watermark - this.ctx.tooOldBelowMs()) return false;
    this.ctx.store.sink.rawEvent({ stream, event: e, ref });
    this.ctx.store.sink.lateEvent({ stream, event: e, ref });
    this.ctx.tooOld?.(stream);
    return true;
  }

  /** An event this partition's engine owns: its own (`queued` false) or read from another partition (queued until its stream is there). */
  private take(stream: Stream, e: AnyEvent, ref: SourceRef, queued: boolean): void {
    const task = this.task;
    this.ctx.store.sink.rawEvent({ stream, event: e, ref });
    if (stream === 'bank') this.parts.ledger.noteBank(task.partition, (e as BankEvent).rrn);
    // A reversal may settle a debit read from another partition (a refund at the next lane): to the engine holding it.
    const origRrn = stream === 'terminal' ? null : (e as { orig_rrn: string | null }).orig_rrn;
    if (origRrn !== null && this.parts.tasks.size > 1) this.parts.reversals.route(this.parts.tasks, task, { stream, e, ref, origRrn, queued }, this.ctx.now());
    else if (queued) task.offerForeign(stream, e, ref, this.ctx.now());
    else task.push(stream, e, ref);
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
    parts.publishers?.get(task.partition)?.touch();
    const now = ctx.now();
    for (const t of parts.tasks.values()) t.deliverForeign(false, now, ctx.idleTimeoutMs);
    const due = parts.ledger.retractionsDue(task.partition, task.engine.watermark, ctx.reversalGraceMs(), task.floorAtStart);
    for (const a of due) ctx.write({ ...a, version: epochVersion(task.epoch, 1) });
  }
}
