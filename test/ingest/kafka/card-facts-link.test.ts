/**
 * The card-facts link without a broker (fake kafkajs consumer, producer and
 * admin): a join claims each partition's next epoch from the group's commit
 * metadata at the earliest offset, seeks there and only then hands the
 * partitions over; a claim that fails is retried while its generation lasts;
 * records are sent in order, one batch at a time, and flush() waits for them.
 */
import { describe, expect, it } from 'vitest';
import type { Admin, Kafka } from 'kafkajs';
import { CardFactsLink, type CardFactsTargets } from '../../../src/ingest/kafka/card-facts-link.js';
import { createLogger } from '../../../src/util/log.js';

type Handler = (e: { payload: Record<string, unknown> }) => void;

function fakes(o: { failFetches?: number } = {}) {
  const calls: string[] = [];
  const handlers = new Map<string, Handler>();
  let failFetches = o.failFetches ?? 0;
  const sent: { partition: number; value: string }[][] = [];
  let release: (() => void) | null = null;
  const consumer = {
    events: { GROUP_JOIN: 'join', CRASH: 'crash' },
    on: (ev: string, h: Handler) => void handlers.set(ev, h),
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async () => undefined,
    disconnect: async () => undefined,
    commitOffsets: async (c: { partition: number; offset: string; metadata: string }[]) => void calls.push(`commit ${c.map((x) => `${x.partition}@${x.offset} ${x.metadata}`).join(', ')}`),
    seek: (s: { partition: number; offset: string }) => void calls.push(`seek ${s.partition}@${s.offset}`),
  };
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: async (r: { messages: { partition: number; value: Buffer }[] }) => {
      sent.push(r.messages.map((m) => ({ partition: m.partition, value: m.value.toString() })));
      if (sent.length === 1) await new Promise<void>((res) => (release = res));
    },
  };
  const admin = {
    fetchOffsets: async () => {
      if (failFetches-- > 0) throw new Error('coordinator not available');
      return [{ topic: 'cf', partitions: [{ partition: 0, offset: '5', metadata: '{"e":4}' }, { partition: 1, offset: '-1', metadata: null }] }];
    },
    fetchTopicOffsets: async () => [{ partition: 0, low: '3', high: '9' }, { partition: 1, low: '0', high: '2' }],
  };
  const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka;
  const link = new CardFactsLink({
    kafka, admin: admin as unknown as Admin, topic: 'cf', groupId: 'g.card-facts', sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000,
    log: createLogger({ level: 'silent' }), onFatal: (e) => { throw e; },
  });
  const targets: CardFactsTargets = {
    assigned: (gen, ps) => void calls.push(`assigned ${gen}: ${ps.map((p) => `${p.partition} from ${p.start} epoch ${p.epoch}`).join(', ')}`),
    record: () => undefined,
  };
  return { link, targets, calls, join: (parts: number[]) => handlers.get('join')!({ payload: { memberAssignment: { cf: parts } } }), sent, release: () => release?.() };
}

const settle = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('CardFactsLink', () => {
  it('claims the next epoch at the earliest offset, seeks there, then hands the partitions over', async () => {
    const f = fakes();
    await f.link.startReading(f.targets);
    f.join([0, 1]);
    await settle();
    expect(f.calls).toEqual([
      'commit 0@3 {"e":5}, 1@0 {"e":0}',
      'seek 0@3',
      'seek 1@0',
      'assigned 1: 0 from 3 epoch 5, 1 from 0 epoch 0',
    ]);
  });

  it('retries a claim that failed, and gives up on it once a newer generation came', async () => {
    const f = fakes({ failFetches: 1 });
    await f.link.startReading(f.targets);
    f.join([1]);
    await settle(1_100);
    expect(f.calls).toEqual(['commit 1@0 {"e":0}', 'seek 1@0', 'assigned 1: 1 from 0 epoch 0']);
    const g = fakes({ failFetches: 1 });
    await g.link.startReading(g.targets);
    g.join([0]);
    g.join([1]);
    await settle(1_100);
    expect(g.calls).toEqual(['commit 1@0 {"e":0}', 'seek 1@0', 'assigned 2: 1 from 0 epoch 0']);
  });

  it('sends in order, one batch at a time, and flush() waits for every record handed over', async () => {
    const f = fakes();
    await f.link.openProducer();
    f.link.send(0, 'a', Buffer.from('1'));
    const first = f.link.flush();
    f.link.send(1, null, Buffer.from('2'));
    f.link.send(0, 'b', Buffer.from('3'));
    const second = f.link.flush();
    await settle();
    expect(f.sent).toEqual([[{ partition: 0, value: '1' }]]); // the second batch waits for the first's acknowledgement
    expect(f.link.backlog()).toBe(3);
    f.release();
    await Promise.all([first, second]);
    expect(f.sent).toEqual([[{ partition: 0, value: '1' }], [{ partition: 1, value: '2' }, { partition: 0, value: '3' }]]);
    expect(f.link.backlog()).toBe(0);
    expect(f.link.sent).toBe(3);
  });
});
