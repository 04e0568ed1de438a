/**
 * Records that cannot be placed, without a broker: Kafka's murmur2 against
 * the Java client's own test vectors, the far-future and wrong-partition
 * decisions, and the dead-letter reason classes they produce.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, buildRules } from '../../../src/config/rules.js';
import type { AnyEvent } from '../../../src/events/index.js';
import { kafkaMurmur2, partitionForKey, TerminalPartitions, TERMINAL_MEMO_CAP } from '../../../src/ingest/kafka/partitioner.js';
import { RecordPlacement } from '../../../src/ingest/kafka/record-placement.js';
import { futureReason } from '../../../src/ingest/placement.js';
import { deadLetterReason } from '../../../src/metrics/dead-letter-reason.js';

/** Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java). */
const JAVA_VECTORS: readonly (readonly [string, number])[] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

function event(terminalId: string, eventTime: number): AnyEvent {
  return { event_id: '00000000-0000-4000-8000-000000000001', event_time: eventTime, terminal_id: terminalId, merchant_id: 'MER000000000001', stan: '000001' } as unknown as AnyEvent;
}

describe('Kafka default partitioner', () => {
  it('murmur2 gives the Java client\'s documented outputs', () => {
    for (const [key, hash] of JAVA_VECTORS) expect(kafkaMurmur2(key), key).toBe(hash);
  });

  it('places keys where kafkajs\' DefaultPartitioner sends them', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const n of [2, 3, 4, 12]) {
      const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      for (let i = 0; i < 200; i++) {
        const key = `T${String(i * 7919).padStart(7, '0')}`;
        expect(partitionForKey(key, n)).toBe(partitioner({ topic: 't', partitionMetadata, message: { key, value: null } }));
      }
    }
  });

  it('clears the sign bit before the modulo (a negative hash still gives a partition in range)', () => {
    // "21" hashes negative: (-973932308 & 0x7fffffff) % 7 = 1173551340 % 7.
    expect(partitionForKey('21', 7)).toBe(1173551340 % 7);
  });

  it('remembers at most TERMINAL_MEMO_CAP terminals, and gives the same answers after starting over', () => {
    const owners = new TerminalPartitions(6);
    const first = owners.of(event('TERM0001', NOW));
    for (let i = 0; i < TERMINAL_MEMO_CAP + 10; i++) owners.of(event(`T${i}`, NOW));
    expect(owners.size).toBeLessThanOrEqual(TERMINAL_MEMO_CAP);
    expect(owners.of(event('TERM0001', NOW))).toBe(first);
    expect(first).toBe(partitionForKey('TERM0001', 6));
  });
});

describe('far-future event time', () => {
  const max = DEFAULT_RULES.time.maxFutureMs;

  it('defaults to 15 minutes and can be set in the rules', () => {
    expect(max).toBe(900_000);
    expect(buildRules({ time: { maxFutureMs: 60_000 } }).time.maxFutureMs).toBe(60_000);
  });

  it('accepts a record exactly max_future ahead, refuses one a millisecond further, naming field, value and bound', () => {
    expect(futureReason(event('TERM0001', NOW + max), NOW, max)).toBeNull();
    expect(futureReason(event('TERM0001', NOW - 86_400_000), NOW, max)).toBeNull();
    const r = futureReason(event('TERM0001', NOW + max + 1), NOW, max)!;
    expect(r).toMatch(/^event_time_in_future: field event_time: /);
    expect(r).toContain(new Date(NOW + max + 1).toISOString());
    expect(r).toContain(`${max + 1} ms ahead`);
    expect(r).toContain('rules.time.maxFutureMs allows 900000 ms');
    expect(deadLetterReason(r)).toBe('event_time_in_future');
  });

  it('names a value no date can hold (9e15) without failing', () => {
    const r = futureReason(event('TERM0001', 9e15), NOW, max)!;
    expect(r).toContain('9000000000000000');
    expect(deadLetterReason(r)).toBe('event_time_in_future');
  });
});

describe('RecordPlacement', () => {
  const tid = 'TERM0042';
  const n = 4;
  const owner = partitionForKey(tid, n);
  const other = (owner + 1) % n;
  const placement = new RecordPlacement({ partitions: n, future: { now: () => NOW, maxFutureMs: () => 900_000 } });

  it('keeps a record read from the partition its terminal hashes to', () => {
    expect(placement.place(event(tid, NOW), owner, () => true)).toEqual({ to: 'here' });
  });

  it('hands a misrouted record to the owning partition when this process holds it', () => {
    expect(placement.place(event(tid, NOW), other, (p) => p === owner)).toEqual({ to: 'owner', owner });
  });

  it('makes a misrouted record a wrong_partition dead letter when the owner is held elsewhere', () => {
    const p = placement.place(event(tid, NOW), other, (q) => q !== owner);
    expect(p.to).toBe('dead-letter');
    const reason = (p as { reason: string }).reason;
    expect(reason).toContain(`hashes (murmur2) to partition ${owner}, read from partition ${other}`);
    expect(deadLetterReason(reason)).toBe('wrong_partition');
  });

  it('checks time before the partition: a far-future misrouted record is a far-future dead letter', () => {
    const p = placement.place(event(tid, NOW + 10 * 365 * 86_400_000), other, () => true);
    expect(p).toMatchObject({ to: 'dead-letter', kind: 'event_time_in_future' });
  });

  it('does no partition check with one partition, and no time check without a clock', () => {
    const one = new RecordPlacement({ partitions: 1 });
    expect(one.place(event(tid, 9e15), 0, () => false)).toEqual({ to: 'here' });
  });
});
