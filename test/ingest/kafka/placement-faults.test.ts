/**
 * Records that cannot be placed, against the real broker (issue 11, fault
 * suite; docs/kafka.md, "Records that cannot be placed"):
 *
 *  - one terminal record stamped ten years ahead: a dead letter with reason
 *    `event_time_in_future`, and the committed offsets of its partition move
 *    past it while the run goes on (before issue 11 it pinned them for good);
 *  - a producer with null keys for part of the bank stream (each such record
 *    lands in a partition its terminal does not hash to): counted as
 *    misrouted, processed by the engine owning its terminal (one instance
 *    holds every partition), and the anomalies still equal the batch reference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners, type Message } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildRules, DEFAULT_RULES, type Rules } from '../../../src/config/rules.js';
import { loadRunConfig } from '../../../src/config/run-config.js';
import type { Stream } from '../../../src/events/index.js';
import { encodeAvro } from '../../../src/ingest/kafka/avro.js';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import { validateEvent } from '../../../src/ingest/validate.js';
import { createMetrics } from '../../../src/metrics/index.js';
import { KafkaRun, type RunResult } from '../../../src/runtime/kafka/runner.js';
import { openClickHouse } from '../../../src/sinks/clickhouse/connection.js';
import { simulate, SIM_DEFAULTS } from '../../../src/sim/index.js';
import { expectSameAnomalies, expected, partitionOf, type Expected } from './fixtures.js';
import { anomalyFromRow, createTestTopics, deleteTestTopics, describeKafka, STORED_ANOMALY_SQL, uniqueGroup, uniqueTopics, type KafkaTestEnv } from './helpers.js';

const PARTITIONS = 3;
const TEN_YEARS_MS = 10 * 365 * 86_400_000;

/** Short windows (as commit.test.ts) so the committed offsets move well into 40 minutes of data. */
const SHORT: Rules = buildRules({
  time: { allowedLatenessMs: 540_000 },
  debits: { reversalGraceMs: 60_000, resolutionHorizonMs: 600_000 },
  duplicateDebit: { windowMs: 120_000 },
  cardTesting: { windowMs: 120_000 },
  cardVelocity: { windowMs: 120_000 },
  terminalFaultSpike: { windowMs: 120_000 },
});

interface Sent {
  /** The far-future record's partition and offset, when one was sent. */
  far: { partition: number; offset: number } | null;
  /** Bank records sent with a null key to a partition their terminal does not hash to. */
  nullKeyed: number;
}

/**
 * Sends the simulation in arrival order (Avro, registry-less), like
 * simulateToKafka, with the faults asked for: `farAfter` records in, one
 * terminal record stamped ten years ahead; every `nullKeyEvery`-th bank record
 * with a null key, in the partition after its terminal's.
 */
async function produce(env: KafkaTestEnv, topics: Record<Stream, string>, sim: Parameters<typeof simulate>[0], o: { farAfter?: number; nullKeyEvery?: number }): Promise<Sent> {
  const producer = createKafka({ brokers: env.brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const sent: Sent = { far: null, nullKeyed: 0 };
  let pending: Record<Stream, Message[]> = { terminal: [], gateway: [], bank: [] };
  const flush = async () => {
    const topicMessages = (['terminal', 'gateway', 'bank'] as const).filter((s) => pending[s].length > 0).map((s) => ({ topic: topics[s], messages: pending[s] }));
    if (topicMessages.length > 0) await producer.sendBatch({ topicMessages, acks: -1 });
    pending = { terminal: [], gateway: [], bank: [] };
  };
  try {
    let i = 0;
    let bank = 0;
    for (const r of simulate(sim).records) {
      const v = parseRecord(r.stream, r.line);
      const value = v.ok ? encodeAvro(r.stream, v.event) : Buffer.from(r.line, 'utf8');
      if (r.stream === 'bank' && v.ok && o.nullKeyEvery !== undefined && ++bank % o.nullKeyEvery === 0) {
        pending.bank.push({ key: null, value, partition: (partitionOf(v.event.terminal_id, PARTITIONS) + 1) % PARTITIONS });
        sent.nullKeyed++;
      } else pending[r.stream].push({ key: r.key, value });
      if (++i === o.farAfter) {
        await flush();
        sent.far = await sendFarFuture(producer, topics.terminal);
      }
      if (i % 2_000 === 0) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return sent;
}

/** The simulator's broken records (some are not even JSON) are sent raw, as simulateToKafka does. */
function parseRecord(stream: Stream, line: string): ReturnType<typeof validateEvent> {
  try {
    return validateEvent(stream, JSON.parse(line));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
}

async function sendFarFuture(producer: ReturnType<ReturnType<typeof createKafka>['producer']>, topic: string): Promise<{ partition: number; offset: number }> {
  const value = encodeAvro('terminal', {
    event_id: '00000000-0000-4000-8000-00000000f00d', event_time: Date.now() + TEN_YEARS_MS, terminal_id: 'FUTURE01', merchant_id: 'MERFUTURE000001', stan: '000001',
    event_type: 'DEVICE_FAULT', txn_type: null, amount_minor: null, currency: null, card_token: null, masked_pan: null, entry_mode: null,
    response_code: null, failure_reason: null, fault_component: 'PRINTER', orig_stan: null, lat: null, lon: null,
  });
  const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: 'FUTURE01', value }] });
  return { partition: meta.partition, offset: Number(meta.baseOffset) };
}

function runConfig(env: KafkaTestEnv, topics: ReturnType<typeof uniqueTopics>, group: string, dataDir: string) {
  return loadRunConfig({
    env: {},
    flags: {
      brokers: env.brokers, group, data: dataDir, untilEnd: true, statusIntervalMs: '0', format: 'avro', commitIntervalMs: '100', checkpointIntervalMs: '0',
      terminalTopic: topics.terminal, gatewayTopic: topics.gateway, bankTopic: topics.bank, dlqTopic: topics.dlq,
    },
  }).config;
}

async function storedRows<T>(dataDir: string, query: string): Promise<T[]> {
  const h = await openClickHouse({ kind: 'embedded', dataDir });
  try {
    return await (await h.client.query({ query, format: 'JSONEachRow' })).json<T>();
  } finally {
    await h.close();
  }
}

describeKafka('a record stamped ten years ahead', (env) => {
  const topics = uniqueTopics('future');
  const group = uniqueGroup('future');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-future-'));
  const SIM = { seed: 8, minutes: 60, tps: 1.5, startMs: SIM_DEFAULTS.startMs, rules: SHORT };
  let sent: Sent;
  let result: RunResult;
  const commits: { partition: number; topic: string; offset: number; floor: number }[] = [];

  beforeAll(async () => {
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
    sent = await produce(env, topics, SIM, { farAfter: 300 });
    const run = new KafkaRun({ config: runConfig(env, topics, group, dataDir), rules: () => SHORT, log: () => undefined, onCommit: (c) => commits.push(...c) });
    await run.start();
    result = await run.done;
  }, 200_000);

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('is a dead letter with reason event_time_in_future, naming the field, its value and the bound', async () => {
    expect(result.reason).toBe('end-of-input');
    expect(result.stats.poison.event_time_in_future).toBe(1);
    const rows = await storedRows<{ reason: string; source_partition: number; source_offset: number }>(dataDir,
      "SELECT reason, source_partition, source_offset FROM dead_letters FINAL WHERE reason LIKE 'event_time_in_future:%'");
    expect(rows).toHaveLength(1);
    expect(Number(rows[0].source_partition)).toBe(sent.far!.partition);
    expect(Number(rows[0].source_offset)).toBe(sent.far!.offset);
    expect(rows[0].reason).toMatch(/field event_time: 20\d\d-\d\d-\d\dT[\d:.]+Z is \d+ ms ahead of the wall clock .*rules\.time\.maxFutureMs allows 900000 ms/);
    // Nothing in it masked: the time is written as ISO, not as 13 digits the PAN guard may take for a card number.
    expect(rows[0].reason).not.toContain('*');
  });

  it('never pins its partition: the committed offsets move past it', () => {
    const far = sent.far!;
    // In the first block of its partition's offsets (offsets.ts, 256 records a block): had it been taken
    // as an event, that block's largest time would stay ten years ahead and hold the commit at its start.
    expect(far.offset).toBeLessThan(256);
    const mine = commits.filter((c) => c.topic === topics.terminal && c.partition === far.partition);
    expect(mine.length).toBeGreaterThan(0);
    const last = mine[mine.length - 1];
    expect(Number.isFinite(last.floor)).toBe(true);
    expect(last.offset).toBeGreaterThan(far.offset);
  });
});

describeKafka('a producer with null keys on part of the bank stream', (env) => {
  const topics = uniqueTopics('nullkey');
  const group = uniqueGroup('nullkey');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-nullkey-'));
  const SIM = { seed: 9, minutes: 12, tps: 3, startMs: SIM_DEFAULTS.startMs };
  let exp: Expected;
  let sent: Sent;
  let result: RunResult;
  const registry = new Registry();

  beforeAll(async () => {
    exp = expected(SIM, DEFAULT_RULES);
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
    sent = await produce(env, topics, SIM, { nullKeyEvery: 4 });
    const metrics = createMetrics({ registry, processDefaults: false });
    const run = new KafkaRun({ config: runConfig(env, topics, group, dataDir), rules: () => DEFAULT_RULES, metrics, log: () => undefined });
    await run.start();
    result = await run.done;
  }, 200_000);

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('counts every null-keyed record in a foreign partition as misrouted, per topic', async () => {
    expect(result.reason).toBe('end-of-input');
    expect(sent.nullKeyed).toBeGreaterThan(300);
    expect(result.stats.misrouted).toBe(sent.nullKeyed);
    const m = (await registry.getSingleMetric('posguard_misrouted_records_total')!.get()).values;
    expect(m).toEqual([{ labels: { topic: topics.bank }, value: sent.nullKeyed }]);
    expect(result.stats.poison.wrong_partition).toBe(0);
  });

  it('places them with the engine owning their terminal: the anomalies equal the batch reference', async () => {
    const stored = (await storedRows<Record<string, unknown>>(dataDir, STORED_ANOMALY_SQL)).map(anomalyFromRow);
    expect(exp.reference.filter((a) => a.kind === 'ORPHAN_DEBIT').length).toBeGreaterThan(5);
    expectSameAnomalies(stored, exp.reference);
  });
});
