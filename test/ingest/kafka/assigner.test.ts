/**
 * Partition assignment, without a broker: exact mode gives every partition to
 * one member and keeps them with it; spread mode shares partition numbers out;
 * both keep partition p of every topic on one member.
 */
import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ASSIGNER_NAMES, createAssigner, planAssignment } from '../../../src/ingest/kafka/assigner.js';

const topics = new Map([['t', [0, 1, 2, 3]], ['g', [3, 2, 1, 0]], ['b', [0, 1, 2, 3]]]);
const m = (memberId: string, active = false) => ({ memberId, active });
const plain = (plan: Map<string, Record<string, number[]>>) => Object.fromEntries(plan);
const every = { t: [0, 1, 2, 3], g: [0, 1, 2, 3], b: [0, 1, 2, 3] };

describe('planAssignment', () => {
  it('exact: the member holding partitions keeps all of them; a joining member gets none', () => {
    expect(plain(planAssignment('exact', [m('a'), m('z', true), m('k')], topics))).toEqual({ a: {}, k: {}, z: every });
  });

  it('exact: with no holder (first start, or the holder died) the first member by id takes all', () => {
    expect(plain(planAssignment('exact', [m('k'), m('b')], topics))).toEqual({ b: every, k: {} });
    // Two members claiming (an old generation's view): one still wins, deterministically.
    expect(plain(planAssignment('exact', [m('y', true), m('x', true)], topics))).toEqual({ x: every, y: {} });
  });

  it('spread: partition p of every topic goes to member p mod n', () => {
    expect(plain(planAssignment('spread', [m('b', true), m('a')], topics))).toEqual({
      a: { t: [0, 2], g: [0, 2], b: [0, 2] },
      b: { t: [1, 3], g: [1, 3], b: [1, 3] },
    });
  });
});

describe('createAssigner (the kafkajs side)', () => {
  const cluster = { findTopicPartitionMetadata: (t: string) => topics.get(t)!.map((partitionId) => ({ partitionId })) };
  const metadataOf = (mode: 'exact' | 'spread', holds: boolean) => createAssigner(mode, () => holds)({ cluster } as never).protocol({ topics: [...topics.keys()] });

  it('says in its join metadata whether this member holds partitions, under a name per mode', () => {
    const active = metadataOf('exact', true);
    expect(active.name).toBe(ASSIGNER_NAMES.exact);
    expect(AssignerProtocol.MemberMetadata.decode(active.metadata)!.userData).toEqual(Buffer.from([1]));
    expect(AssignerProtocol.MemberMetadata.decode(metadataOf('exact', false).metadata)!.userData).toEqual(Buffer.from([0]));
    expect(metadataOf('spread', false).name).not.toBe(ASSIGNER_NAMES.exact);
  });

  it('reads the members\' metadata as the leader and hands the holder everything', async () => {
    const leader = createAssigner('exact', () => false)({ cluster } as never);
    const members = [
      { memberId: 'a-new', memberMetadata: metadataOf('exact', false).metadata },
      { memberId: 'b-holder', memberMetadata: metadataOf('exact', true).metadata },
    ];
    const out = await leader.assign({ members, topics: [...topics.keys()] } as never);
    const decoded = Object.fromEntries(out.map((o) => [o.memberId, AssignerProtocol.MemberAssignment.decode(o.memberAssignment)!.assignment]));
    expect(decoded).toEqual({ 'a-new': {}, 'b-holder': every });
  });
});
