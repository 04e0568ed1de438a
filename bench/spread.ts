/**
 * Scale-out benchmark (issue 14; `npm run bench:kafka -- --spread`): total CPU
 * per input record of one `posguard run --until-end --assignment exact`
 * instance, and of 1, 2 and 3 `--assignment spread` instances started together
 * on the same topics (each with its own embedded store, its own card-facts
 * topic per run), in one session. Every process runs under GNU time
 * (process-cpu.ts): user + system CPU of all its threads, the embedded
 * ClickHouse's included; the figure is their sum over the instances, with the
 * wall time of the slowest and each one's peak RSS.
 *
 * "spread × 1 vs exact" is the repartition's own cost (card facts produced,
 * read back and merged); "spread × 3 vs exact" is the issue's ≤ 1.3 target.
 * This machine has 2 vCPUs: three instances share them, so wall time shows
 * contention, not scale-out; the CPU sum is the comparable figure.
 *
 *   node --import tsx bench/kafka.ts --spread [--minutes 30] [--tps 100] [--partitions 4] [--instances 1,2,3]
 */
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka } from '../src/ingest/kafka/client.js';
import { simulateToKafka } from '../src/cli/commands/simulate-kafka.js';
import { createTopics, type TopicNames } from '../src/ingest/kafka/topics.js';
import { SIM_DEFAULTS } from '../src/sim/index.js';
import { benchBrokers, benchTopics, fmt, kafkaOptions, servicesEnv, type Row } from './kafka-common.js';
import { runTimed, type TimedRun } from './process-cpu.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface SpreadBenchOptions {
  readonly minutes?: number;
  readonly tps?: number;
  readonly partitions?: number;
  readonly instances?: readonly number[];
}

interface Arm {
  readonly name: string;
  readonly runs: TimedRun[];
  readonly cpuS: number;
  readonly wallS: number;
}

/** N members of one fresh group, started together; resolves when all exited. */
async function arm(name: string, n: number, mode: 'exact' | 'spread', topics: TopicNames, brokers: string, registry: string | null): Promise<Arm> {
  const stamp = `${Date.now().toString(36)}-${n}-${mode}`;
  const dirs = Array.from({ length: n }, () => mkdtempSync(join(tmpdir(), 'posguard-bench-spread-')));
  try {
    const args = (dir: string) => [
      process.execPath, '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'run', '--until-end', '--assignment', mode, '--group', `bench-spread-${stamp}`, '--data', dir,
      '--brokers', brokers, ...(registry ? ['--registry', registry] : ['--format', 'avro']), '--metrics-port', '0', '--status-interval-ms', '0',
      '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq, '--state-topic', topics.state,
      '--card-facts-topic', `${topics.cardFacts}-${stamp}`, '--session-timeout-ms', '10000', '--heartbeat-interval-ms', '1000',
    ];
    const env = { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', POSGUARD_CHECKPOINT_INTERVAL_MS: '0', CLICKHOUSE_URL: '' };
    const runs = await Promise.all(dirs.map((d) => runTimed(args(d), { cwd: ROOT, env, timeoutMs: 1_800_000, keepChars: 20_000 })));
    for (const r of runs) if (r.code !== 0) throw new Error(`${name}: an instance exited ${r.code}: ${r.output.slice(-2000)}`);
    return { name, runs, cpuS: runs.reduce((s, r) => s + r.cpu.userS + r.cpu.sysS, 0), wallS: Math.max(...runs.map((r) => r.cpu.wallS)) };
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export async function benchSpread(o: SpreadBenchOptions = {}): Promise<Row[]> {
  const brokers = benchBrokers();
  const registry = process.env.SCHEMA_REGISTRY_URL ?? servicesEnv().get('SCHEMA_REGISTRY_URL') ?? null;
  const [minutes, tps, partitions] = [o.minutes ?? 30, o.tps ?? 100, o.partitions ?? 4];
  const topics = benchTopics(`bench-spread-${Date.now().toString(36)}`);
  const admin = createKafka(kafkaOptions(brokers)).admin();
  await admin.connect();
  const rows: Row[] = [];
  try {
    await createTopics(admin, topics, partitions, 1);
    const produced = await simulateToKafka({ kafka: kafkaOptions(brokers), topics, registryUrl: registry, format: 'avro', seed: 11, minutes, tps, startMs: SIM_DEFAULTS.startMs, batchMessages: 5_000 });
    const total = produced.sent.terminal + produced.sent.gateway + produced.sent.bank;
    rows.push({ benchmark: 'workload', value: `${fmt(total)} records`, note: `seed 11, ${minutes} min at ${tps} tps, ${partitions} partitions, ${registry ? 'Confluent Avro' : 'plain Avro'}` });
    const arms = [await arm('exact × 1', 1, 'exact', topics, brokers, registry)];
    for (const n of o.instances ?? [1, 2, 3]) arms.push(await arm(`spread × ${n}`, n, 'spread', topics, brokers, registry));
    const base = arms[0].cpuS;
    const spread1 = arms.find((a) => a.name === 'spread × 1')?.cpuS;
    for (const a of arms) {
      const ratios = `${(a.cpuS / base).toFixed(2)} of exact × 1${spread1 !== undefined && a.name !== 'exact × 1' ? `, ${(a.cpuS / spread1).toFixed(2)} of spread × 1` : ''}`;
      rows.push({
        benchmark: `${a.name}: CPU per input record`,
        value: `${((a.cpuS * 1e6) / total).toFixed(1)} µs`,
        note: `${a.cpuS.toFixed(1)} CPU-s over ${a.runs.length} process${a.runs.length > 1 ? 'es' : ''} (${ratios}); wall ${a.wallS.toFixed(1)} s; peak RSS ${a.runs.map((r) => fmt(r.cpu.maxRssKb / 1024)).join(' / ')} MiB`,
      });
    }
    if (spread1 !== undefined) rows.push({ benchmark: 'repartition cost (spread × 1 − exact × 1)', value: `${(((spread1 - base) * 1e6) / total).toFixed(1)} µs per record`, note: 'card facts and markers produced, read back and merged; one run each, noise ±10%' });
  } finally {
    const all = await admin.listTopics().catch(() => [] as string[]);
    await admin.deleteTopics({ topics: all.filter((t) => t.startsWith(topics.terminal.split('.pos.')[0])) }).catch(() => undefined);
    await admin.disconnect();
  }
  return rows;
}
