/**
 * Checkpoint store benchmark: write and read throughput of one checkpoint
 * (default 10 MB of random bytes, which do not compress) through the state
 * topic on the real broker, with the topic's largest chunk and with 100 kB
 * chunks. A write is timed until durable (acks=all on every send); a read
 * from a fresh store instance (a restarted process: it joins a group of its
 * own, scans the partition, verifies the sha256).
 *
 *   node --import tsx bench/checkpoint.ts [--mb 10] [--rounds 5]
 *
 * Needs KAFKA_BROKERS (or the local services' services.env).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createKafka } from '../src/ingest/kafka/client.js';
import { KafkaCheckpointStore } from '../src/ingest/kafka/checkpoint/store.js';
import { createStateTopic } from '../src/ingest/kafka/checkpoint/topic.js';
import { configureLogger } from '../src/util/log.js';

function brokers(): string {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const file = '/tmp/posguard-services/services.env';
  const m = existsSync(file) ? /^KAFKA_BROKERS=(.*)$/m.exec(readFileSync(file, 'utf8')) : null;
  return m?.[1] ?? '127.0.0.1:9092';
}

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  configureLogger({ level: 'warn' });
  const mb = arg('mb', 10);
  const rounds = arg('rounds', 5);
  const kafka = createKafka({ brokers: brokers().split(','), clientId: 'posguard-bench', logLevel: 'error' });
  const topic = `bench-ckpt-${Date.now().toString(36)}.posguard.state`;
  const admin = kafka.admin();
  await admin.connect();
  await createStateTopic(admin, topic, 1, null);
  const payload = randomBytes(Math.round(mb * 1024 * 1024));
  const meta = { formatVersion: 1, rulesVersion: 'bench', offsets: { terminal: 0, gateway: 0, bank: 0 }, takenAtEventMs: 0, takenAtWallMs: 0 };
  try {
    for (const chunkBytes of [undefined, 100_000]) {
      const writer = new KafkaCheckpointStore({ kafka, topic, chunkBytes });
      await writer.open();
      const key = { group: `bench-${chunkBytes ?? 'max'}`, partition: 0 };
      const writes: number[] = [];
      const reads: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        await writer.write(key, payload, { ...meta, takenAtWallMs: Date.now() });
        writes.push(performance.now() - t0);
        const reader = new KafkaCheckpointStore({ kafka, topic });
        await reader.open();
        const t1 = performance.now();
        const got = await reader.readLatest(key, { formatVersion: 1, rulesVersion: 'bench' });
        reads.push(performance.now() - t1);
        await reader.close();
        if (!got.ok || !got.checkpoint.payload.equals(payload)) throw new Error('read back something else');
      }
      await writer.close();
      const rate = (ms: number) => (payload.length / 1024 / 1024 / (ms / 1000)).toFixed(1);
      const chunks = Math.ceil(payload.length / writer.chunkBytes);
      process.stdout.write(`${mb} MB, chunks of ${writer.chunkBytes} B (${chunks}): write median ${median(writes).toFixed(0)} ms = ${rate(median(writes))} MB/s ` +
        `[${writes.map((x) => x.toFixed(0)).join(', ')}]; read median ${median(reads).toFixed(0)} ms = ${rate(median(reads))} MB/s [${reads.map((x) => x.toFixed(0)).join(', ')}]\n`);
    }
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

await main();
