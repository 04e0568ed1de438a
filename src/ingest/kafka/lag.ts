/**
 * Two distances from a partition's log end, computed at scrape time:
 *
 * - **lag** = log-end offset − the consumer's position (the next offset this
 *   process will take). What `PosguardConsumerLagHigh` needs: how far behind
 *   the input the detector reads. Only for partitions this process holds (a
 *   standby has no position and reports none, so it never raises the alert).
 * - **commit trail** = log-end offset − the group's committed offset. Commits
 *   trail the input by design (the look-back of the commit rule: at least
 *   R + slack + L ≈ 1 h 47 min of input, docs/kafka.md "Offsets and
 *   restarts"), so this measures what a restart re-reads, not a delay.
 */
import type { PartitionLag } from './source-context.js';

export interface PartitionEnd {
  readonly partition: number;
  /** Log-end offset (high watermark). */
  readonly high: number;
  /** First offset still in the log. */
  readonly low: number;
}

/**
 * One entry per partition of `topic`: `lag` when `position` knows the
 * partition, `commitTrail` from the committed offset (or the log start when
 * the group has committed nothing: everything is still to be read).
 */
export function partitionLags(
  topic: string,
  ends: readonly PartitionEnd[],
  committed: (partition: number) => number | null,
  position: (partition: number) => number | undefined,
): PartitionLag[] {
  return ends.map((e) => {
    const c = committed(e.partition);
    const trail = Math.max(0, e.high - (c !== null && c >= 0 ? c : e.low));
    const pos = position(e.partition);
    return pos === undefined ? { topic, partition: e.partition, lag: null, commitTrail: trail } : { topic, partition: e.partition, lag: Math.max(0, e.high - pos), commitTrail: trail };
  });
}
