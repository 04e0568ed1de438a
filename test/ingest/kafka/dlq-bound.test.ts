/**
 * The dead-letter queue is bounded (src/ingest/kafka/dlq.ts): at maxQueued
 * waiting dead letters it is `full`, the cap hit is counted, and drained()
 * waits (retrying a refusing broker with backoff) until the brokers took them;
 * nothing is dropped.
 */
import type { Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DeadLetterPublisher, type DeadLetterRecord } from '../../../src/ingest/kafka/dlq.js';
import { stateCensus } from '../../../src/util/state-census.js';

const record = (offset: number): DeadLetterRecord => ({
  stream: 'bank', topic: 't', partition: 0, offset: String(offset), timestamp: '0', key: null, value: Buffer.from('x'), scrubbed: false, kind: 'undecodable', reason: 'bad',
});

/** A producer whose sends wait until released; `refuse` makes the next sends fail. */
function gatedProducer() {
  const sent: string[] = [];
  let open!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  const state = { refuse: 0 };
  const producer = {
    send: async (r: { messages: { headers: Record<string, string> }[] }) => {
      await gate;
      if (state.refuse > 0) {
        state.refuse--;
        throw new Error('broker says no');
      }
      for (const m of r.messages) sent.push(m.headers['posguard.source.offset']);
    },
  } as unknown as Producer;
  return { producer, sent, state, release: () => open(), close: () => (gate = new Promise<void>((r) => (open = r))) };
}

const hits = () => new Map(stateCensus.capHits()).get('dead_letter_queue')!;

describe('DeadLetterPublisher bound', () => {
  it('is full at maxQueued waiting dead letters, counts the cap hit, and drained() resolves once the brokers took them', async () => {
    const g = gatedProducer();
    const d = new DeadLetterPublisher(g.producer, 'dlq', 3, async () => {});
    const before = hits();
    d.publish(record(1)); // being sent (the gate holds it): it counts until acknowledged
    d.publish(record(2));
    expect([d.pending(), d.full]).toEqual([2, false]);
    d.publish(record(3));
    d.publish(record(4)); // a caller that ignores `full` still loses nothing
    expect([d.pending(), d.full, hits() - before]).toEqual([4, true, 1]);
    let drained = false;
    const wait = d.drained().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(drained).toBe(false);
    g.release();
    await wait;
    expect(d.full).toBe(false);
    await d.flush();
    expect(g.sent).toEqual(['1', '2', '3', '4']);
  });

  it('a broker that refuses: drained() retries with backoff until the dead letters are taken, dropping none', async () => {
    const g = gatedProducer();
    const sleeps: number[] = [];
    const d = new DeadLetterPublisher(g.producer, 'dlq', 2, async (ms) => void sleeps.push(ms));
    g.state.refuse = 3;
    g.release();
    d.publish(record(1));
    d.publish(record(2));
    await d.drained();
    // Refused by the first send (from publish) and the two after 200 and 400 ms; taken after 800 ms.
    expect(sleeps).toEqual([200, 400, 800]);
    await d.flush().catch(() => undefined); // the earlier refusal is reported once
    await d.flush();
    expect(g.sent).toEqual(['1', '2']);
  });

  it('drained() gives up waiting when told to stop (a halted run)', async () => {
    const g = gatedProducer();
    const d = new DeadLetterPublisher(g.producer, 'dlq', 1, async () => {});
    g.state.refuse = 1_000_000;
    g.release();
    d.publish(record(1));
    let n = 0;
    await d.drained(() => ++n > 3);
    expect(d.full).toBe(true);
    expect(d.pending()).toBe(1);
  });
});
