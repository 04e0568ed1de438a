/**
 * Partition assignment that keeps co-partitioned partitions together: partition
 * p of every subscribed topic goes to the same member, because one engine per
 * partition number joins terminal p, gateway p and bank p. kafkajs' default
 * (round robin over all topic-partitions) would split them across members.
 *
 * Members are sorted by id and partition p goes to member p mod n, so every
 * member gets whole co-partition groups and the spread is even.
 */
import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

export const COPARTITION_ASSIGNER_NAME = 'posguard-copartition';

export const CoPartitionAssigner: PartitionAssigner = ({ cluster }) => {
  const assigner: Assigner = {
    name: COPARTITION_ASSIGNER_NAME,
    version: 1,
    async assign({ members, topics }) {
      const ids = members.map((m) => m.memberId).sort();
      const byMember = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
      for (const topic of topics) {
        const parts = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId).sort((a, b) => a - b);
        for (const p of parts) {
          const member = byMember.get(ids[p % ids.length])!;
          (member[topic] ??= []).push(p);
        }
      }
      return ids.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: assigner.version, assignment: byMember.get(memberId)!, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: assigner.name, metadata: AssignerProtocol.MemberMetadata.encode({ version: assigner.version, topics, userData: Buffer.alloc(0) }) };
    },
  };
  return assigner;
};

/** Partition numbers in a kafkajs memberAssignment ({ topic: [partitions] }), deduplicated, sorted. */
export function partitionNumbers(assignment: Record<string, number[]>, topics: readonly string[]): number[] {
  const s = new Set<number>();
  for (const t of topics) for (const p of assignment[t] ?? []) s.add(p);
  return [...s].sort((a, b) => a - b);
}
