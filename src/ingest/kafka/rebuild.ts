/**
 * Where a rebuilt partition starts (docs/kafka.md, "Rebuild"): per assigned
 * partition number, the committed offset of each input topic, the floor and
 * the epoch from the commit metadata, and the claim of the next epoch.
 */
import type { Admin, Consumer } from 'kafkajs';
import { PosguardError } from '../../errors.js';
import { STREAMS, type Stream } from '../../events/index.js';
import { decodeMeta, encodeMeta, MAX_EPOCH, type CheckpointRef } from './offsets.js';
import { kafkaCall, type TopicNames } from './topics.js';

export interface RebuildPlan {
  readonly p: number;
  /** The epoch this rebuild claims: one above every epoch committed for p. */
  readonly epoch: number;
  /** Floor from the commits (-Infinity when there is none). */
  readonly floor: number;
  readonly starts: Record<Stream, number>;
  /** The checkpoint the committed offsets stand for (the same on all three topics), else null (docs/kafka.md, "Checkpoints"). */
  readonly checkpoint: CheckpointRef | null;
  /** With `checkpoint`: where in the state topic a restore may start reading (the commit metadata's `s`); null or absent: from the start. */
  readonly stateFrom?: number | null;
  /** The committed offsets (with a checkpoint: its positions); -1 where nothing is committed. */
  readonly committed: Record<Stream, number>;
  /** The first offset still in each log: a checkpoint whose position is below it cannot resume. */
  readonly logStart: Record<Stream, number>;
  /**
   * Set when resuming from a checkpoint: `starts` are its positions, and the
   * claim commits them with this checkpoint and these rebuild offsets, so a
   * crash before the next barrier can still restore it, or rebuild.
   */
  readonly resume?: { readonly checkpoint: CheckpointRef; readonly rebuildFrom: Readonly<Record<Stream, number>>; readonly stateFrom?: number | null };
}

export async function planRebuild(
  admin: Admin, groupId: string, names: TopicNames, partitions: readonly number[], fromBeginning: boolean,
  warn: (msg: string) => void,
): Promise<RebuildPlan[]> {
  const topics = STREAMS.map((s) => names[s]);
  const committed = await kafkaCall('fetch committed offsets', () => admin.fetchOffsets({ groupId, topics }));
  const ranges = new Map<string, { low: number; high: number }>();
  for (const topic of topics) {
    for (const o of await kafkaCall(`read the offsets of ${topic}`, () => admin.fetchTopicOffsets(topic))) {
      ranges.set(`${topic}:${o.partition}`, { low: Number(o.low), high: Number(o.high) });
    }
  }
  const commitOf = new Map<string, { offset: number; metadata: string | null }>();
  for (const t of committed) for (const p of t.partitions) commitOf.set(`${t.topic}:${p.partition}`, { offset: Number(p.offset), metadata: p.metadata ?? null });

  return partitions.map((p) => {
    let epoch = 0;
    let floor = Infinity;
    const starts = {} as Record<Stream, number>;
    const committedAt = {} as Record<Stream, number>;
    const logStart = {} as Record<Stream, number>;
    const refs: (string | null)[] = [];
    let checkpoint: CheckpointRef | null = null;
    const stateFroms: (number | null)[] = [];
    for (const s of STREAMS) {
      const topic = names[s];
      const c = commitOf.get(`${topic}:${p}`);
      const range = ranges.get(`${topic}:${p}`) ?? { low: 0, high: 0 };
      const meta = decodeMeta(c?.metadata);
      if (meta !== null) epoch = Math.max(epoch, meta.epoch + 1);
      // Committed together, so equal; a topic without posguard metadata means "no floor".
      floor = Math.min(floor, meta?.floor ?? -Infinity);
      refs.push(meta?.ck == null ? null : `${meta.ck.epoch}:${meta.ck.barrier}`);
      checkpoint ??= meta?.ck ?? null;
      stateFroms.push(meta?.stateFrom ?? null);
      const committedOffset = c !== undefined && c.offset >= 0 ? c.offset : null;
      committedAt[s] = committedOffset ?? -1;
      logStart[s] = range.low;
      // With a checkpoint the committed offset is its position; a rebuild starts from the floor's offset kept beside it.
      const from = meta?.rebuildFrom ?? committedOffset;
      starts[s] = from === null ? (fromBeginning ? range.low : range.high) : Math.max(from, range.low);
      if (from !== null && from < range.low) {
        warn(`${topic}[${p}]: committed offset ${from} is below the log start ${range.low} (deleted by retention): state older than that cannot be rebuilt`);
      }
    }
    if (epoch > MAX_EPOCH) throw new PosguardError('PG_INTERNAL', `partition ${p}: epoch ${epoch} exceeds ${MAX_EPOCH}`);
    // The three topics were committed at one barrier: anything else (an older version's commit, a hand-made one) has no checkpoint.
    if (refs.some((r) => r !== refs[0])) checkpoint = null;
    const stateFrom = checkpoint !== null && stateFroms.every((x) => x === stateFroms[0]) ? stateFroms[0] : null;
    return { p, epoch, floor, starts, checkpoint, stateFrom, committed: committedAt, logStart };
  });
}

/**
 * Claims the new epochs before anything is emitted: commits the start
 * offsets again with the new metadata, and reads them back (kafkajs drops a
 * commit silently while its runner is still starting).
 */
export async function claimEpochs(consumer: Consumer, admin: Admin, groupId: string, names: TopicNames, plans: readonly RebuildPlan[]): Promise<void> {
  const entries = plans.flatMap((pl) => STREAMS.map((s) => ({
    topic: names[s], partition: pl.p, offset: String(pl.starts[s]),
    metadata: encodeMeta({ floor: Number.isFinite(pl.floor) ? pl.floor : null, epoch: pl.epoch, ck: pl.resume?.checkpoint ?? null, rebuildFrom: pl.resume?.rebuildFrom[s] ?? null, stateFrom: pl.resume?.stateFrom ?? null }),
  })));
  const topics = STREAMS.map((s) => names[s]);
  for (let attempt = 0; ; attempt++) {
    await kafkaCall('claim the partitions', () => consumer.commitOffsets(entries));
    const back = await kafkaCall('read the claim back', () => admin.fetchOffsets({ groupId, topics }));
    const got = new Map<string, string | null>();
    for (const t of back) for (const p of t.partitions) got.set(`${t.topic}:${p.partition}`, p.metadata ?? null);
    if (entries.every((e) => got.get(`${e.topic}:${e.partition}`) === e.metadata)) return;
    if (attempt >= 20) throw new PosguardError('PG_KAFKA', 'cannot record the rebuild epoch in the group\'s committed offsets', { retriable: true });
    await new Promise((r) => setTimeout(r, 100));
  }
}
