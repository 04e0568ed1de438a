/**
 * The commit rule at work against the real broker: with short windows (rules
 * below) an hour of traffic lets the committed offsets and the floor move well
 * into the data. A second run of the same group then starts from there: it
 * re-reads only the tail, drops what it re-decides below the floor, reconciles
 * the rest with what is stored, and the final anomalies are still exactly the
 * batch reference's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildRules, type Rules } from '../../../src/config/rules.js';
import { loadRunConfig } from '../../../src/config/run-config.js';
import { simulateToKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { KafkaRun, type RunResult } from '../../../src/runtime/kafka/runner.js';
import { openClickHouse } from '../../../src/sinks/clickhouse/connection.js';
import { SIM_DEFAULTS } from '../../../src/sim/index.js';
import { expectSameAnomalies, expected, type Expected } from './fixtures.js';
import { anomalyFromRow, createTestTopics, deleteTestTopics, describeKafka, STORED_ANOMALY_SQL, uniqueGroup, uniqueTopics } from './helpers.js';

const PARTITIONS = 3;
/** Short windows and horizon (late events of the simulator stay within the lateness), so the floor moves within an hour. */
const RULES: Rules = buildRules({
  time: { allowedLatenessMs: 540_000 },
  debits: { reversalGraceMs: 60_000, resolutionHorizonMs: 600_000 },
  duplicateDebit: { windowMs: 120_000 },
  cardTesting: { windowMs: 120_000 },
  cardVelocity: { windowMs: 120_000 },
  terminalFaultSpike: { windowMs: 120_000 },
});
const SIM = { seed: 5, minutes: 60, tps: 1.5, startMs: SIM_DEFAULTS.startMs, rules: RULES };

describeKafka('offsets and floors move with the data; a second run starts from them', (env) => {
  const topics = uniqueTopics('commit');
  const group = uniqueGroup('commit');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-commit-'));
  let exp: Expected;
  const commits: { partition: number; topic: string; offset: number; floor: number }[][] = [[], []];
  const results: RunResult[] = [];

  const runOnce = async (i: number) => {
    const { config } = loadRunConfig({
      env: {},
      flags: {
        brokers: env.brokers, group, data: dataDir, untilEnd: true, statusIntervalMs: '0', format: 'avro', commitIntervalMs: '100', checkpointIntervalMs: '0',
        terminalTopic: topics.terminal, gatewayTopic: topics.gateway, bankTopic: topics.bank, dlqTopic: topics.dlq,
      },
    });
    const run = new KafkaRun({ config, rules: () => RULES, log: () => undefined, onCommit: (c) => commits[i].push(...c) });
    await run.start();
    results.push(await run.done);
  };

  beforeAll(async () => {
    exp = expected(SIM, RULES);
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
    await simulateToKafka({ kafka: { brokers: env.brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }, topics, registryUrl: null, format: 'avro', ...SIM });
    await runOnce(0);
    await runOnce(1);
  }, 200_000);

  afterAll(async () => {
    if (process.env.POSGUARD_TEST_VERBOSE) for (const r of results) process.stderr.write(`${JSON.stringify(r.stats)}\n`);
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('commits offsets well past the start, with a floor inside the data', () => {
    const last = new Map<string, { offset: number; floor: number }>();
    for (const c of commits[0]) last.set(`${c.topic}:${c.partition}`, c);
    expect(last.size).toBe(3 * PARTITIONS);
    const floor = Math.max(...[...last.values()].map((c) => c.floor));
    expect(floor).toBeGreaterThan(SIM.startMs + 15 * 60_000);
    // Every topic-partition's committed offset moved, and together past a good part of the input.
    expect([...last.values()].every((c) => c.offset > 0)).toBe(true);
    const committed = [...last.values()].reduce((n, c) => n + c.offset, 0);
    expect(committed).toBeGreaterThan(exp.records * 0.25);
  });

  it('the second run re-reads only the tail, and ends with exactly the reference\'s anomalies', async () => {
    const [first, second] = results;
    expect(first.stats.records).toBe(exp.records);
    expect(second.stats.records).toBeLessThan(exp.records * 0.8);
    expect(second.stats.records).toBeGreaterThan(0);
    // What it re-decided below the floor was dropped; what it re-decided above was matched against the store.
    expect(second.stats.suppressedBelowFloor + second.stats.ledger.suppressedIdentical).toBeGreaterThan(0);
    const h = await openClickHouse({ kind: 'embedded', dataDir });
    try {
      const rs = await h.client.query({ query: STORED_ANOMALY_SQL, format: 'JSONEachRow' });
      const stored = (await rs.json<Record<string, unknown>>()).map(anomalyFromRow);
      expect(exp.reference.length).toBeGreaterThan(50);
      expectSameAnomalies(stored, exp.reference);
    } finally {
      await h.close();
    }
  });
});
