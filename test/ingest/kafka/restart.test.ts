/**
 * Crash recovery against the real broker (registry-less plain Avro): the
 * detector is SIGKILLed mid-stream, a second one is started on the same
 * group and data, stopped with SIGTERM (it must drain and exit 0), and a
 * third reads to the end. The final anomalies equal the batch reference's,
 * none lost, none twice in anomalies_current.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { simulateToKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { SIM, expectRecoveredOutput, expected, type Expected } from './fixtures.js';
import { createTestTopics, deleteTestTopics, describeKafka, startCli, uniqueGroup, uniqueTopics, type Child } from './helpers.js';

const PARTITIONS = 4;
// Registry-less on purpose: the services.env registry must not leak into the children.
const NO_REGISTRY = { SCHEMA_REGISTRY_URL: '' };

describeKafka('posguard run: kill -9, restart, SIGTERM', (env) => {
  const topics = uniqueTopics('restart');
  const group = uniqueGroup('restart');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-kafka-restart-'));
  const brokers = env.brokers.split(',');
  let exp: Expected;
  const outputs: string[] = [];
  let killedAt = 0;
  let termCode: number | string = -1;
  let termMs = 0;
  let finalCode: number | string = -1;

  const args = (extra: string[] = []) => [
    'run', '--brokers', env.brokers, '--format', 'avro', '--group', group, '--data', dataDir,
    '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq,
    '--commit-interval-ms', '250', '--status-interval-ms', '200', '--session-timeout-ms', '6000', '--heartbeat-interval-ms', '1000',
    ...extra,
  ];
  const produce = (fromRecord: number, toRecord?: number) =>
    simulateToKafka({ kafka: { brokers, clientId: 'posguard-test', logLevel: 'error' }, topics, registryUrl: null, format: 'avro', ...SIM, fromRecord, toRecord });
  const statusCounts = (c: Child) => [...c.output().matchAll(/\b(\d+) records \([^\n]*?(\d+) commits[^\n]*sink backlog (\d+)[^\n]*anomalies: [^\n]*?orphan_debit (\d+)/g)]
    .map((m) => ({ records: Number(m[1]), commits: Number(m[2]), backlog: Number(m[3]), orphans: Number(m[4]) }));
  /** Resolves once a status line shows `n` records read, a commit made, orphans found and nothing left unwritten. */
  const progressed = async (c: Child, n: number, timeoutMs = 60_000) => {
    const t0 = Date.now();
    while (!statusCounts(c).some((x) => x.records >= n && x.commits >= 1 && x.orphans > 0 && x.backlog === 0)) {
      if (c.proc.exitCode !== null || Date.now() - t0 > timeoutMs) throw new Error(`not progressed to ${n} records:\n${c.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    exp = expected();
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
    const half = Math.floor(exp.records / 2);
    await produce(0, half);

    // 1. Killed mid-stream, while reading the first half.
    const a = startCli(args(), NO_REGISTRY);
    // Once some of what it decided is durable (the restart must reconcile with it), before the rest of the traffic exists.
    await progressed(a, 3_000);
    a.proc.kill('SIGKILL');
    await a.exited;
    killedAt = Math.max(...statusCounts(a).map((x) => x.records));
    outputs.push(a.output());

    // 2. The rest of the traffic; a second detector takes over, catches up, and is stopped with SIGTERM.
    await produce(half);
    const b = startCli(args(), NO_REGISTRY);
    await b.waitFor(/lag 0,/, 90_000);
    const t0 = Date.now();
    b.proc.kill('SIGTERM');
    termCode = await b.exited;
    termMs = Date.now() - t0;
    outputs.push(b.output());

    // 3. A third reads to the end of the input and takes every pending decision.
    const c = startCli(args(['--until-end']), NO_REGISTRY);
    finalCode = await c.exited;
    outputs.push(c.output());
  }, 200_000);

  afterAll(async () => {
    if (process.env.POSGUARD_TEST_VERBOSE) for (const o of outputs) process.stderr.write(`----\n${o}`);
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('was killed mid-stream, and each restart rebuilt from the committed offsets with a new epoch', () => {
    expect(killedAt).toBeGreaterThan(0);
    // The second one found what the first had made durable and reconciled its re-decisions with it.
    expect(outputs[1]).toMatch(/rebuild: [1-9]\d* stored anomalies/);
    expect(killedAt).toBeLessThan(exp.records);
    expect(outputs[1]).toMatch(/rebuilt 4 partitions: p0 from [^\n]*\(epoch 1/);
    expect(outputs[2]).toMatch(/rebuilt 4 partitions: p0 from [^\n]*\(epoch 2/);
  });

  it('drains and exits 0 on SIGTERM, within the shutdown bound', () => {
    expect(termCode, outputs[1].slice(-2000)).toBe(0);
    expect(outputs[1]).toContain('received SIGTERM: draining');
    expect(termMs).toBeLessThan(15_000);
  });

  it('ends with exactly the batch reference\'s anomalies, none twice in anomalies_current', async () => {
    expect(finalCode, outputs[2].slice(-3000)).toBe(0);
    await expectRecoveredOutput(dataDir, exp);
  });
});
