/**
 * Helpers for the suites that run against a real broker (and registry).
 *
 * They need KAFKA_BROKERS (and SCHEMA_REGISTRY_URL for the registry suite),
 * from the environment or from the services.env of `npm run services:up`.
 * Without them a suite is skipped locally, but FAILS when CI=true: the Kafka
 * suites never skip silently in CI.
 *
 * Every test uses topic names and group ids of its own, so suites can run
 * side by side and next to other people's tests on one broker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import type { TopicNames } from '../../../src/ingest/kafka/topics.js';
import { runSimulateKafka } from '../../../src/cli/commands/simulate-kafka.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface KafkaTestEnv {
  readonly brokers: string;
  readonly registry: string | null;
}

/**
 * KAFKA_BROKERS / SCHEMA_REGISTRY_URL from the environment, else from the
 * services.env that `npm run services:up` writes (and services:down removes),
 * so `npm run services:up && npm test` needs no export.
 */
function read(): KafkaTestEnv | null {
  let brokers = process.env.KAFKA_BROKERS?.trim();
  let registry = process.env.SCHEMA_REGISTRY_URL?.trim();
  if (!brokers) {
    const file = join(process.env.POSGUARD_SERVICES_DIR || '/tmp/posguard-services', 'services.env');
    if (existsSync(file)) {
      const vars = new Map(readFileSync(file, 'utf8').split('\n').map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m![1], m![2]] as const));
      brokers = vars.get('KAFKA_BROKERS');
      registry ||= vars.get('SCHEMA_REGISTRY_URL');
    }
  }
  if (!brokers) return null;
  return { brokers, registry: registry || null };
}

export const KAFKA_ENV = read();

const MISSING = (what: string) =>
  `${what} is not set and CI=true: the Kafka suites never skip in CI. Start the services (npm run services:up) and export the variables from /tmp/posguard-services/services.env`;

/**
 * describe() for a suite that needs the broker (and the registry when
 * `needsRegistry`): runs it, skips it locally when the variables are missing,
 * or fails it in CI.
 */
export function describeKafka(name: string, fn: (env: KafkaTestEnv) => void, opts: { needsRegistry?: boolean } = {}): void {
  const env = KAFKA_ENV;
  const missing = env === null ? 'KAFKA_BROKERS' : opts.needsRegistry && env.registry === null ? 'SCHEMA_REGISTRY_URL' : null;
  if (missing === null) {
    describe(name, () => fn(env!));
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`needs ${missing}`, () => {
        throw new Error(MISSING(missing));
      });
    });
    return;
  }
  describe.skip(`${name} (needs ${missing})`, () => undefined);
}

/** Fresh topic names for one test: `<tag>-<random>.pos.terminal.events` etc. */
export function uniqueTopics(tag: string): TopicNames & { readonly prefix: string } {
  const prefix = `t-${tag}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  return { prefix, terminal: `${prefix}.pos.terminal.events`, gateway: `${prefix}.pos.gateway.events`, bank: `${prefix}.bank.core.authorizations`, dlq: `${prefix}.posguard.dlq`, state: `${prefix}.posguard.state`, cardFacts: `${prefix}.posguard.card-facts` };
}

export function uniqueGroup(tag: string): string {
  return `g-${tag}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Creates topics with the given partition counts (the input ones may differ on purpose). */
export async function createTestTopics(brokers: string, counts: Record<string, number>): Promise<void> {
  const admin = createKafka({ brokers: brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: Object.entries(counts).map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: 1 })), waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Topics made and filled for a test of several `--assignment spread` members (JSON values, simulated input
 * through the function `posguard simulate --kafka` calls), and the arguments of one member's bounded run.
 */
export async function spreadInput(brokers: string, group: string, topics: TopicNames, partitions: number, sim: SimOptionsLike): Promise<{ sent: number; args: (dir: string) => string[] }> {
  await createTestTopics(brokers, { [topics.terminal]: partitions, [topics.gateway]: partitions, [topics.bank]: partitions, [topics.dlq]: partitions });
  const r = await runSimulateKafka({ brokers, format: 'json', topics, ...sim, progress: false });
  const args = (dir: string) => [
    'run', '--brokers', brokers, '--format', 'json', '--group', group, '--assignment', 'spread', '--data', dir, '--until-end',
    '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq, '--card-facts-topic', topics.cardFacts,
    '--commit-interval-ms', '250', '--status-interval-ms', '500', '--session-timeout-ms', '6000', '--heartbeat-interval-ms', '1000',
  ];
  return { sent: r.sent.terminal + r.sent.gateway + r.sent.bank, args };
}

type SimOptionsLike = { seed: number; minutes: number; tps: number; startMs: number };

/** What one shared store would hold of several members' embedded stores: the highest version of each anomaly. */
export async function mergedStores(dirs: readonly string[]): Promise<Anomaly[]> {
  const best = new Map<string, Anomaly>();
  for (const d of dirs) for (const a of await storedAnomalies(d)) if ((best.get(a.anomaly_id)?.version ?? -1) < a.version) best.set(a.anomaly_id, a);
  return [...best.values()];
}

/** After a test of several members: their output (POSGUARD_TEST_VERBOSE), data folders and topics removed. */
export async function cleanUpMembers(brokers: string, outputs: readonly string[], dirs: readonly string[], topics: TopicNames): Promise<void> {
  if (process.env.POSGUARD_TEST_VERBOSE) for (const o of outputs) process.stderr.write(`----\n${o}`);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await deleteTestTopics(brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq, topics.cardFacts]);
}

export async function deleteTestTopics(brokers: string, topics: readonly string[]): Promise<void> {
  const admin = createKafka({ brokers: brokers.split(','), clientId: 'posguard-test', logLevel: 'nothing' }).admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const del = topics.filter((t) => existing.has(t));
    if (del.length > 0) await admin.deleteTopics({ topics: del, timeout: 10_000 });
  } catch {
    // cleanup is best effort
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The real binary, as a user runs it. */
export function cliCommand(): string[] {
  return [join(ROOT, 'bin/posguard.js')];
}

export interface Child {
  readonly proc: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  /** Resolves when the output contains `text`; rejects after timeoutMs. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * Starts `posguard <args>` as a child process. Checkpoints are off unless the
 * caller turns them on (`--checkpoint-interval-ms` or the variable): these
 * suites test the floor commits and the rebuild, which stay the fallback
 * (the checkpoint suites are checkpoint-*.test.ts).
 */
export function startCli(args: readonly string[], env: Record<string, string | undefined> = {}): Child {
  const proc = spawn(process.execPath, [...cliCommand(), ...args], {
    cwd: ROOT,
    env: { ...process.env, CLICKHOUSE_URL: '', KAFKAJS_NO_PARTITIONER_WARNING: '1', POSGUARD_METRICS_PORT: '0', POSGUARD_CHECKPOINT_INTERVAL_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners: (() => void)[] = [];
  const onData = (b: Buffer) => {
    out += b.toString('utf8');
    for (const l of listeners.slice()) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | string>((res) => proc.on('exit', (code, sig) => res(code ?? sig ?? -1)));
  return {
    proc,
    output: () => out,
    exited,
    waitFor(text, timeoutMs = 60_000) {
      const has = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      if (has()) return Promise.resolve();
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`timed out waiting for ${String(text)}; output:\n${out.slice(-4000)}`)), timeoutMs);
        const check = () => {
          if (has()) {
            clearTimeout(timer);
            listeners.splice(listeners.indexOf(check), 1);
            res();
          }
        };
        listeners.push(check);
        void exited.then(() => {
          if (!has()) {
            clearTimeout(timer);
            rej(new Error(`process exited before ${String(text)}; output:\n${out.slice(-4000)}`));
          }
        });
      });
    },
  };
}

/** Runs `posguard <args>` to completion; resolves with its exit code and output. */
export async function runCli(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | string; output: string }> {
  const c = startCli(args, env);
  const code = await c.exited;
  return { code, output: c.output() };
}

/** Every column of anomalies_current the comparator reads (src/eval/compare.ts): the full record but detected_at. */
export const STORED_ANOMALY_SQL = `SELECT anomaly_id, version, kind, cause, status, severity, toUnixTimestamp64Milli(event_time) AS event_time,
  terminal_id, merchant_id, card_token, rrn, stan, issuer_id, amount_minor, currency, related_rrns, evidence FROM anomalies_current`;

/** A row of STORED_ANOMALY_SQL as the Anomaly it stores (evidence is kept as JSON text). */
export function anomalyFromRow(o: Record<string, unknown>): Anomaly {
  return {
    ...o,
    version: Number(o.version),
    event_time: Number(o.event_time),
    amount_minor: o.amount_minor === null ? null : Number(o.amount_minor),
    detected_at: 0,
    evidence: JSON.parse(o.evidence as string) as Anomaly['evidence'],
  } as unknown as Anomaly;
}

/** The current state of every anomaly stored under `dataDir` (a child process: chdb holds one folder per process). */
export async function storedAnomalies(dataDir: string): Promise<Anomaly[]> {
  const r = await runCli(['sql', '--data', dataDir, '--format', 'json', STORED_ANOMALY_SQL.replace(/\s+/g, ' ')]);
  if (r.code !== 0) throw new Error(`sql failed (${r.code}): ${r.output}`);
  return r.output.split('\n').filter((l) => l.startsWith('{')).map((l) => anomalyFromRow(JSON.parse(l) as Record<string, unknown>));
}

/** Runs a SQL query in a child process and returns JSON rows. */
export async function sqlRows<T = Record<string, unknown>>(dataDir: string, query: string): Promise<T[]> {
  const r = await runCli(['sql', '--data', dataDir, '--format', 'json', query]);
  if (r.code !== 0) throw new Error(`sql failed (${r.code}): ${r.output}`);
  return r.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T);
}
