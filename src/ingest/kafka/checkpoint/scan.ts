/**
 * Reads one partition of the state topic from its start (or a given offset)
 * to the end offset seen when the scan begins, keeping for one checkpoint key the latest
 * record of each of its record keys (what compaction would keep).
 *
 * kafkajs has no manual assignment, so the scan joins a consumer group of its
 * own (`<group>.checkpoint-read.<uuid>`, nothing committed: the coordinator
 * forgets it) and pauses every other partition as soon as it is assigned.
 * Memory: the two slots of one key (at most two checkpoints, plus chunks a
 * larger earlier checkpoint left in a slot).
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { PosguardError } from '../../../errors.js';
import type { CheckpointKey } from '../../checkpoint-store.js';
import { kafkaCall } from '../topics.js';
import { parseRecordKey, SEQ_HEADER } from './format.js';
import { emptyKeyRecords, type KeyRecords } from './slots.js';

export interface ScanOptions {
  readonly topic: string;
  /** The state-topic partition holding the key. */
  readonly partition: number;
  /** Fetch size: at least the largest record batch. */
  readonly maxBytesPerPartition: number;
  readonly timeoutMs: number;
  /**
   * The offset to start at (clamped to the log start): everything a read needs lies at or above it
   * (a commit's recorded position, docs/kafka.md "Restore speed"). Absent: the partition's start.
   */
  readonly from?: number;
  /** The offset to stop before, when lower than the partition's end: what the caller needs lies below it. */
  readonly until?: number;
}

export interface ScanResult {
  readonly records: KeyRecords;
  /** The end offset the scan read up to (exclusive). */
  readonly endOffset: number;
  readonly recordsRead: number;
}

export async function endOffset(admin: Admin, topic: string, partition: number): Promise<{ low: number; high: number }> {
  const offsets = await kafkaCall(`read the offsets of ${topic}`, () => admin.fetchTopicOffsets(topic));
  const o = offsets.find((x) => x.partition === partition);
  return { low: Number(o?.low ?? 0), high: Number(o?.high ?? 0) };
}

function seqHeader(m: KafkaMessage): number | null {
  const h = m.headers?.[SEQ_HEADER];
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return null;
  const n = Number(v.toString());
  return Number.isSafeInteger(n) ? n : null;
}

/** Applies one record of the state topic to `records` if it belongs to `key` (a null value deletes). */
export function applyRecord(records: KeyRecords, key: CheckpointKey, m: KafkaMessage): void {
  const k = parseRecordKey(m.key);
  if (k === null || k.group !== key.group || k.partition !== key.partition) return;
  const slot = records[k.slot];
  if (k.kind === 'manifest') slot.manifest = m.value;
  else if (m.value === null) slot.chunks.delete(k.index);
  else slot.chunks.set(k.index, { seq: seqHeader(m), value: m.value, offset: Number(m.offset) });
}

/** `also`: handed every record read as well (what else the caller keeps from the same pass). */
export async function scanKey(kafka: Kafka, admin: Admin, key: CheckpointKey, o: ScanOptions, also?: (m: KafkaMessage) => void): Promise<ScanResult> {
  const records = emptyKeyRecords();
  const { endOffset: end, recordsRead } = await scanPartition(kafka, admin, key.group, o, (m) => {
    applyRecord(records, key, m);
    also?.(m);
  });
  return { records, endOffset: end, recordsRead };
}

/**
 * Reads the partition from its start (or `o.from`) to the end offset seen
 * when the scan begins (or `o.until`, if lower), handing every record to `apply` (which keeps what it needs).
 */
export async function scanPartition(kafka: Kafka, admin: Admin, group: string, o: ScanOptions, apply: (m: KafkaMessage) => void): Promise<{ endOffset: number; recordsRead: number }> {
  const ends = await endOffset(admin, o.topic, o.partition);
  const high = Math.min(ends.high, o.until ?? Infinity);
  const low = Math.max(ends.low, o.from ?? 0);
  if (high <= low) return { endOffset: high, recordsRead: 0 };
  const consumer = kafka.consumer({
    groupId: `${group}.checkpoint-read.${randomUUID()}`,
    maxBytesPerPartition: o.maxBytesPerPartition,
    maxBytes: Math.max(o.maxBytesPerPartition, 10 * 1024 * 1024),
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  let recordsRead = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    await kafkaCall('connect the checkpoint reader', () => consumer.connect());
    await kafkaCall(`subscribe to ${o.topic}`, () => consumer.subscribe({ topics: [o.topic], fromBeginning: true }));
    const others = (assigned: number[]) => assigned.filter((p) => p !== o.partition);
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const mine = e.payload.memberAssignment[o.topic] ?? [];
      if (others(mine).length > 0) consumer.pause([{ topic: o.topic, partitions: others(mine) }]);
    });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new PosguardError('PG_KAFKA', `reading checkpoints from ${o.topic}[${o.partition}] took longer than ${o.timeoutMs} ms`, { retriable: true })), o.timeoutMs);
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (batch.partition !== o.partition) {
            consumer.pause([{ topic: o.topic, partitions: [batch.partition] }]);
            return;
          }
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            if (offset >= high) break;
            // A fetch issued before the seek took effect.
            if (offset < low) continue;
            apply(m);
            recordsRead++;
          }
          if (Number(batch.lastOffset()) >= high - 1) resolve();
        },
      }).catch(reject);
      // run() creates the consumer's group before its first await: the seek lands before the first fetch.
      if (low > ends.low) consumer.seek({ topic: o.topic, partition: o.partition, offset: String(low) });
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  return { endOffset: high, recordsRead };
}
