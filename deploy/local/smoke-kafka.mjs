#!/usr/bin/env node
// Smoke test of the project's Kafka client (kafkajs) against the local broker:
// create a topic, produce N messages (plain and idempotent producer), consume them all
// in a consumer group with manual offset commits, check the committed offsets with the
// admin API, run one committed and one aborted transaction and check a read_committed
// consumer sees only the committed one, then delete the topics. Exit 0 on success.
//
// Usage: node deploy/local/smoke-kafka.mjs [--brokers 127.0.0.1:9092] [--messages 1000]
//                                          [--timeout 60]
import { createRequire } from 'node:module';

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
const { Kafka, logLevel, CompressionTypes } = await import('kafkajs');

const require = createRequire(import.meta.url);
const kafkajsVersion = require('kafkajs/package.json').version;

const args = { brokers: `127.0.0.1:${process.env.KAFKA_PORT || 9092}`, messages: 1000, timeout: 60 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--brokers') args.brokers = process.argv[++i];
  else if (a === '--messages') args.messages = Number(process.argv[++i]);
  else if (a === '--timeout') args.timeout = Number(process.argv[++i]);
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}

const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(2);
const say = (m) => console.log(`[smoke-kafka +${secs()}s] ${m}`);
const run = `${Date.now()}-${process.pid}`;
const topic = `posguard-smoke-${run}`;
const groupId = `posguard-smoke-group-${run}`;
const PARTITIONS = 4;
const N = args.messages;

// Record every (API, version) kafkajs sends, to document what it negotiates with the
// broker (Kafka 4.0 removed old protocol versions, KIP-896). Warnings and errors are
// printed (compactly) so protocol problems are not hidden.
const apisUsed = new Map();
const logCreator = () => ({ namespace, level, log }) => {
  const m = /^Request (\w+)\(key: (\d+), version: (\d+)\)/.exec(log.message ?? '');
  if (m) apisUsed.set(`${m[1]}(key ${m[2]})`, m[3]);
  if (level <= logLevel.WARN && level !== logLevel.NOTHING) {
    const name = level === logLevel.ERROR ? 'ERROR' : 'WARN';
    console.error(`  kafkajs ${name} [${namespace}] ${log.message}${log.error ? `: ${log.error}` : ''}`);
  }
};
const kafka = new Kafka({
  clientId: 'posguard-smoke',
  brokers: args.brokers.split(','),
  logLevel: logLevel.DEBUG,
  logCreator,
});

const watchdog = setTimeout(() => {
  console.error(`[smoke-kafka] FAILED: timed out after ${args.timeout}s`);
  process.exit(1);
}, args.timeout * 1000);

const admin = kafka.admin();
const producer = kafka.producer({ allowAutoTopicCreation: false });
const idemProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000, allowAutoTopicCreation: false });

async function main() {
  say(`kafkajs ${kafkajsVersion} -> ${args.brokers}`);
  await admin.connect();
  const cluster = await admin.describeCluster();
  say(`cluster ${cluster.clusterId}: ${cluster.brokers.length} broker(s), controller ${cluster.controller}`);

  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  say(`created topic ${topic} (${PARTITIONS} partitions): ${created}`);

  // Produce: half via a plain producer (gzip batches), half via an idempotent producer.
  await producer.connect();
  await idemProducer.connect();
  const half = Math.floor(N / 2);
  const mk = (from, to) => Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    return { key: `card-${i % 97}`, value: JSON.stringify({ i, amount: i * 3 }), headers: { seq: String(i) } };
  });
  const BATCH = 100;
  for (let i = 0; i < half; i += BATCH) {
    await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: mk(i, Math.min(i + BATCH, half)) });
  }
  for (let i = half; i < N; i += BATCH) {
    await idemProducer.send({ topic, acks: -1, messages: mk(i, Math.min(i + BATCH, N)) });
  }
  say(`produced ${N} messages`);

  const endOffsets = await admin.fetchTopicOffsets(topic);
  const total = endOffsets.reduce((s, p) => s + Number(p.high) - Number(p.low), 0);
  if (total !== N) throw new Error(`topic holds ${total} messages, expected ${N}`);

  // Consume with a group, manual commits.
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen = new Set();
  let dupes = 0;
  let commits = 0;
  const done = new Promise((resolve, reject) => {
    consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        try {
          for (const m of batch.messages) {
            const { i } = JSON.parse(m.value.toString());
            if (seen.has(i)) dupes++;
            seen.add(i);
            resolveOffset(m.offset);
          }
          const last = batch.messages[batch.messages.length - 1];
          if (last) {
            await consumer.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
            commits++;
          }
          await heartbeat();
          if (seen.size >= N) resolve();
        } catch (e) {
          reject(e);
        }
      },
    }).catch(reject);
  });
  await done;
  say(`consumed ${seen.size} distinct messages (${dupes} duplicates) in group ${groupId}, ${commits} commits`);
  if (seen.size !== N) throw new Error(`consumed ${seen.size} distinct messages, expected ${N}`);
  await consumer.stop();
  await consumer.disconnect();

  // Verify the committed offsets from the group coordinator.
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committedTotal = committed[0].partitions.reduce((s, p) => s + Number(p.offset), 0);
  say(`committed offsets: ${committed[0].partitions.map((p) => `p${p.partition}=${p.offset}`).join(' ')} (sum ${committedTotal})`);
  if (committedTotal !== N) throw new Error(`committed offsets sum to ${committedTotal}, expected ${N}`);

  const groups = await admin.describeGroups([groupId]);
  say(`group state after disconnect: ${groups.groups[0].state}, protocolType '${groups.groups[0].protocolType}'`);

  await admin.deleteGroups([groupId]).catch((e) => say(`deleteGroups: ${e.message}`));

  await transactions();

  await admin.deleteTopics({ topics: [topic, txTopic] });
  say('deleted topics and group');
}

// Transactions (KIP-890 changed the broker side in 4.0): one committed, one aborted batch.
const txTopic = `${topic}-tx`;
async function transactions() {
  await admin.createTopics({ topics: [{ topic: txTopic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  const txProducer = kafka.producer({
    transactionalId: `posguard-smoke-tx-${run}`,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await txProducer.connect();
  const ok = await txProducer.transaction();
  await ok.send({ topic: txTopic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
  await ok.commit();
  const bad = await txProducer.transaction();
  await bad.send({ topic: txTopic, messages: [{ value: 'aborted-1' }] });
  await bad.abort();
  await txProducer.disconnect();
  say('transactions: committed one, aborted one');

  // Short long-poll: a read_committed fetch issued before the abort marker lands returns
  // nothing and would otherwise sit out the default 5 s maxWaitTimeInMs.
  const txConsumer = kafka.consumer({ groupId: `${groupId}-tx`, readUncommitted: false, maxWaitTimeInMs: 500, allowAutoTopicCreation: false });
  await txConsumer.connect();
  await txConsumer.subscribe({ topics: [txTopic], fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    txConsumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value.toString());
        if (got.length >= 2) setTimeout(resolve, 500); // give an aborted record a chance to show up
      },
    }).catch(reject);
  });
  await txConsumer.disconnect();
  say(`transactions: read_committed consumer saw [${got.join(', ')}]`);
  if (got.join(',') !== 'committed-1,committed-2') throw new Error(`unexpected transactional read: ${got.join(',')}`);
  await admin.deleteGroups([`${groupId}-tx`]).catch(() => {});
}

function printApis() {
  const list = [...apisUsed].sort().map(([k, v]) => `${k.replace(/\(key \d+\)/, '')} v${v}`);
  say(`API versions kafkajs used: ${list.join(', ')}`);
}

try {
  await main();
  printApis();
  await Promise.allSettled([producer.disconnect(), idemProducer.disconnect(), admin.disconnect()]);
  clearTimeout(watchdog);
  say(`OK: produce/consume/commit of ${N} messages and transactions work`);
  process.exit(0);
} catch (e) {
  console.error(`[smoke-kafka] FAILED: ${e.name}: ${e.message}`);
  printApis();
  if (e.type) console.error(`  kafka error type: ${e.type} (code ${e.code})`);
  if (e.stack) console.error(e.stack);
  await Promise.allSettled([consumer.disconnect(), producer.disconnect(), idemProducer.disconnect()]);
  try { await admin.deleteTopics({ topics: [topic, txTopic] }); } catch { /* ignore */ }
  await admin.disconnect().catch(() => {});
  process.exit(1);
}
