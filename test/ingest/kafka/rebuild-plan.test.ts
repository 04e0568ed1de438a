/**
 * planRebuild reads the three input topics' commits of a partition: the
 * checkpoint they stand for only when all three name the same one, and the
 * state-topic position (`s`) only when all three give the same; else the
 * restore reads the state partition whole. A fake admin answers the two
 * calls it makes (committed offsets, log ranges).
 */
import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { encodeMeta, type CommitMeta } from '../../../src/ingest/kafka/offsets.js';
import { planRebuild } from '../../../src/ingest/kafka/rebuild.js';
import type { TopicNames } from '../../../src/ingest/kafka/topics.js';

const names: TopicNames = { terminal: 't', gateway: 'g', bank: 'b', dlq: 'dlq', state: 'state', cardFacts: 'cf' };
const TOPICS = ['t', 'g', 'b'] as const;

/** Commits per topic of partition 0: the metadata each holds and its offset. */
function fakeAdmin(commits: Record<(typeof TOPICS)[number], { offset: number; meta: CommitMeta | null }>): Admin {
  return {
    fetchOffsets: async () => TOPICS.map((topic) => ({
      topic,
      partitions: [{ partition: 0, offset: String(commits[topic].offset), metadata: commits[topic].meta === null ? null : encodeMeta(commits[topic].meta!) }],
    })),
    fetchTopicOffsets: async () => [{ partition: 0, offset: '1000', high: '1000', low: '0' }],
  } as unknown as Admin;
}

const ck = { epoch: 3, barrier: 12 };
const meta = (over: Partial<CommitMeta> = {}): CommitMeta => ({ floor: 100, epoch: 3, ck, rebuildFrom: 40, stateFrom: 777, ...over });
const plan = async (commits: Parameters<typeof fakeAdmin>[0]) => (await planRebuild(fakeAdmin(commits), 'grp', names, [0], true, () => undefined))[0];

describe('planRebuild: the checkpoint and its state position', () => {
  it('all three topics name one checkpoint and one position: both taken, the next epoch claimed', async () => {
    const pl = await plan({ t: { offset: 500, meta: meta() }, g: { offset: 510, meta: meta() }, b: { offset: 90, meta: meta({ rebuildFrom: 20 }) } });
    expect(pl.checkpoint).toEqual(ck);
    expect(pl.stateFrom).toBe(777);
    expect(pl.epoch).toBe(4);
    expect(pl.committed).toEqual({ terminal: 500, gateway: 510, bank: 90 });
    // A rebuild starts from the offsets kept for it beside the checkpoint.
    expect(pl.starts).toEqual({ terminal: 40, gateway: 40, bank: 20 });
  });

  it('positions that differ, or one missing (an older posguard), mean no position: the restore reads the partition whole', async () => {
    const differing = await plan({ t: { offset: 500, meta: meta() }, g: { offset: 510, meta: meta({ stateFrom: 778 }) }, b: { offset: 90, meta: meta() } });
    expect(differing.checkpoint).toEqual(ck);
    expect(differing.stateFrom).toBeNull();
    const missing = await plan({ t: { offset: 500, meta: meta({ stateFrom: null }) }, g: { offset: 510, meta: meta() }, b: { offset: 90, meta: meta() } });
    expect(missing.checkpoint).toEqual(ck);
    expect(missing.stateFrom).toBeNull();
  });

  it('topics naming different checkpoints, or none, mean no checkpoint and no position', async () => {
    const differing = await plan({ t: { offset: 500, meta: meta() }, g: { offset: 510, meta: meta({ ck: { epoch: 3, barrier: 11 } }) }, b: { offset: 90, meta: meta() } });
    expect(differing.checkpoint).toBeNull();
    expect(differing.stateFrom).toBeNull();
    const none = await plan({ t: { offset: 500, meta: null }, g: { offset: 510, meta: null }, b: { offset: 90, meta: null } });
    expect(none.checkpoint).toBeNull();
    expect(none.stateFrom).toBeNull();
    expect(none.epoch).toBe(0);
    expect(none.starts).toEqual({ terminal: 500, gateway: 510, bank: 90 });
  });
});
