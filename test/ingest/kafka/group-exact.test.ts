/**
 * Two detector instances in one consumer group with the default assignment
 * (exact): one holds every partition, the other stands by. Three stories:
 *
 *  - A runs unbounded and is given all four partitions. B joins: A keeps them
 *    (its join metadata says it holds them) and its state (same partitions,
 *    nobody else in between: no rebuild), and B logs that it stands by. Once
 *    A has caught up it is stopped (SIGTERM: flush, commit, leave); B is given
 *    every partition, rebuilds from A's committed offsets and reads to the end.
 *  - The same with A killed (SIGKILL): B takes over when A's session expires.
 *  - A zombie: A frozen (SIGSTOP) past its session; B takes over, reads to the
 *    end and leaves; A resumes, is given its partitions again, sees from the
 *    committed epochs that B owned them, and rebuilds.
 *
 * Each time, the two together find exactly the batch reference's anomalies,
 * of every kind: card patterns, duplicates across terminals and refunds posted
 * at another terminal included, which a spread assignment misses
 * (group.test.ts). In the first two, both use one embedded store, as on one
 * host (B opens it once A has let go), and that store is compared. The zombie
 * would hold a shared folder while frozen, so there each has its own, and the
 * comparison takes per anomaly the highest version of the two, as one shared
 * ClickHouse server would keep it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { runSimulateKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { SIM, crossPartitionDuplicates, expectSameAnomalies, expected, type Expected } from './fixtures.js';
import { createTestTopics, deleteTestTopics, describeKafka, startCli, storedAnomalies, uniqueGroup, uniqueTopics } from './helpers.js';

const PARTITIONS = 4;
/** 42k records with every kind, two duplicates whose charges sit on different partitions among them. */
const SIM_X = Object.freeze({ ...SIM, seed: 1, minutes: 30 });
const ALL = /joined group [^\n]*: partitions 0, 1, 2, 3("|\n)/;

const SESSION_MS = 6_000;

interface Scenario {
  exp: Expected;
  codes: (number | string)[];
  outputs: string[];
  /** anomalies_current of the one store both wrote. */
  stores: Anomaly[][];
  /** From A's stop to B's join with every partition. */
  takeoverMs: number;
}

/** Topics with the SIM_X traffic, a group, two data folders and the `run` arguments for one test. */
function groupFixture(env: { brokers: string }, tag: string) {
  const topics = uniqueTopics(tag);
  const group = uniqueGroup(tag);
  const dirs = [mkdtempSync(join(tmpdir(), `posguard-kafka-${tag}-a-`)), mkdtempSync(join(tmpdir(), `posguard-kafka-${tag}-b-`))];
  return {
    dirs,
    args: (dir: string) => [
      'run', '--brokers', env.brokers, '--format', 'json', '--group', group, '--data', dir,
      '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq,
      '--commit-interval-ms', '250', '--status-interval-ms', '200', '--session-timeout-ms', String(SESSION_MS), '--heartbeat-interval-ms', '1000',
    ],
    /** Creates the topics and sends the traffic; returns what the batch reference expects. */
    async produce(): Promise<Expected> {
      const exp = expected(SIM_X);
      await createTestTopics(env.brokers, { [topics.terminal]: PARTITIONS, [topics.gateway]: PARTITIONS, [topics.bank]: PARTITIONS, [topics.dlq]: PARTITIONS });
      const sent = await runSimulateKafka({ brokers: env.brokers, format: 'json', topics, ...SIM_X, progress: false });
      expect(sent.sent.terminal + sent.sent.gateway + sent.sent.bank).toBe(exp.records);
      return exp;
    },
    async cleanup(outputs: readonly string[]): Promise<void> {
      if (process.env.POSGUARD_TEST_VERBOSE) for (const o of outputs) process.stderr.write(`----\n${o}`);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
    },
  };
}

/**
 * A (unbounded) holds every partition; B (`--until-end`) joins and stands by;
 * A rebuilds for the new generation, keeps everything and catches up; then A
 * is stopped with `signal` and B takes over and reads to the end.
 */
function activeThenStandby(env: { brokers: string }, tag: string, signal: 'SIGTERM' | 'SIGKILL'): { scenario: () => Scenario; setup: () => Promise<void>; cleanup: () => Promise<void> } {
  const fx = groupFixture(env, tag);
  const { args } = fx;
  // One embedded store for both, as on one host: B opens it once A has let go.
  const dir = fx.dirs[0];
  const sc: Scenario = { exp: undefined as unknown as Expected, codes: [], outputs: [], stores: [], takeoverMs: 0 };
  return {
    scenario: () => sc,
    async setup() {
      sc.exp = await fx.produce();
      const a = startCli(args(dir), { SCHEMA_REGISTRY_URL: '' });
      await a.waitFor(ALL, 60_000);
      const b = startCli([...args(dir), '--until-end'], { SCHEMA_REGISTRY_URL: '' });
      await b.waitFor(/partitions none: standing by/, 60_000);
      // B's join made a new generation: A kept every partition (and its state), then caught up.
      await a.waitFor(/joined group [^\n]*\(generation 2\): partitions 0, 1, 2, 3("|\n)/, 60_000);
      const after = a.output().length;
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (/lag 0,/.test(a.output().slice(after))) {
            clearInterval(timer);
            resolve();
          }
        }, 50);
        void a.exited.then(() => {
          clearInterval(timer);
          reject(new Error(`A exited early:\n${a.output().slice(-3000)}`));
        });
      });
      a.proc.kill(signal);
      const stoppedAt = Date.now();
      // B's first join gave it nothing, so this is the takeover.
      await b.waitFor(ALL, SESSION_MS + 60_000);
      sc.takeoverMs = Date.now() - stoppedAt;
      sc.codes = [await a.exited, await b.exited];
      sc.outputs = [a.output(), b.output()];
      sc.stores.push(await storedAnomalies(dir));
    },
    cleanup: () => fx.cleanup(sc.outputs),
  };
}

/** Per anomaly the highest version of the two stores, as one shared ClickHouse would keep it. */
function union(stores: readonly Anomaly[][]): Anomaly[] {
  const best = new Map<string, Anomaly>();
  for (const list of stores) for (const x of list) if ((best.get(x.anomaly_id)?.version ?? -1) < x.version) best.set(x.anomaly_id, x);
  return [...best.values()];
}

/** The partitions each join of an instance gave it, in order ('' = none). */
const joins = (o: string) => [...o.matchAll(/joined group [^\n]*: partitions ([^\n"]*)/g)].map((m) => (m[1].startsWith('none') ? '' : m[1]));

describeKafka('two posguard run instances in one group, assignment exact (active + standby)', (env) => {
  const run = activeThenStandby(env, 'exact', 'SIGTERM');
  beforeAll(run.setup, 200_000);
  afterAll(run.cleanup);

  it('gave every partition to A, kept them with A when B joined, and gave them all to B once A had left', () => {
    const { codes, outputs } = run.scenario();
    expect(codes, outputs.join('\n----\n').slice(-4000)).toEqual([0, 0]);
    expect(joins(outputs[0]).every((j) => j === '0, 1, 2, 3')).toBe(true);
    expect(joins(outputs[1])[0]).toBe('');
    expect(joins(outputs[1]).at(-1)).toBe('0, 1, 2, 3');
    expect(outputs[1]).toMatch(/partitions none: standing by while another member holds them all \(assignment exact\)/);
    // B found the store held by A, and opened it only after A had let go of it.
    expect(outputs[1]).toMatch(/embedded ClickHouse at [^\n]* is held by pid \d+: it opens when this member is given partitions/);
    expect(outputs[1]).toMatch(/opened the embedded store/);
    // B's join cost A nothing: same partitions, no other owner, so no rebuild.
    expect(outputs[0]).toMatch(/kept the state of 4 partitions across the rebalance/);
    expect((outputs[0].match(/rebuilt 4 partitions/g) ?? []).length).toBe(1);
  });

  it('together found exactly the batch reference, every kind, cross-partition ones included', () => {
    const { exp, stores } = run.scenario();
    // Kinds a spread assignment loses are in this data, so the comparison covers them.
    expect(crossPartitionDuplicates(exp, PARTITIONS).size).toBeGreaterThan(0);
    expect(new Set(exp.reference.map((x) => x.kind))).toEqual(new Set(['ORPHAN_DEBIT', 'DUPLICATE_DEBIT', 'AMOUNT_MISMATCH', 'CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL', 'TERMINAL_FAULT_SPIKE']));
    // What an analyst sees: anomalies_current of the one store.
    expect(stores).toHaveLength(1);
    expectSameAnomalies(stores[0], exp.reference);
  });
});

describeKafka('assignment exact: the standby takes over from an active instance killed with SIGKILL', (env) => {
  const run = activeThenStandby(env, 'exact-kill', 'SIGKILL');
  beforeAll(run.setup, 200_000);
  afterAll(run.cleanup);

  it('B was given every partition once the session of the dead A expired, and read to the end', () => {
    const { codes, outputs, takeoverMs } = run.scenario();
    // No flush, no last commit, no leave: the group notices only when A's session times out.
    expect(codes[0]).toBe('SIGKILL');
    expect(codes[1], outputs[1].slice(-3000)).toBe(0);
    expect(takeoverMs).toBeLessThan(SESSION_MS + 30_000);
  });

  it('the store still holds exactly the batch reference, every kind', () => {
    const { exp, stores } = run.scenario();
    expectSameAnomalies(stores[0], exp.reference);
  });
});

describeKafka('assignment exact: an active instance frozen past its session, resumed after the standby took over and left', (env) => {
  const fx = groupFixture(env, 'exact-zombie');
  const { dirs, args } = fx;
  let exp: Expected;
  let codes: (number | string)[] = [];
  let outputs: string[] = [];
  const stores: Anomaly[][] = [];

  beforeAll(async () => {
    exp = await fx.produce();
    const a = startCli(args(dirs[0]), { SCHEMA_REGISTRY_URL: '' });
    await a.waitFor(/rebuilt 4 partitions/, 60_000);
    await a.waitFor(/lag 0,/, 60_000);
    // Frozen: no heartbeats. Its session expires and the group forgets it.
    a.proc.kill('SIGSTOP');
    const b = startCli([...args(dirs[1]), '--until-end'], { SCHEMA_REGISTRY_URL: '' });
    await b.waitFor(ALL, SESSION_MS + 60_000);
    codes[1] = await b.exited;
    // B read to the end and left; A wakes up with the state of a generation it no longer owns.
    const before = a.output().length;
    a.proc.kill('SIGCONT');
    await a.waitFor(ALL, 60_000).catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const since = a.output().slice(before);
        if (/rebuilt 4 partitions|kept the state/.test(since) && /lag 0,/.test(since.slice(since.search(/rebuilt 4 partitions|kept the state/)))) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
      setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`A never caught up after waking:\n${a.output().slice(-3000)}`));
      }, 90_000);
    });
    a.proc.kill('SIGTERM');
    codes[0] = await a.exited;
    outputs = [a.output(), b.output()];
    for (const d of dirs) stores.push(await storedAnomalies(d));
  }, 240_000);

  afterAll(() => fx.cleanup(outputs));

  it('A saw that B had owned the partitions (a newer epoch) and rebuilt instead of going on from its stale state', () => {
    expect(codes, outputs.join('\n----\n').slice(-4000)).toEqual([0, 0]);
    expect(outputs[0]).not.toMatch(/kept the state/);
    expect((outputs[0].match(/rebuilt 4 partitions/g) ?? []).length).toBe(2);
  });

  it('together they hold exactly the batch reference', () => {
    expectSameAnomalies(union(stores), exp.reference);
  });
});
