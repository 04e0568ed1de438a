/**
 * Kafka's default partitioner (the Java client's, which kafkajs' DefaultPartitioner
 * reproduces): murmur2 of the key, sign bit cleared, modulo the partition count.
 * All three input topics are keyed by terminal_id (events.md), so this says
 * which partition a record belongs to, whatever key its producer used.
 */
import { createRequire } from 'node:module';
import type { AnyEvent } from '../../events/index.js';
import { WRONG_PARTITION } from '../placement.js';

// kafkajs' own murmur2 (the Java client's, as its DefaultPartitioner uses it); kafkajs ships no types for it.
const murmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;

/** Kafka's murmur2 of `key` (a signed 32-bit integer, as the Java client's Utils.murmur2). */
export function kafkaMurmur2(key: Buffer | string): number {
  return murmur2(key);
}

/** The partition Kafka's default partitioner (Java client, kafkajs DefaultPartitioner) gives `key` among `partitions`. */
export function partitionForKey(key: Buffer | string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** Terminals whose partition is remembered (~100 bytes each): kafkajs' murmur2 costs ~7 µs a key (Long arithmetic), a lookup ~50 ns. */
export const TERMINAL_MEMO_CAP = 65_536;

/**
 * Where an event belongs: the partition its terminal_id hashes to. Every
 * event of the three streams carries terminal_id (events.md, "Fields common
 * to every event"; a record without one breaks the contract and is already a
 * dead letter), and it is the key all three topics are produced with, so a
 * record of any stream can be checked. A reversal or refund carries the
 * terminal it was made at, which may not be its debit's (a refund at the next
 * lane): it is placed by its own terminal like every record, then handed to
 * the engine holding its debit (runtime/kafka/reversal-router.ts).
 *
 * Bound: at most TERMINAL_MEMO_CAP terminals remembered; at the cap the memo
 * starts over (a fleet larger than that pays the hash again, nothing else).
 */
export class TerminalPartitions {
  private readonly memo = new Map<string, number>();

  constructor(readonly partitions: number) {}

  of(e: AnyEvent): number {
    const tid = e.terminal_id;
    let p = this.memo.get(tid);
    if (p === undefined) {
      if (this.memo.size >= TERMINAL_MEMO_CAP) this.memo.clear();
      p = partitionForKey(tid, this.partitions);
      this.memo.set(tid, p);
    }
    return p;
  }

  get size(): number {
    return this.memo.size;
  }
}

export function wrongPartitionReason(e: AnyEvent, readFrom: number, owner: number): string {
  return `${WRONG_PARTITION}: field terminal_id: ${JSON.stringify(e.terminal_id)} hashes (murmur2) to partition ${owner}, `
    + `read from partition ${readFrom}, and this process does not hold partition ${owner}`;
}
