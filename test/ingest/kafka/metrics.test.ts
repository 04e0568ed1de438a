/**
 * `posguard run --metrics-port`: a running detector serves Prometheus metrics
 * fed by the Kafka job — events per stream, consumer lag per topic and
 * partition (computed at scrape time), rebalances, anomalies — and /readyz.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { simulateToKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { createTestTopics, deleteTestTopics, describeKafka, startCli, uniqueGroup, uniqueTopics, type Child } from './helpers.js';
import { SIM } from './fixtures.js';

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels}`) && !l.startsWith('#'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describeKafka('posguard run serves metrics', (env) => {
  const topics = uniqueTopics('metrics');
  const group = uniqueGroup('metrics');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-metrics-'));
  let child: Child | undefined;

  beforeAll(async () => {
    await createTestTopics(env.brokers, { [topics.terminal]: 2, [topics.gateway]: 2, [topics.bank]: 2, [topics.dlq]: 2 });
    await simulateToKafka({ kafka: { brokers: env.brokers.split(','), clientId: 'posguard-test' }, topics, registryUrl: null, format: 'json', ...SIM, minutes: 10 });
  }, 120_000);

  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    await deleteTestTopics(env.brokers, Object.values(topics).filter((t) => t.includes('.')));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exports events, consumer lag per partition, rebalances and anomalies while it runs', async () => {
    const port = await freePort();
    child = startCli([
      'run', '--brokers', env.brokers, '--format', 'json', '--group', group, '--data', dataDir,
      '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq,
      '--metrics-port', String(port), '--status-interval-ms', '1000',
    ], { SCHEMA_REGISTRY_URL: '' });
    await child.waitFor(`metrics on port ${port}`, 60_000);
    const url = `http://127.0.0.1:${port}`;
    let text = '';
    const deadline = Date.now() + 90_000;
    for (;;) {
      text = await (await fetch(`${url}/metrics`)).text();
      if ((sample(text, 'posguard_events_consumed_total', '{stream="bank"}') ?? 0) > 0 && /posguard_anomalies_total\{/.test(text)) break;
      if (Date.now() > deadline) throw new Error(`metrics never showed consumption:\n${text.slice(0, 3000)}\n${child.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(sample(text, 'posguard_events_consumed_total', '{stream="terminal"}')).toBeGreaterThan(0);
    expect(sample(text, 'posguard_consumer_rebalances_total')).toBeGreaterThanOrEqual(1);
    // Alone in its group: it holds both partitions.
    expect(sample(text, 'posguard_consumer_assigned_partitions')).toBe(2);
    for (const t of [topics.terminal, topics.gateway, topics.bank]) {
      for (const p of [0, 1]) expect(sample(text, 'posguard_consumer_lag_messages', `{topic="${t}",partition="${p}"}`), `${t}/${p}`).toBeGreaterThanOrEqual(0);
    }
    expect(sample(text, 'posguard_open_attempts')).toBeGreaterThanOrEqual(0);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  }, 240_000);
});
