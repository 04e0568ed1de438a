/**
 * Which partition engine of this process gets a reversal (gateway REVERSAL_*,
 * bank REVERSAL_APPLIED / REVERSAL_REJECTED / REFUND_POSTED): the one that
 * holds the attempt it names by orig_rrn. Its orig_rrn may name a debit of
 * another terminal (a refund posted at the next lane), so it may belong to
 * another partition than the one it was read from.
 *
 * Giving it to every engine (as before issue 11) made each engine that did
 * not hold the debit write a golden record of the reversal alone (txn_key
 * `::<rrn>`), inflating `transactions`. Now:
 *  - an engine of another partition holds the attempt: only that engine gets
 *    it (queued until its own stream has reached the reversal's time, so its
 *    watermark never runs ahead);
 *  - otherwise the partition it was read from takes it at once, and the
 *    others are offered it as before (queued until their own stream reaches
 *    its time: a debit that arrives there meanwhile is settled by it); an
 *    engine that does not hold the attempt when it takes a foreign reversal
 *    makes a reversal-only golden record, which PartitionTask keeps out of
 *    `transactions` (`foreignOnly`): the partition it was read from writes it
 *    once, as the replay does for a reversal of an rrn nobody holds.
 *
 * Stateless: the queues are the tasks' foreign queues, bounded as before.
 */
import type { AnyEvent, SourceRef, Stream } from '../../events/index.js';
import type { PartitionTask } from './partition-task.js';

export interface Reversal {
  readonly stream: Stream;
  readonly e: AnyEvent;
  readonly ref: SourceRef;
  readonly origRrn: string;
  /** Read from another partition than its owner's (misrouted): queued even at its own engine. */
  readonly queued: boolean;
}

export class ReversalRouter {
  /** A reversal read from (or adopted by) `own`'s partition. */
  route(tasks: ReadonlyMap<number, PartitionTask>, own: PartitionTask, r: Reversal, now: number): void {
    const holder = own.engine.holdsAttempt(r.origRrn) ? own : findHolder(tasks, r.origRrn);
    if (holder !== undefined && holder !== own) {
      holder.offerForeign(r.stream, r.e, r.ref, now);
      return;
    }
    if (r.queued) own.offerForeign(r.stream, r.e, r.ref, now);
    else own.push(r.stream, r.e, r.ref);
    // As before issue 11 the others see it too (their engines ignore a reversal they do not hold: PartitionTask
    // keeps the golden record such a foreign reversal alone would make out of `transactions`).
    for (const t of tasks.values()) if (t !== own) t.offerForeign(r.stream, r.e, r.ref, now, r.origRrn);
  }
}

function findHolder(tasks: ReadonlyMap<number, PartitionTask>, rrn: string): PartitionTask | undefined {
  for (const t of tasks.values()) if (t.engine.holdsAttempt(rrn)) return t;
  return undefined;
}
