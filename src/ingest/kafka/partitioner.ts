/**
 * Kafka's default partitioner (the Java client's, which kafkajs' DefaultPartitioner
 * reproduces): murmur2 of the key, sign bit cleared, modulo the partition count.
 * All three input topics are keyed by terminal_id (events.md), so this says
 * which partition a record belongs to, whatever key its producer used.
 */
import type { AnyEvent } from '../../events/index.js';
import { WRONG_PARTITION } from '../placement.js';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 of `key` (a signed 32-bit integer, as the Java client's Utils.murmur2), on the key's UTF-8
 * bytes. In 32-bit integer arithmetic (Math.imul): kafkajs' own, which the tests check this against, costs
 * ~7 µs a key in Long arithmetic, this well under one, which matters once every card fact is placed by it.
 */
export function kafkaMurmur2(key: Buffer | string): number {
  // An ASCII string is its own UTF-8: read its char codes, no buffer made.
  if (typeof key === 'string' && Buffer.byteLength(key, 'utf8') === key.length) return murmur2Of(key.length, (i) => key.charCodeAt(i));
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return murmur2Of(data.length, (i) => data[i]);
}

function murmur2Of(length: number, byte: (i: number) => number): number {
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = byte(i) | (byte(i + 1) << 8) | (byte(i + 2) << 16) | (byte(i + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The Java switch's fall-through: the tail's bytes, highest first.
  const tail = length & 3;
  if (tail === 3) h ^= byte(whole + 2) << 16;
  if (tail >= 2) h ^= byte(whole + 1) << 8;
  if (tail >= 1) h = Math.imul(h ^ byte(whole), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner (Java client, kafkajs DefaultPartitioner) gives `key` among `partitions`. */
export function partitionForKey(key: Buffer | string, partitions: number): number {
  return (kafkaMurmur2(key) & 0x7fffffff) % partitions;
}

/** Terminals whose partition is remembered (~100 bytes each): a lookup ~50 ns, cheaper than hashing again. */
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
