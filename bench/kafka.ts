/**
 * Kafka benchmark (`npm run bench:kafka`): end-to-end events/s from Kafka
 * through the engine into embedded ClickHouse (`posguard run --until-end`),
 * next to the raw kafkajs consume rate of the same topics with a no-op
 * handler, in one run; and their ratio.
 *
 * Needs the local services (npm run services:up) or KAFKA_BROKERS
 * (+ SCHEMA_REGISTRY_URL for Confluent Avro; registry-less plain Avro
 * otherwise). Each end-to-end variant runs in a child process: the embedded
 * engine holds one data folder per process.
 *
 * The default workload is 30 simulated minutes: longer than the 25 min an
 * attempt stays open, so decisions and golden records flow during the run as
 * they do in production, instead of all at the end (a 10 min workload measured
 * mostly the final flush).
 *
 *   node --import tsx bench/kafka.ts [--minutes 30] [--tps 100] [--partitions 4] [--registry-less] [--no-peer] [--cpu-prof DIR]
 *   node --import tsx bench/kafka.ts --peer [--minutes 30] [--tps 100] [--partitions 4]   (only the peer comparison)
 *   node --import tsx bench/kafka.ts --recovery [flags of bench/recovery.ts]   (restart after SIGKILL, checkpoints)
 *   node --import tsx bench/kafka.ts --spread [--instances 1,2,3] [workload flags]   (scale-out: CPU per record over N instances, bench/spread.ts)
 *
 * After its own rows, the default run compares posguard with the Kafka Streams
 * peer on a JSON copy of the workload (bench/peer-compare.ts), or prints a row
 * saying why it could not (no java, no peer folder: POSGUARD_PEER_DIR).
 *
 * TLS and SASL as for `posguard run`, from the environment (KAFKA_SSL, KAFKA_SSL_CA,
 * KAFKA_SSL_CERT/_KEY/_KEY_PASSPHRASE, KAFKA_SASL_MECHANISM/_USERNAME/_PASSWORD): point
 * KAFKA_BROKERS at the SASL_SSL or mTLS listener to measure the cost of encryption.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_RULES } from '../src/config/rules.js';
import { loadRunConfig } from '../src/config/run-config.js';
import { createKafka, type KafkaClientOptions } from '../src/ingest/kafka/client.js';
import { simulateToKafka } from '../src/cli/commands/simulate-kafka.js';
import { KafkaRun } from '../src/runtime/kafka/runner.js';
import { createTopics, type TopicNames } from '../src/ingest/kafka/topics.js';
import { SIM_DEFAULTS } from '../src/sim/index.js';
import { benchBrokers, benchTopics, fmt, kafkaEnv, kafkaOptions, printTable, servicesEnv, type Row } from './kafka-common.js';

export interface KafkaBenchOptions {
  readonly brokers?: string;
  /** null = registry-less plain Avro. Default: SCHEMA_REGISTRY_URL / services.env when set. */
  readonly registry?: string | null;
  readonly minutes?: number;
  readonly tps?: number;
  readonly partitions?: number;
  /** Each end-to-end child writes a V8 CPU profile (`--cpu-prof`) into this folder (bench/cpu-profile-top.ts reads it). */
  readonly cpuProfDir?: string;
}

interface E2eResult {
  records: number;
  events: number;
  seconds: number;
  rowsWritten: number;
  pauses: number;
  /** Records/s between 10% and 90% of the input consumed. */
  steadyRate: number | null;
}

/** Reads every record of the input topics with a no-op eachBatch; the rate from the group join to the last record. */
async function noopConsume(kafkaOpts: KafkaClientOptions, topics: TopicNames, total: number): Promise<number> {
  const kafka = createKafka(kafkaOpts);
  const consumer = kafka.consumer({ groupId: `bench-noop-${Date.now().toString(36)}`, maxBytesPerPartition: 1_048_576, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.terminal, topics.gateway, topics.bank], fromBeginning: true });
  let n = 0;
  let t0 = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat }) => {
      n += batch.messages.length;
      await heartbeat();
      if (n >= total) resolveDone();
    },
  });
  t0 = performance.now();
  await done;
  const secs = (performance.now() - t0) / 1000;
  await consumer.disconnect();
  return secs;
}

/** One `posguard run --until-end` into a fresh embedded ClickHouse, in this process. */
async function e2eChild(args: { brokers: string; registry: string | null; topics: TopicNames; skipRaw: boolean; total: number; maxBytes?: number }): Promise<E2eResult> {
  const dir = mkdtempSync(join(tmpdir(), 'posguard-bench-kafka-'));
  try {
    const { config } = loadRunConfig({
      env: kafkaEnv(),
      flags: {
        brokers: args.brokers, group: `bench-e2e-${Date.now().toString(36)}`, data: dir, untilEnd: true, statusIntervalMs: '0',
        terminalTopic: args.topics.terminal, gatewayTopic: args.topics.gateway, bankTopic: args.topics.bank, dlqTopic: args.topics.dlq, stateTopic: args.topics.state,
        skipRawEvents: args.skipRaw, ...(args.maxBytes ? { maxBytesPerPartition: String(args.maxBytes) } : {}), ...(args.registry ? { registry: args.registry } : { format: 'avro' }),
      },
    });
    const run = new KafkaRun({ config, rules: () => DEFAULT_RULES, log: () => undefined });
    await run.start();
    const t0 = performance.now();
    // Steady state: the records consumed between 10% and 90% of the input,
    // without the group join and rebuild before, and the final decisions and
    // flush after (the run's last 25 min of event time decide only at the end).
    const marks: { at10?: number; at90?: number } = {};
    const poll = setInterval(() => {
      const n = run.stats.records;
      if (marks.at10 === undefined && n >= args.total * 0.1) marks.at10 = performance.now();
      if (marks.at90 === undefined && n >= args.total * 0.9) marks.at90 = performance.now();
    }, 20);
    const r = await run.done;
    clearInterval(poll);
    const seconds = (performance.now() - t0) / 1000;
    const steadySeconds = marks.at10 !== undefined && marks.at90 !== undefined ? (marks.at90 - marks.at10) / 1000 : null;
    return { records: r.stats.records, events: r.stats.events, seconds, rowsWritten: 0, pauses: r.stats.pauses, steadyRate: steadySeconds === null || steadySeconds === 0 ? null : (args.total * 0.8) / steadySeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(payload: object, cpuProfDir?: string): Promise<E2eResult> {
  return new Promise((resolve, reject) => {
    const prof = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`];
    const p = spawn(process.execPath, [...prof, '--import', 'tsx', new URL(import.meta.url).pathname, '--e2e', JSON.stringify(payload)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' } });
    let out = '';
    p.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as E2eResult);
      else reject(new Error(`e2e child exited ${code}: ${out}`));
    });
  });
}

export async function benchKafka(opts: KafkaBenchOptions = {}): Promise<Row[]> {
  const brokersText = opts.brokers ?? benchBrokers();
  const registry = opts.registry !== undefined ? opts.registry : (process.env.SCHEMA_REGISTRY_URL ?? servicesEnv().get('SCHEMA_REGISTRY_URL') ?? null);
  const kafkaOpts = kafkaOptions(brokersText);
  const minutes = opts.minutes ?? 30;
  const tps = opts.tps ?? 100;
  const partitions = opts.partitions ?? 4;
  const topics = benchTopics(`bench-${Date.now().toString(36)}`);
  const admin = createKafka(kafkaOpts).admin();
  await admin.connect();
  const rows: Row[] = [];
  try {
    await createTopics(admin, topics, partitions, 1);
    const produced = await simulateToKafka({ kafka: kafkaOpts, topics, registryUrl: registry, format: 'avro', seed: 11, minutes, tps, startMs: SIM_DEFAULTS.startMs, batchMessages: 5_000 });
    const total = produced.sent.terminal + produced.sent.gateway + produced.sent.bank;
    const format = registry ? 'Confluent Avro (registry)' : 'plain Avro (registry-less)';
    rows.push({ benchmark: 'workload', value: `${fmt(total)} records`, note: `simulator seed 11, ${minutes} min at ${tps} tps, ${partitions} partitions per topic, ${format}, ${produced.bad} bad` });
    rows.push({ benchmark: 'produce (simulate --kafka)', value: `${fmt(total / (produced.elapsedMs / 1000))}/s`, note: `${(produced.elapsedMs / 1000).toFixed(1)} s incl. simulation, idempotent producer, acks=all` });
    const noopSecs = await noopConsume(kafkaOpts, topics, total);
    const noopRate = total / noopSecs;
    rows.push({ benchmark: 'kafkajs consume, no-op eachBatch', value: `${fmt(noopRate)}/s`, note: `${noopSecs.toFixed(2)} s, one consumer, 1 MB per partition per fetch` });
    for (const skipRaw of [false, true]) {
      const r = await runChild({ brokers: brokersText, registry, topics, skipRaw, total }, opts.cpuProfDir);
      const rate = r.records / r.seconds;
      const flag = skipRaw ? ' --skip-raw-events' : '';
      rows.push({
        benchmark: `end to end: run --until-end${flag}`,
        value: `${fmt(rate)}/s`,
        note: `${r.seconds.toFixed(2)} s from group join to durable and closed; ${(rate / noopRate).toFixed(2)} of the no-op rate; ${r.pauses} backpressure pauses`,
      });
      if (r.steadyRate !== null) {
        rows.push({
          benchmark: `  steady state (10%–90% of the input)${flag}`,
          value: `${fmt(r.steadyRate)}/s`,
          note: `${(r.steadyRate / noopRate).toFixed(2)} of the no-op rate; without the join, rebuild, final decisions and flush`,
        });
      }
    }
  } finally {
    await admin.deleteTopics({ topics: [topics.terminal, topics.gateway, topics.bank, topics.dlq, topics.state] }).catch(() => undefined);
    await admin.disconnect();
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--e2e');
  if (at >= 0) {
    const r = await e2eChild(JSON.parse(argv[at + 1]) as Parameters<typeof e2eChild>[0]);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  }
  const num = (flag: string) => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : undefined);
  const workload = { minutes: num('--minutes'), tps: num('--tps'), partitions: num('--partitions') };
  const { benchRecovery, recoveryFlags } = await import('./recovery.js');
  const { benchPeer } = await import('./peer-compare.js');
  let rows: Row[];
  // --recovery: the recovery benchmark (bench/recovery.ts) instead, with its flags; --peer: only the peer comparison.
  if (argv.includes('--recovery')) rows = await benchRecovery(recoveryFlags(argv));
  else if (argv.includes('--spread')) {
    const list = argv.includes('--instances') ? argv[argv.indexOf('--instances') + 1].split(',').map(Number) : undefined;
    rows = await (await import('./spread.js')).benchSpread({ ...workload, instances: list });
  } else if (argv.includes('--peer')) rows = await benchPeer({ ...workload, requested: true });
  else {
    const profAt = argv.indexOf('--cpu-prof');
    const cpuProfDir = profAt >= 0 ? argv[profAt + 1] : undefined;
    if (profAt >= 0 && (cpuProfDir === undefined || cpuProfDir.startsWith('--'))) throw new Error('--cpu-prof needs a folder: --cpu-prof DIR');
    rows = await benchKafka({ ...workload, cpuProfDir, ...(argv.includes('--registry-less') ? { registry: null } : {}) });
    if (!argv.includes('--no-peer')) rows.push(...(await benchPeer(workload)));
  }
  console.log(printTable(rows));
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(rows, null, 2));
}
