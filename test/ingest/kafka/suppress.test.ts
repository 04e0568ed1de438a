/**
 * `posguard run` applies the analysts' suppressions: a suppression stored
 * before the run stamps exactly the anomalies it covers (kind and terminal),
 * which are still written with the batch reference's ids and verdicts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import { loadRunConfig } from '../../../src/config/run-config.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { simulateToKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { KafkaRun } from '../../../src/runtime/kafka/runner.js';
import { openClickHouse } from '../../../src/sinks/clickhouse/connection.js';
import { migrate } from '../../../src/sinks/clickhouse/migrate.js';
import { addSuppression } from '../../../src/suppress/store.js';
import { SIM, expectSameAnomalies, expected, type Expected } from './fixtures.js';
import { createTestTopics, deleteTestTopics, describeKafka, uniqueGroup, uniqueTopics } from './helpers.js';

const SIM_S = { ...SIM, minutes: 10 };

describeKafka('posguard run with a suppression', (env) => {
  const topics = uniqueTopics('suppress');
  const group = uniqueGroup('suppress');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-suppress-'));
  const written: Anomaly[] = [];
  let exp: Expected;
  let target: Anomaly;
  let suppressionId = '';

  beforeAll(async () => {
    exp = expected(SIM_S);
    // The terminal with the most anomalies of the most common kind that has a terminal.
    const counts = new Map<string, { a: Anomaly; n: number }>();
    for (const a of exp.reference) {
      if (a.terminal_id === null) continue;
      const k = `${a.kind}|${a.terminal_id}`;
      counts.set(k, { a, n: (counts.get(k)?.n ?? 0) + 1 });
    }
    target = [...counts.values()].sort((x, y) => y.n - x.n)[0].a;
    const h = await openClickHouse({ kind: 'embedded', dataDir });
    try {
      await migrate(h.client);
      suppressionId = await addSuppression(h.client, { kind: target.kind, scope: 'terminal', value: target.terminal_id!, untilMs: Date.now() + 3_600_000, reason: 'test' }, 'test', Date.now());
    } finally {
      await h.close();
    }
    await createTestTopics(env.brokers, { [topics.terminal]: 2, [topics.gateway]: 2, [topics.bank]: 2, [topics.dlq]: 2 });
    await simulateToKafka({ kafka: { brokers: env.brokers.split(','), clientId: 'posguard-test' }, topics, registryUrl: null, format: 'json', ...SIM_S });
    const { config } = loadRunConfig({
      flags: {
        brokers: env.brokers, format: 'json', group, data: dataDir, untilEnd: true, statusIntervalMs: '0', checkpointIntervalMs: '0', suppressionsReloadMs: '500',
        terminalTopic: topics.terminal, gatewayTopic: topics.gateway, bankTopic: topics.bank, dlqTopic: topics.dlq,
      },
      env: {},
    });
    expect(config.run.suppressionsReloadMs).toBe(500);
    const run = new KafkaRun({ config, rules: () => DEFAULT_RULES, onAnomaly: (a) => written.push(a), log: () => undefined });
    await run.start();
    await run.done;
  }, 180_000);

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('stamps exactly the covered anomalies, leaving ids and verdicts as the batch reference has them', async () => {
    expectSameAnomalies(written, exp.reference);
    const covered = (a: Anomaly) => a.kind === target.kind && a.terminal_id === target.terminal_id;
    const want = new Set(exp.reference.filter(covered).map((a) => a.anomaly_id));
    expect(want.size).toBeGreaterThan(0);
    for (const a of written) expect(a.suppressed_by ?? null, a.anomaly_id).toBe(covered(a) ? suppressionId : null);
    const h = await openClickHouse({ kind: 'embedded', dataDir });
    try {
      const rs = await h.client.query({ query: `SELECT anomaly_id FROM anomalies_current WHERE suppressed_by = '${suppressionId}' ORDER BY anomaly_id`, format: 'JSONEachRow' });
      expect((await rs.json<{ anomaly_id: string }>()).map((r) => r.anomaly_id)).toEqual([...want].sort());
      const open = await h.client.query({ query: `SELECT count() AS n FROM anomalies_open WHERE suppressed_by != ''`, format: 'JSONEachRow' });
      expect(Number((await open.json<{ n: number }>())[0].n)).toBe(0);
    } finally {
      await h.close();
    }
  });
});
