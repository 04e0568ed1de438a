/**
 * Checkpoints in `posguard run` against the real broker (issue 13): a run
 * with a short checkpoint interval writes checkpoints and commits exactly
 * their positions; after SIGKILL the next run restores the checkpoint,
 * re-reads only the tail after it and ends with the batch reference, nothing
 * twice in the current-state views; a corrupted checkpoint, one of another
 * STATE_FORMAT and one taken under other rules each fall back to the rebuild
 * with one warning line, and still give the reference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { simulateToKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import { rulesStamp } from '../../../src/config/rules-version.js';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import { KafkaCheckpointStore } from '../../../src/ingest/kafka/checkpoint/store.js';
import { decodeMeta } from '../../../src/ingest/kafka/offsets.js';
import { STATE_FORMAT } from '../../../src/runtime/kafka/checkpoint/state.js';
import { SIM, expectSameAnomalies, expected, type Expected } from './fixtures.js';
import { createTestTopics, deleteTestTopics, describeKafka, sqlRows, startCli, storedAnomalies, uniqueGroup, uniqueTopics, type Child } from './helpers.js';

const PARTITIONS = 4;
const NO_REGISTRY = { SCHEMA_REGISTRY_URL: '' };

describeKafka('posguard run with checkpoints: write, restore after SIGKILL, fall back', (env) => {
  const topics = uniqueTopics('ckrun');
  const group = uniqueGroup('ckrun');
  const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'posguard-ckrun-')));
  const brokers = env.brokers.split(',');
  const kafka = createKafka({ brokers, clientId: 'posguard-test', logLevel: 'nothing' });
  let exp: Expected;
  let half = 0;
  const out: Record<string, string> = {};
  const codes: Record<string, number | string> = {};
  let committedAtKill: { topic: string; partition: number; offset: number; metadata: string | null }[] = [];

  const args = (g: string, dataDir: string, extra: string[] = []) => [
    'run', '--brokers', env.brokers, '--format', 'avro', '--group', g, '--data', dataDir,
    '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq, '--state-topic', topics.state,
    '--checkpoint-interval-ms', '400', '--status-interval-ms', '200', '--session-timeout-ms', '6000', '--heartbeat-interval-ms', '1000', ...extra,
  ];
  const produce = (fromRecord: number, toRecord?: number) =>
    simulateToKafka({ kafka: { brokers, clientId: 'posguard-test', logLevel: 'error' }, topics, registryUrl: null, format: 'avro', ...SIM, fromRecord, toRecord });
  const checkpointLines = (c: string) => [...c.matchAll(/checkpoint (\d+) \(interval\): 4 partitions, (\d+) bytes/g)].map((m) => Number(m[1]));
  /** A bounded run to the end; killed (and its output kept) if it has not ended within 150 s. */
  const untilEnd = async (name: string, g: string, dataDir: string) => {
    const c = startCli(args(g, dataDir, ['--until-end']), NO_REGISTRY);
    const timer = setTimeout(() => c.proc.kill('SIGKILL'), 150_000);
    codes[name] = await c.exited;
    clearTimeout(timer);
    out[name] = c.output();
  };
  const recordsRead = (o: string) => Number(/records read\s+(\d+) in/.exec(o)?.[1] ?? NaN);
  const committed = async (g: string) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const r = await admin.fetchOffsets({ groupId: g, topics: [topics.terminal, topics.gateway, topics.bank] });
      return r.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset), metadata: p.metadata ?? null })));
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    exp = expected();
    await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
    half = Math.floor(exp.records / 2);
    await produce(0, half);

    // 1. Reads the first half, checkpoints every 400 ms, is killed after two more checkpoints once caught up.
    const a: Child = startCli(args(group, dirs[0]), NO_REGISTRY);
    await a.waitFor(/lag 0,/, 120_000);
    const seen = checkpointLines(a.output()).length;
    const t0 = Date.now();
    while (checkpointLines(a.output()).length < seen + 2 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
    a.proc.kill('SIGKILL');
    await a.exited;
    out.a = a.output();
    committedAtKill = await committed(group);

    // 2. The rest arrives; a restart restores and reads to the end.
    await produce(half);
    await untilEnd('b', group, dirs[0]);
    out.bAnomalies = JSON.stringify(await storedAnomalies(dirs[0]));

    // 3. Garbage in place of chunk 0 of both slots of partition 0's checkpoint: the next start falls back.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.state, acks: -1, messages: ['a', 'b'].map((slot) => ({ key: `ckpt/0/${slot}/c0/${group}`, value: Buffer.from('garbage, not a chunk'), partition: 0 })) });
    await producer.disconnect();
    await untilEnd('c', group, dirs[0]);

    // 4. Fresh groups whose latest checkpoints carry another STATE_FORMAT / other rules: both rebuild from the start.
    const store = new KafkaCheckpointStore({ kafka, topic: topics.state });
    await store.open();
    const meta = { offsets: { terminal: 1, gateway: 1, bank: 1 }, takenAtEventMs: 0, takenAtWallMs: Date.now() };
    for (let p = 0; p < PARTITIONS; p++) {
      await store.write({ group: `${group}-fmt`, partition: p }, Buffer.from('{}'), { ...meta, formatVersion: STATE_FORMAT + 1, rulesVersion: rulesStamp(DEFAULT_RULES).version });
      await store.write({ group: `${group}-rules`, partition: p }, Buffer.from('{}'), { ...meta, formatVersion: STATE_FORMAT, rulesVersion: 'other-rules' });
    }
    await store.close();
    await untilEnd('fmt', `${group}-fmt`, dirs[1]);
    await untilEnd('rules', `${group}-rules`, dirs[2]);
  }, 600_000);

  afterAll(async () => {
    if (process.env.POSGUARD_TEST_VERBOSE) for (const [k, o] of Object.entries(out)) process.stderr.write(`---- ${k}\n${o}`);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq, topics.state]);
  });

  it('writes checkpoints on the interval and commits exactly their positions, with (epoch, barrier) and the rebuild offsets', () => {
    expect(out.a).toMatch(/created the state topic/);
    const lines = checkpointLines(out.a);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const last = lines[lines.length - 1];
    // Caught up on the first half before the last checkpoint: the committed offsets are the end of each partition.
    expect(committedAtKill.reduce((n, c) => n + c.offset, 0)).toBe(half);
    for (const c of committedAtKill) {
      const m = decodeMeta(c.metadata)!;
      expect(m.ck).toEqual({ epoch: 0, barrier: last });
      expect(m.rebuildFrom).not.toBeNull();
      expect(m.rebuildFrom!).toBeLessThanOrEqual(c.offset);
      // Where a restore starts reading the state topic (the broker placed the records: offsets from 0).
      expect(Number.isSafeInteger(m.stateFrom) && m.stateFrom! >= 0, c.metadata ?? undefined).toBe(true);
    }
  });

  it('restores the last checkpoint after SIGKILL and re-reads only what came after it', () => {
    expect(codes.b, out.b.slice(-3000)).toBe(0);
    const last = checkpointLines(out.a).at(-1)!;
    const m = /restored checkpoint (\d+) of 4 partitions in \d+ ms: (.*)/.exec(out.b);
    expect(m, out.b.slice(-3000)).not.toBeNull();
    expect(Number(m![1])).toBe(last);
    const positions = [...m![2].matchAll(/p\d at (\d+)\/(\d+)\/(\d+)/g)].reduce((n, x) => n + Number(x[1]) + Number(x[2]) + Number(x[3]), 0);
    expect(positions).toBe(half);
    // Nothing before the checkpoint read again: the run read exactly the records after its positions.
    expect(recordsRead(out.b)).toBe(exp.records - positions);
    expect(out.b).not.toMatch(/rebuilt 4 partitions/);
    expect(out.b).toMatch(/checkpoints \/ restores\s+\d+ written \/ 1 restored/);
  });

  it('ends the restored run with exactly the batch reference', () => {
    expectSameAnomalies(JSON.parse(out.bAnomalies), exp.reference);
  });

  it('falls back to the rebuild on a corrupted checkpoint, with one warning line, and still gives the reference', async () => {
    expect(codes.c, out.c.slice(-3000)).toBe(0);
    const warns = out.c.split('\n').filter((l) => l.includes('no checkpoint restored'));
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatch(/\(corrupt: p0: /);
    expect(out.c).toMatch(/rebuilt 4 partitions/);
    expectSameAnomalies(await storedAnomalies(dirs[0]), exp.reference);
    const twice = await sqlRows(dirs[0], 'SELECT anomaly_id FROM anomalies_current GROUP BY anomaly_id HAVING count() > 1');
    expect(twice).toEqual([]);
    const raw = await sqlRows<{ n: string; ids: string }>(dirs[0], 'SELECT count() AS n, uniqExact(event_id) AS ids FROM events_raw FINAL');
    expect(Number(raw[0].n)).toBe(Number(raw[0].ids));
  });

  it('falls back on another STATE_FORMAT and on other rules, each with one warning naming it', async () => {
    expect(codes.fmt, out.fmt.slice(-3000)).toBe(0);
    expect(out.fmt.split('\n').filter((l) => l.includes('no checkpoint restored'))).toHaveLength(1);
    expect(out.fmt).toMatch(/no checkpoint restored \(incompatible_format: /);
    expect(recordsRead(out.fmt)).toBe(exp.records);
    expectSameAnomalies(await storedAnomalies(dirs[1]), exp.reference);
    expect(codes.rules, out.rules.slice(-3000)).toBe(0);
    expect(out.rules).toMatch(/no checkpoint restored \(different_rules: /);
  });
});
