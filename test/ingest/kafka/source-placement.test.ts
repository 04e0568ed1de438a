/**
 * The Kafka source's batch loop with placement, without a broker (a fake
 * kafkajs batch, fake targets, JSON values): a record of its own partition
 * goes to its target; a misrouted one to the owner's target when it is held
 * (its offset logged where it was read); a misrouted one whose owner is held
 * elsewhere, and a far-future one, become dead letters on the topic with
 * their kind and in the target's bad records, and are counted.
 */
import type { EachBatchPayload } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { loadRunConfig } from '../../../src/config/run-config.js';
import type { AnyEvent, SourceRef, Stream } from '../../../src/events/index.js';
import { JsonDecoder } from '../../../src/ingest/kafka/codec.js';
import type { DeadLetterPublisher } from '../../../src/ingest/kafka/dlq.js';
import { partitionForKey } from '../../../src/ingest/kafka/partitioner.js';
import type { PartitionTarget, PartitionTargets } from '../../../src/ingest/kafka/partition-targets.js';
import { RecordPlacement } from '../../../src/ingest/kafka/record-placement.js';
import { SourceBatches } from '../../../src/ingest/kafka/source-batches.js';
import { newRunStats } from '../../../src/runtime/kafka/run-stats.js';
import { createLogger } from '../../../src/util/log.js';

const N = 3;
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

class Target implements PartitionTarget {
  readonly events: { stream: Stream; id: string; ref: SourceRef }[] = [];
  readonly adopted: string[] = [];
  readonly passed: { offset: number; time: number | null }[] = [];
  readonly refused: string[] = [];
  next(): number {
    return 0;
  }
  event(stream: Stream, e: AnyEvent, ref: SourceRef): void {
    this.events.push({ stream, id: e.event_id, ref });
  }
  passOn(_s: Stream, offset: number, time: number | null): void {
    this.passed.push({ offset, time });
  }
  adopt(_s: Stream, e: AnyEvent): boolean {
    this.adopted.push(e.event_id);
    return true;
  }
  bad(b: { reason: string }): void {
    this.refused.push(b.reason);
  }
  batchDone(): void {}
  maxEventTime(): number {
    return -Infinity;
  }
}

/** A terminal_id that hashes to partition p. */
function terminalOf(p: number): string {
  for (let i = 0; ; i++) if (partitionForKey(`TERM${String(i).padStart(4, '0')}`, N) === p) return `TERM${String(i).padStart(4, '0')}`;
}

function fault(id: number, terminalId: string, eventTime: number): Buffer {
  return Buffer.from(JSON.stringify({
    event_id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, event_time: eventTime, terminal_id: terminalId, merchant_id: 'MER000000000001', stan: '000001',
    event_type: 'DEVICE_FAULT', txn_type: null, amount_minor: null, currency: null, card_token: null, masked_pan: null, entry_mode: null,
    response_code: null, failure_reason: null, fault_component: 'PRINTER', orig_stan: null, lat: null, lon: null,
  }));
}

describe('SourceBatches with placement', () => {
  it('keeps, hands over, or dead-letters each record by where its terminal belongs and when it is stamped', async () => {
    const targets = new Map<number, Target>([[0, new Target()], [1, new Target()]]); // partition 2 is held by another member
    const published: { kind: string; reason: string; offset: string }[] = [];
    const stats = newRunStats();
    const counted: string[] = [];
    const batches = new SourceBatches({
      config: loadRunConfig({ env: {} }).config, state: { draining: false, halted: false, closed: false }, stats, log: createLogger({ level: 'silent' }),
      metrics: { event() {}, decodeError() {}, rebalance() {}, deadLetter: (_s, r) => void counted.push(r), misrouted: (t) => void counted.push(`misrouted:${t}`) },
      decoder: new JsonDecoder(), now: () => NOW,
      placement: new RecordPlacement({ partitions: N, future: { now: () => NOW, maxFutureMs: () => 900_000 } }),
      source: {
        streamOf: new Map([['term', 'terminal' as Stream]]),
        deadLetters: { publish: (r: { kind: string; reason: string; offset: string }) => void published.push(r) } as unknown as DeadLetterPublisher,
        beat: async () => undefined,
      },
    });
    const messages = [
      fault(1, terminalOf(0), NOW), // its own partition
      fault(2, terminalOf(1), NOW), // misrouted, owner held
      fault(3, terminalOf(2), NOW), // misrouted, owner elsewhere
      fault(4, terminalOf(0), NOW + 10 * 365 * 86_400_000), // far future
    ].map((value, i) => ({ key: null, value, offset: String(10 + i), timestamp: String(NOW), attributes: 0, headers: {} }));
    const resolved: string[] = [];
    const payload = {
      batch: { topic: 'term', partition: 0, highWatermark: '14', messages },
      resolveOffset: (o: string) => void resolved.push(o), heartbeat: async () => undefined, isRunning: () => true, isStale: () => false,
    } as unknown as EachBatchPayload;
    const fakeTargets = { ready: async () => undefined, target: (_g: number, p: number) => targets.get(p) } as unknown as PartitionTargets;
    await batches.run(payload, fakeTargets, () => 1, () => undefined);

    const [t0, t1] = [targets.get(0)!, targets.get(1)!];
    expect(t0.events.map((e) => e.id)).toEqual(['00000000-0000-4000-8000-000000000001']);
    expect(t1.adopted).toEqual(['00000000-0000-4000-8000-000000000002']);
    expect(t0.passed).toEqual([{ offset: 11, time: NOW }]);
    expect(t0.refused).toHaveLength(2);
    expect(t0.refused[0]).toMatch(/^wrong_partition: field terminal_id: "TERM\d{4}" hashes \(murmur2\) to partition 2, read from partition 0/);
    expect(t0.refused[1]).toMatch(/^event_time_in_future: field event_time: /);
    expect(published.map((p) => [p.kind, p.offset])).toEqual([['wrong_partition', '12'], ['event_time_in_future', '13']]);
    expect(published[0].reason.startsWith('field terminal_id')).toBe(true);
    expect(stats.misrouted).toBe(2);
    expect(stats.poison.wrong_partition).toBe(1);
    expect(stats.poison.event_time_in_future).toBe(1);
    // Events: the own one and the adopted one; the two dead letters are not events.
    expect(stats.events).toBe(2);
    expect(counted).toEqual(['misrouted:term', 'misrouted:term', 'wrong_partition', 'event_time_in_future']);
    expect(resolved).toEqual(['13']);
  });
});
