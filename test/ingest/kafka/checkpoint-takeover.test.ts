/**
 * A standby takeover with checkpoints (issue 13): A holds every partition and
 * checkpoints every 400 ms, B (`--until-end`) stands by in the same group; A
 * is SIGKILLed once caught up; B is given every partition, restores A's last
 * checkpoint (no rebuild), re-reads only what came after it, and the store
 * both wrote to ends with exactly the batch reference, nothing twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { runSimulateKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { SIM, expectSameAnomalies, expected, type Expected } from './fixtures.js';
import { createTestTopics, deleteTestTopics, describeKafka, sqlRows, startCli, storedAnomalies, uniqueGroup, uniqueTopics } from './helpers.js';

const PARTITIONS = 4;
const ALL = /joined group [^\n]*: partitions 0, 1, 2, 3("|\n)/;

describeKafka('posguard run with checkpoints: a standby takes over from the checkpoint', (env) => {
  const topics = uniqueTopics('cktake');
  const group = uniqueGroup('cktake');
  const dir = mkdtempSync(join(tmpdir(), 'posguard-cktake-'));
  let exp: Expected;
  const outputs: string[] = [];
  const codes: (number | string)[] = [];
  let stored: Anomaly[] = [];
  const args = () => [
    'run', '--brokers', env.brokers, '--format', 'json', '--group', group, '--data', dir,
    '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq, '--state-topic', topics.state,
    '--checkpoint-interval-ms', '400', '--status-interval-ms', '200', '--session-timeout-ms', '6000', '--heartbeat-interval-ms', '1000',
  ];

  beforeAll(async () => {
    exp = expected(SIM);
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
    await runSimulateKafka({ brokers: env.brokers, format: 'json', topics, ...SIM, progress: false });
    const a = startCli(args(), { SCHEMA_REGISTRY_URL: '' });
    await a.waitFor(ALL, 60_000);
    const b = startCli([...args(), '--until-end'], { SCHEMA_REGISTRY_URL: '' });
    await b.waitFor(/partitions none: standing by/, 60_000);
    await a.waitFor(/joined group [^\n]*\(generation 2\): partitions 0, 1, 2, 3("|\n)/, 60_000);
    // Caught up, then one more interval checkpoint: it covers everything.
    await a.waitFor(/lag 0,/, 120_000);
    const mark = a.output().length;
    const t0 = Date.now();
    while (!/checkpoint \d+ \(interval\)/.test(a.output().slice(mark)) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
    a.proc.kill('SIGKILL');
    await b.waitFor(ALL, 60_000);
    codes.push(await a.exited, await b.exited);
    outputs.push(a.output(), b.output());
    stored = await storedAnomalies(dir);
  }, 300_000);

  afterAll(async () => {
    if (process.env.POSGUARD_TEST_VERBOSE) for (const o of outputs) process.stderr.write(`----\n${o}`);
    rmSync(dir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq, topics.state]);
  });

  it('B restores A\'s last checkpoint instead of rebuilding, and re-reads nothing before it', () => {
    expect(codes[1], outputs[1].slice(-3000)).toBe(0);
    const last = Number([...outputs[0].matchAll(/checkpoint (\d+) \(interval\)/g)].at(-1)![1]);
    const m = /restored checkpoint (\d+) of 4 partitions/.exec(outputs[1]);
    expect(m, outputs[1].slice(-3000)).not.toBeNull();
    expect(Number(m![1])).toBe(last);
    expect(outputs[1]).not.toMatch(/rebuilt 4 partitions/);
    // A had read everything before its last checkpoint: B reads nothing of the input again.
    expect(Number(/records read\s+(\d+) in/.exec(outputs[1])![1])).toBe(0);
  });

  it('ends with exactly the batch reference, none twice in anomalies_current', async () => {
    expectSameAnomalies(stored, exp.reference);
    expect(await sqlRows(dir, 'SELECT anomaly_id FROM anomalies_current GROUP BY anomaly_id HAVING count() > 1')).toEqual([]);
  });
});
