/**
 * Which partition engine of this process gets a reversal (gateway REVERSAL_*,
 * bank REVERSAL_APPLIED / REVERSAL_REJECTED / REFUND_POSTED): the one that
 * holds the attempt it names by orig_rrn. Its orig_rrn may name a debit of
 * another terminal (a refund posted at the next lane), so it may belong to
 * another partition than the one it was read from.
 *
 * Giving it to every engine (as before issue 11) made each engine that did
 * not hold the debit write a golden record of the reversal alone (txn_key
 * `::<rrn>`), inflating `transactions`. Now exactly one engine gets it:
 *  - an engine holds the attempt: that engine (queued until its own stream
 *    has reached the reversal's time, so its watermark never runs ahead);
 *  - none holds it yet (it arrived before its debit): it waits here until an
 *    engine holds the attempt, or until every engine's watermark has passed
 *    its time (the debit, earlier, would have been read by then) or it waited
 *    `idleMs` of wall clock, or the input ends; then the partition it was
 *    read from takes it, as the replay does with a reversal of an unknown rrn.
 *
 * Bound: `pending` holds reversals read while no engine of this process
 * holds their debit, each for at most `idleMs` of wall clock (docs/kafka.md).
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

interface Pending extends Reversal {
  readonly own: PartitionTask;
  /** Wall clock when read. */
  readonly at: number;
}

export class ReversalRouter {
  private pending: Pending[] = [];

  /** A reversal read from (or adopted by) `own`'s partition. */
  route(tasks: ReadonlyMap<number, PartitionTask>, own: PartitionTask, r: Reversal, now: number): void {
    const holder = own.engine.holdsAttempt(r.origRrn) ? own : findHolder(tasks, r.origRrn);
    if (holder === undefined) this.pending.push({ ...r, own, at: now });
    else if (holder === own && !r.queued) own.push(r.stream, r.e, r.ref);
    else holder.offerForeign(r.stream, r.e, r.ref, now);
  }

  /** Places the waiting reversals that can be placed now (`all`: every one, at the end of a bounded input). */
  settle(tasks: ReadonlyMap<number, PartitionTask>, now: number, idleMs: number, all: boolean): void {
    if (this.pending.length === 0) return;
    let minWatermark = Infinity;
    for (const t of tasks.values()) minWatermark = Math.min(minWatermark, t.engine.watermark);
    const keep: Pending[] = [];
    for (const p of this.pending) {
      const holder = findHolder(tasks, p.origRrn);
      const to = holder ?? (all || minWatermark > p.e.event_time || now - p.at > idleMs ? p.own : undefined);
      if (to !== undefined) to.offerForeign(p.stream, p.e, p.ref, now);
      else keep.push(p);
    }
    this.pending = keep;
  }
}

function findHolder(tasks: ReadonlyMap<number, PartitionTask>, rrn: string): PartitionTask | undefined {
  for (const t of tasks.values()) if (t.engine.holdsAttempt(rrn)) return t;
  return undefined;
}
