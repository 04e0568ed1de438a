/**
 * `posguard run` against the real broker and registry: simulated traffic in
 * Confluent wire-format Avro through Kafka gives exactly the batch
 * reference's anomalies, read back from ClickHouse; poison records of every
 * kind land in the dead-letter topic with their headers and in dead_letters,
 * and the partitions go on past them.
 */
import { Partitioners } from 'kafkajs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import { loadRunConfig } from '../../../src/config/run-config.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { encodeAvro, encodeWire } from '../../../src/ingest/kafka/avro.js';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import { DLQ_HEADERS } from '../../../src/ingest/kafka/dlq.js';
import { looksLikePan } from '../../../src/util/pan.js';
import { simulateToKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { KafkaRun, type RunResult } from '../../../src/runtime/kafka/runner.js';
import { openClickHouse } from '../../../src/sinks/clickhouse/connection.js';
import { SIM, expectSameAnomalies, expected, type Expected } from './fixtures.js';
import { anomalyFromRow, createTestTopics, deleteTestTopics, describeKafka, STORED_ANOMALY_SQL, uniqueGroup, uniqueTopics } from './helpers.js';

const PARTITIONS = 4;

describeKafka('posguard run (Confluent Avro through the registry)', (env) => {
  const topics = uniqueTopics('run');
  const group = uniqueGroup('run');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-run-'));
  const brokers = env.brokers.split(',');
  let exp: Expected;
  let result: RunResult;
  const written: Anomaly[] = [];
  let schemaId = 0;
  /** The poison records this test adds, by the kind the detector must name. */
  const poison: { kind: string; key: string; value: Buffer }[] = [];

  beforeAll(async () => {
    exp = expected();
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
    // The first half of the traffic, then one poison record of each kind on the terminal topic, then the rest.
    const half = Math.floor(exp.records / 2);
    const first = await simulateToKafka({ kafka: { brokers, clientId: 'posguard-test' }, topics, registryUrl: env.registry, ...SIM, toRecord: half });
    schemaId = first.schemaIds.terminal!;
    const good = encodeAvro('terminal', {
      event_id: '00000000-0000-4000-8000-000000000001', event_time: SIM.startMs, terminal_id: 'POISON01', merchant_id: 'MERPOISON000001', stan: '000001',
      event_type: 'DEVICE_FAULT', txn_type: null, amount_minor: null, currency: null, card_token: null, masked_pan: null, entry_mode: null,
      response_code: null, failure_reason: null, fault_component: 'PRINTER', orig_stan: null, lat: null, lon: null,
    });
    const breaksContract = encodeAvro('terminal', {
      event_id: 'not-a-uuid', event_time: SIM.startMs, terminal_id: 'POISON02', merchant_id: 'MERPOISON000001', stan: '000002',
      event_type: 'DEVICE_FAULT', txn_type: null, amount_minor: null, currency: null, card_token: null, masked_pan: null, entry_mode: null,
      response_code: null, failure_reason: null, fault_component: 'PRINTER', orig_stan: null, lat: null, lon: null,
    });
    poison.push(
      { kind: 'bad_magic_byte', key: 'POISON03', value: Buffer.from('{"event_id":"x"}') },
      { kind: 'unknown_schema', key: 'POISON04', value: encodeWire(987_654, good) },
      { kind: 'undecodable', key: 'POISON05', value: encodeWire(schemaId, Buffer.from([0xff, 0xff, 0xff])) },
      { kind: 'contract', key: 'POISON06', value: encodeWire(schemaId, breaksContract) },
      { kind: 'empty', key: 'POISON07', value: Buffer.alloc(0) },
    );
    const producer = createKafka({ brokers, clientId: 'posguard-test', logLevel: 'error' }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: topics.terminal, messages: poison.map((p) => ({ key: p.key, value: p.value })) });
    await producer.disconnect();
    await simulateToKafka({ kafka: { brokers, clientId: 'posguard-test' }, topics, registryUrl: env.registry, ...SIM, fromRecord: half });

    // A small sink high-water mark (from a config file) so backpressure pauses the partitions during the run.
    const configFile = join(dataDir, 'run.yaml');
    writeFileSync(configFile, 'output:\n  sinkHighWaterRows: 2000\n  sinkBatchRows: 1000\n');
    const { config } = loadRunConfig({
      configFile,
      flags: {
        brokers: env.brokers, registry: env.registry!, group, data: dataDir, untilEnd: true, statusIntervalMs: '0', checkpointIntervalMs: '0',
        terminalTopic: topics.terminal, gatewayTopic: topics.gateway, bankTopic: topics.bank, dlqTopic: topics.dlq,
      },
      env: {},
    });
    const run = new KafkaRun({ config, rules: () => DEFAULT_RULES, onAnomaly: (a) => written.push(a), log: () => undefined });
    await run.start();
    result = await run.done;
  }, 120_000);

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('reads every record once and ends at the end offsets, pausing while the sink is behind', () => {
    expect(result.reason).toBe('end-of-input');
    expect(result.stats.pauses).toBeGreaterThan(0);
    expect(result.stats.records).toBe(exp.records + poison.length);
    expect(result.stats.events).toBe(exp.records - exp.bad);
  });

  it('writes exactly the batch reference\'s anomalies to ClickHouse', async () => {
    // No exclusions: one instance shares its duplicate index across partitions
    // (test/engine/shared-groups.test.ts covers pairs split over partitions).
    expect(exp.reference.length).toBeGreaterThan(50);
    expectSameAnomalies(written, exp.reference);
    const h = await openClickHouse({ kind: 'embedded', dataDir });
    try {
      const rs = await h.client.query({ query: STORED_ANOMALY_SQL, format: 'JSONEachRow' });
      const stored = (await rs.json<Record<string, unknown>>()).map(anomalyFromRow);
      expectSameAnomalies(stored, exp.reference);
      const dl = await h.client.query({ query: 'SELECT source, reason, source_partition, source_offset FROM dead_letters FINAL', format: 'JSONEachRow' });
      const deadLetters = await dl.json<{ source: string; reason: string }>();
      expect(deadLetters.length).toBe(exp.bad + poison.length);
      for (const p of poison) expect(deadLetters.some((d) => d.reason.startsWith(`${p.kind}:`))).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('sends each poison record to the dead-letter topic with reason and source headers, and goes on', async () => {
    const kafka = createKafka({ brokers, clientId: 'posguard-test', logLevel: 'error' });
    const consumer = kafka.consumer({ groupId: `${group}-dlq-reader` });
    const got: { key: string; headers: Record<string, string>; value: Buffer | null }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: topics.dlq, fromBeginning: true });
    const all = exp.bad + poison.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${all} dead letters arrived`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          got.push({ key: message.key?.toString() ?? '', headers, value: message.value });
          if (got.length >= all) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(got.length).toBe(all);
    for (const p of poison) {
      const d = got.find((g) => g.key === p.key);
      expect(d, `dead letter of ${p.kind}`).toBeDefined();
      expect(d!.headers[DLQ_HEADERS.kind]).toBe(p.kind);
      expect(d!.headers[DLQ_HEADERS.topic]).toBe(topics.terminal);
      expect(d!.headers[DLQ_HEADERS.stream]).toBe('terminal');
      expect(Number(d!.headers[DLQ_HEADERS.partition])).toBeGreaterThanOrEqual(0);
      expect(Number(d!.headers[DLQ_HEADERS.offset])).toBeGreaterThanOrEqual(0);
      expect(d!.headers[DLQ_HEADERS.reason].length).toBeGreaterThan(5);
      expect(d!.headers[DLQ_HEADERS.payload]).toBe('original');
      expect(Buffer.compare(d!.value ?? Buffer.alloc(0), p.value)).toBe(0);
    }
    // The simulator's card-number leak is forwarded masked, never as it came.
    const scrubbed = got.filter((g) => g.headers[DLQ_HEADERS.payload] === 'scrubbed');
    expect(scrubbed.length).toBeGreaterThan(0);
    for (const s of scrubbed) for (const run of s.value?.toString('utf8').match(/\d{15,19}/g) ?? []) expect(looksLikePan(run)).toBe(false);
    // Processing went on: the anomalies after the poison are all there (previous test), and the offsets passed them.
    expect(result.stats.poison.bad_magic_byte).toBeGreaterThanOrEqual(1 + exp.bad);
    expect(result.stats.deadLettersSent).toBe(all);
  });
});
