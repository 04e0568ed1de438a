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
import type { Admin } from 'kafkajs';
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

/** Per partition of `topics`: lag and commit trail of `groupId`, read now; `position` is this member's fetch position where it holds the partition. */
export async function groupLags(admin: Admin, groupId: string, topics: readonly string[], position: (topic: string, partition: number) => number | undefined): Promise<PartitionLag[]> {
  const out: PartitionLag[] = [];
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  for (const topic of topics) {
    const ends = (await admin.fetchTopicOffsets(topic)).map((e) => ({ partition: e.partition, high: Number(e.high), low: Number(e.low ?? '0') }));
    const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
    out.push(...partitionLags(topic, ends, (p) => Number(mine.find((m) => m.partition === p)?.offset ?? '-1'), (p) => position(topic, p)));
  }
  return out;
}
