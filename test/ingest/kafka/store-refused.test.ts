/**
 * Fault tests against the real broker and the embedded ClickHouse (issue 11):
 *
 * - 101 valid DEVICE_FAULTs of one terminal on 101 distinct days, followed by
 *   an hour of ordinary traffic: the events_raw insert spanning them breaks
 *   ClickHouse's limit of 100 partitions per insert (code 252). The sink splits
 *   the batch instead of retrying it forever; every fault is stored, nothing is
 *   dead-lettered, writes never count as failing, and the committed offsets
 *   move past the faults.
 * - a wrong registry URL: `posguard run` refuses to start with one line and
 *   exit code 2, and the group has nothing committed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildRules, type Rules } from '../../../src/config/rules.js';
import { loadRunConfig } from '../../../src/config/run-config.js';
import { simulateToKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import { createMetrics } from '../../../src/metrics/index.js';
import { KafkaRun, type RunResult } from '../../../src/runtime/kafka/runner.js';
import { openClickHouse } from '../../../src/sinks/clickhouse/connection.js';
import type { ClickHouseSinkEvent } from '../../../src/sinks/clickhouse/sink.js';
import { SIM_DEFAULTS } from '../../../src/sim/index.js';
import { parsePromText, value } from '../../metrics/helpers/prom-text.js';
import { createTestTopics, deleteTestTopics, describeKafka, runCli, uniqueGroup, uniqueTopics } from './helpers.js';

const DAY = 86_400_000;
const FAULTS = 101;
const TERMINAL = 'FLT00001';
/** Short windows (as in commit.test.ts), so the commits move within the hour of traffic. */
const RULES: Rules = buildRules({
  time: { allowedLatenessMs: 540_000 },
  debits: { reversalGraceMs: 60_000, resolutionHorizonMs: 600_000 },
  duplicateDebit: { windowMs: 120_000 },
  cardTesting: { windowMs: 120_000 },
  cardVelocity: { windowMs: 120_000 },
  terminalFaultSpike: { windowMs: 120_000 },
});
const SIM = { seed: 7, minutes: 60, tps: 1.5, startMs: SIM_DEFAULTS.startMs, rules: RULES };

/** Fault i on day i of the 101 days before the traffic, in increasing time. */
function fault(i: number): string {
  return JSON.stringify({
    event_id: randomUUID(), event_time: SIM.startMs - (FAULTS - i) * DAY + 3_600_000, terminal_id: TERMINAL,
    merchant_id: 'MERFLT000000001', stan: String(100_000 + i), event_type: 'DEVICE_FAULT', fault_component: 'PRINTER',
  });
}

async function produceFaults(brokers: string, topic: string): Promise<void> {
  const producer = createKafka({ brokers: brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }).producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: Array.from({ length: FAULTS }, (_, i) => ({ key: TERMINAL, value: fault(i) })) });
  } finally {
    await producer.disconnect();
  }
}

async function committedOffsets(brokers: string, groupId: string, topics: string[]): Promise<Map<string, number>> {
  const admin = createKafka({ brokers: brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }).admin();
  await admin.connect();
  try {
    const out = new Map<string, number>();
    for (const t of await admin.fetchOffsets({ groupId, topics })) for (const p of t.partitions) out.set(`${t.topic}:${p.partition}`, Number(p.offset));
    return out;
  } finally {
    await admin.disconnect();
  }
}

describeKafka('101 DEVICE_FAULTs on distinct days through posguard run', (env) => {
  const topics = uniqueTopics('storeref');
  const group = uniqueGroup('storeref');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-storeref-'));
  const sinkEvents: ClickHouseSinkEvent[] = [];
  const failingSeen: number[] = [];
  let failingGaugeAfterSplit: number | undefined;
  let result: RunResult;

  beforeAll(async () => {
    await createTestTopics(env.brokers, { [topics.terminal]: 1, [topics.gateway]: 1, [topics.bank]: 1, [topics.dlq]: 1 });
    await produceFaults(env.brokers, topics.terminal);
    await simulateToKafka({ kafka: { brokers: env.brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }, topics, registryUrl: null, format: 'json', ...SIM });
    const { config } = loadRunConfig({
      env: {},
      flags: {
        brokers: env.brokers, group, data: dataDir, untilEnd: true, statusIntervalMs: '0', checkpointIntervalMs: '0', format: 'json', commitIntervalMs: '200',
        terminalTopic: topics.terminal, gatewayTopic: topics.gateway, bankTopic: topics.bank, dlqTopic: topics.dlq,
      },
    });
    const registry = new Registry();
    let run: KafkaRun | undefined;
    const metrics = createMetrics({ registry, processDefaults: false, sinkStats: () => run?.sinkStats() });
    let splitSeen = false;
    const watch = setInterval(() => {
      const s = run?.sinkStats();
      if (s?.failingSince !== null && s?.failingSince !== undefined) failingSeen.push(s.failingSince);
      if (splitSeen && failingGaugeAfterSplit === undefined) {
        void registry.metrics().then((text) => {
          failingGaugeAfterSplit = value(parsePromText(text), 'posguard_sink_failing_seconds');
        });
      }
    }, 20);
    run = new KafkaRun({
      config, rules: () => RULES, log: () => undefined,
      metrics: { ...metrics, sinkEvent: (e) => { sinkEvents.push(e as ClickHouseSinkEvent); if (e.type === 'batch_split') splitSeen = true; metrics.sinkEvent(e); } },
    });
    try {
      await run.start();
      result = await run.done;
    } finally {
      clearInterval(watch);
    }
  }, 240_000);

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('101 DEVICE_FAULTs on distinct days: the refused insert is split, every fault stored, nothing dead-lettered, never failing', async () => {
    expect(result.reason).toBe('end-of-input');
    const splits = sinkEvents.filter((e) => e.type === 'batch_split');
    // The store did refuse: code 252, too many partitions for one insert, on events_raw.
    expect(splits.length).toBeGreaterThan(0);
    for (const s of splits) expect(s).toMatchObject({ table: 'events_raw', error: expect.stringMatching(/partitions for single INSERT block/i) });
    expect(sinkEvents.filter((e) => e.type === 'row_rejected')).toEqual([]);
    expect(sinkEvents.filter((e) => e.type === 'write_failed')).toEqual([]);
    expect(failingSeen).toEqual([]);
    expect(failingGaugeAfterSplit).toBe(0);
    const h = await openClickHouse({ kind: 'embedded', dataDir });
    try {
      const rows = async (q: string) => (await h.client.query({ query: q, format: 'JSONEachRow' })).json<Record<string, string>>();
      const [faults] = await rows(`SELECT count() AS n, uniqExact(toDate(event_time)) AS days FROM events_raw FINAL WHERE terminal_id = '${TERMINAL}' AND event_type = 'DEVICE_FAULT'`);
      expect({ n: Number(faults.n), days: Number(faults.days) }).toEqual({ n: FAULTS, days: FAULTS });
      const [dead] = await rows(`SELECT count() AS n FROM dead_letters FINAL WHERE reason LIKE 'store_refused%'`);
      expect(Number(dead.n)).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('commits move past the faults', async () => {
    const committed = await committedOffsets(env.brokers, group, [topics.terminal]);
    // The faults are offsets 0-100 of the terminal topic; offsets are committed by blocks of 256 (OffsetLog), so past the first block.
    expect(committed.get(`${topics.terminal}:0`)).toBeGreaterThanOrEqual(256);
    expect(result.stats.commits).toBeGreaterThan(0);
  });
});

describeKafka('a wrong registry URL', (env) => {
  const topics = uniqueTopics('wrongreg');

  beforeAll(async () => {
    await createTestTopics(env.brokers, { [topics.terminal]: 1, [topics.gateway]: 1, [topics.bank]: 1, [topics.dlq]: 1 });
    await produceFaults(env.brokers, topics.terminal);
  });

  afterAll(async () => {
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('refused at start with one PG_REGISTRY_URL line, exit 2, nothing committed', async () => {
    const group = uniqueGroup('wrongreg');
    const wrong = `${new URL(env.registry!).origin}/apis/nothing-here`;
    const dir = mkdtempSync(join(tmpdir(), 'posguard-kafka-wrongreg-'));
    try {
      const t0 = Date.now();
      const r = await runCli(['run', '--until-end', '--brokers', env.brokers, '--registry', wrong, '--data', dir, '--group', group, '--status-interval-ms', '0',
        '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq]);
      expect(r.code, r.output).toBe(2);
      const errorLines = r.output.split('\n').filter((l) => l.includes('PG_'));
      expect(errorLines, r.output).toHaveLength(1);
      expect(errorLines[0]).toMatch(new RegExp(`^posguard: PG_REGISTRY_URL: ${wrong.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not answer as a schema registry \\(GET /subjects: HTTP 404`));
      expect(r.output).not.toMatch(/\n\s+at /);
      expect(Date.now() - t0).toBeLessThan(30_000);
      const committed = await committedOffsets(env.brokers, group, [topics.terminal, topics.gateway, topics.bank]);
      expect([...committed.values()].every((o) => o < 0), JSON.stringify([...committed])).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
}, { needsRegistry: true });
