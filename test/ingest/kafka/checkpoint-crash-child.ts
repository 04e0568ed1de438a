/**
 * Child process of checkpoint-store.test.ts ("SIGKILL during a write"): writes
 * two small checkpoints, prints TWO-DONE, then starts a 5 MB one in 100 kB
 * chunks whose producer stops after its third acknowledged send (about 30
 * chunks on the topic, no manifest) and prints MID-WRITE; the test kills it
 * there. The store's code is the real one; only the producer is held back.
 *
 * Env: CKPT_BROKERS, CKPT_TOPIC, CKPT_GROUP.
 */
import { randomBytes } from 'node:crypto';
import type { Producer, ProducerConfig } from 'kafkajs';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import { KafkaCheckpointStore } from '../../../src/ingest/kafka/checkpoint/store.js';

const env = (name: string): string => process.env[name] ?? (() => { throw new Error(`${name} is not set`); })();
const kafka = createKafka({ brokers: env('CKPT_BROKERS').split(','), clientId: 'posguard-test-crash', logLevel: 'error' });
let armed = false;
let sends = 0;
const producer = kafka.producer.bind(kafka);
kafka.producer = (cfg?: ProducerConfig): Producer => {
  const p = producer(cfg);
  const send = p.send.bind(p);
  p.send = async (record) => {
    const out = await send(record);
    if (armed && ++sends === 3) {
      process.stdout.write('MID-WRITE\n');
      await new Promise(() => undefined);
    }
    return out;
  };
  return p;
};
const store = new KafkaCheckpointStore({ kafka, topic: env('CKPT_TOPIC'), chunkBytes: 100_000 });
await store.open();
const key = { group: env('CKPT_GROUP'), partition: 0 };
const meta = { formatVersion: 1, rulesVersion: 'a1b2c3d4e5f6', offsets: { terminal: 1, gateway: 2, bank: 3 }, takenAtEventMs: 0, takenAtWallMs: Date.now() };
await store.write(key, Buffer.from('first'), meta);
await store.write(key, Buffer.from('second'), meta);
process.stdout.write('TWO-DONE\n');
armed = true;
await store.write(key, randomBytes(5 * 1024 * 1024), meta);
process.stdout.write('WRITE-FINISHED\n');
