/**
 * Partition assignment. Two modes, one rule they share: partition p of every
 * subscribed topic goes to the same member, because one engine per partition
 * number joins terminal p, gateway p and bank p (kafkajs' default round robin
 * over all topic-partitions would split them).
 *
 *  - exact (the default): one member holds every partition; the others are
 *    hot standbys that take over, rebuilding from the committed offsets, when
 *    it leaves or dies. The results are those of one instance, which are
 *    exact for every kind: a card's facts, a merchant's duplicate charges and
 *    a refund posted at another terminal all meet in one process. The member
 *    holding partitions says so in its join metadata, and keeps them across
 *    rebalances (a standby joining does not move anything).
 *  - spread: partition p goes to member p mod n (members sorted by id), so the
 *    work is shared; card patterns, duplicate charges and reversals whose
 *    events sit on partitions of different members are then missed
 *    (docs/kafka.md, "Several instances").
 *
 * The two modes use different protocol names, so Kafka refuses to mix them in
 * one group instead of letting each member assume its own.
 */
import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

export type AssignmentMode = 'exact' | 'spread';

export const ASSIGNER_NAMES: Readonly<Record<AssignmentMode, string>> = { exact: 'posguard-exact', spread: 'posguard-copartition' };

export interface MemberInfo {
  readonly memberId: string;
  /** It held partitions in the generation before (exact mode stays with it). */
  readonly active: boolean;
}

/** Who gets which partitions: memberId → { topic: partitions }. Pure, for tests. */
export function planAssignment(mode: AssignmentMode, members: readonly MemberInfo[], partitions: ReadonlyMap<string, readonly number[]>): Map<string, Record<string, number[]>> {
  const ids = members.map((m) => m.memberId).sort();
  const out = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
  if (ids.length === 0) return out;
  const holder = ids.find((id) => members.find((m) => m.memberId === id)!.active) ?? ids[0];
  for (const [topic, parts] of partitions) {
    for (const p of [...parts].sort((a, b) => a - b)) {
      const member = out.get(mode === 'exact' ? holder : ids[p % ids.length])!;
      (member[topic] ??= []).push(p);
    }
  }
  return out;
}

const ACTIVE = Buffer.from([1]);
const STANDBY = Buffer.from([0]);

/**
 * The kafkajs assigner for a mode. `holdsPartitions` tells, at each join,
 * whether this member holds partitions now.
 */
export function createAssigner(mode: AssignmentMode, holdsPartitions: () => boolean): PartitionAssigner {
  return ({ cluster }) => {
    const assigner: Assigner = {
      name: ASSIGNER_NAMES[mode],
      version: 1,
      async assign({ members, topics }) {
        const infos = members.map((m) => {
          let active = false;
          try {
            const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
            active = meta !== null && meta.userData.length > 0 && meta.userData[0] === 1;
          } catch {
            // Unreadable metadata: treat the member as a standby.
          }
          return { memberId: m.memberId, active };
        });
        const partitions = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((m) => m.partitionId)]));
        const plan = planAssignment(mode, infos, partitions);
        return [...plan].map(([memberId, assignment]) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: assigner.version, assignment, userData: Buffer.alloc(0) }),
        }));
      },
      protocol({ topics }) {
        return { name: assigner.name, metadata: AssignerProtocol.MemberMetadata.encode({ version: assigner.version, topics, userData: holdsPartitions() ? ACTIVE : STANDBY }) };
      },
    };
    return assigner;
  };
}

/** Partition numbers in a kafkajs memberAssignment ({ topic: [partitions] }), deduplicated, sorted. */
export function partitionNumbers(assignment: Record<string, number[]>, topics: readonly string[]): number[] {
  const s = new Set<number>();
  for (const t of topics) for (const p of assignment[t] ?? []) s.add(p);
  return [...s].sort((a, b) => a - b);
}
