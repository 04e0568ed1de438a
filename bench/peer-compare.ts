/**
 * posguard side by side with the Kafka Streams peer (issue 16, point 5), in
 * one run on the same topics: `npm run bench:kafka -- --peer` (and part of the
 * default `npm run bench:kafka` when the peer can run here).
 *
 * The workload goes as JSON values (the peer parses JSON only) to fresh topics
 * `bench-peer-<time>.*`. Then the peer (bench/peer.ts: two passes in one JVM,
 * cold then warm; its first run builds its jar) and `posguard run --format json
 * --until-end` twice, with events_raw and with --skip-raw-events (the peer
 * writes no raw-event table), each a fresh process with a fresh group and data
 * folder. posguard's figures are the whole process, launch to exit, under GNU
 * time (bench/process-cpu.ts); the peer's are its own, per pass.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka } from '../src/ingest/kafka/client.js';
import { simulateToKafka } from '../src/cli/commands/simulate-kafka.js';
import { createTopics, type TopicNames } from '../src/ingest/kafka/topics.js';
import { SIM_DEFAULTS } from '../src/sim/index.js';
import { benchBrokers, benchTopics, fmt, kafkaOptions, type Row } from './kafka-common.js';
import { peerDir, peerSkipReason, runPeer, type PeerPass, type PeerRun } from './peer.js';
import { cpuUsPerRecord, runTimed, type ProcessCpu } from './process-cpu.js';

const ROOT = new URL('..', import.meta.url).pathname;
const POSGUARD_TIMEOUT_MS = 20 * 60_000;
/** Two passes of at most run.sh's 600 s each, plus a first build. */
const PEER_TIMEOUT_MS = 35 * 60_000;

export interface PeerCompareOptions {
  readonly minutes?: number;
  readonly tps?: number;
  readonly partitions?: number;
  /** true (`--peer`): measure posguard even when the peer cannot run; false (default bench): then only say why. */
  readonly requested?: boolean;
}

/** What posguard's end-of-run summary says. */
export interface RunSummary {
  readonly records: number;
  /** From the group join to the end (the run's own timer). */
  readonly inRunS: number;
  readonly orphanDebits: number;
}

export interface PosguardPass extends RunSummary {
  readonly skipRaw: boolean;
  readonly cpu: ProcessCpu;
}

/**
 * `records read  N in X s (R/s)` and the orphaned debits of the summary (one `ORPHAN_DEBIT/<cause>  n` line per
 * cause, retracted ones apart: the sum is comparable with the peer's candidates; none listed = 0); null without a summary.
 */
export function parseRunSummary(output: string): RunSummary | null {
  const read = /^\s+records read\s+(\d+) in (\d+(?:\.\d+)?) s\b/m.exec(output);
  if (read === null) return null;
  const orphans = [...output.matchAll(/^\s+ORPHAN_DEBIT(?:\/\w+)?\s+(\d+)\s*$/gm)].map((m) => Number(m[1]));
  return { records: Number(read[1]), inRunS: Number(read[2]), orphanDebits: orphans.reduce((a, b) => a + b, 0) };
}

/** One `posguard run --format json --until-end` process: fresh group and data folder, no metrics port (others may hold 9464). */
async function posguardPass(brokers: string, topics: TopicNames, skipRaw: boolean): Promise<PosguardPass> {
  const data = mkdtempSync(join(tmpdir(), 'posguard-bench-peer-data-'));
  const args = [
    'run', '--brokers', brokers, '--format', 'json', '--until-end', '--group', `bench-peer-${Date.now().toString(36)}`, '--data', data,
    '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq, '--state-topic', topics.state,
    '--metrics-port', '0', '--status-interval-ms', '0', ...(skipRaw ? ['--skip-raw-events'] : []),
  ];
  try {
    const env = { ...process.env, CLICKHOUSE_URL: '', SCHEMA_REGISTRY_URL: '', KAFKAJS_NO_PARTITIONER_WARNING: '1' };
    const r = await runTimed([process.execPath, join(ROOT, 'bin/posguard.js'), ...args], { cwd: ROOT, env, timeoutMs: POSGUARD_TIMEOUT_MS });
    const summary = parseRunSummary(r.output);
    if (r.code !== 0 || summary === null) throw new Error(`posguard run exited ${r.code}: ${r.output.slice(-3_000)}`);
    return { ...summary, skipRaw, cpu: r.cpu };
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

const perRecord = (us: number) => `${us.toFixed(1)} CPU-µs/record`;
const posguardLabel = (p: PosguardPass) => (p.skipRaw ? '--skip-raw-events' : 'events_raw');

function posguardRow(p: PosguardPass): Row {
  return {
    benchmark: `posguard run --format json --until-end (${posguardLabel(p)})`,
    value: `${fmt(p.records / p.cpu.wallS)}/s, ${perRecord(cpuUsPerRecord(p.cpu, p.records))}`,
    note: `${fmt(p.records)} records; wall ${p.cpu.wallS.toFixed(1)} s launch to exit; CPU user ${p.cpu.userS.toFixed(1)} + sys ${p.cpu.sysS.toFixed(1)} s ` +
      `(GNU time: whole process, all threads); ${fmt(p.records / p.inRunS)}/s group join to end; ORPHAN_DEBIT ${p.orphanDebits}; max RSS ${fmt(p.cpu.maxRssKb / 1024)} MB`,
  };
}

function peerRow(x: PeerPass): Row {
  return {
    benchmark: `Kafka Streams peer, pass ${x.pass} (${x.jvm} JVM)`,
    value: `${fmt(x.recordsPerS)}/s, ${perRecord(x.cpuUsPerRecord)}`,
    note: `${fmt(x.recordsIn)} records; wall ${x.wallS.toFixed(1)} s from ${x.pass === 1 ? 'JVM launch' : 'pass start'}; CPU ${x.cpuS.toFixed(1)} s (JVM, all threads); ` +
      `${x.candidates ?? '?'} orphan candidates, ${x.dropped ?? '?'} dropped${x.brokerCpuS !== null ? `; broker ${x.brokerCpuS.toFixed(1)} CPU-s, not counted` : ''}`,
  };
}

/** posguard ÷ peer: records/s above 1 = posguard faster; CPU-µs/record above 1 = posguard costs more per record. */
export function ratios(p: PosguardPass, x: PeerPass): { recordsPerS: number; cpuUsPerRecord: number } {
  return { recordsPerS: p.records / p.cpu.wallS / x.recordsPerS, cpuUsPerRecord: cpuUsPerRecord(p.cpu, p.records) / x.cpuUsPerRecord };
}

/** The rows to print: each posguard pass, the peer's cold pass and the one compared, and posguard ÷ peer per posguard pass. */
export function comparisonRows(posguard: readonly PosguardPass[], peer: PeerRun): Row[] {
  const rows: Row[] = posguard.map(posguardRow);
  if (peer.cold !== null && peer.cold !== peer.compared) rows.push(peerRow(peer.cold));
  rows.push(peerRow(peer.compared));
  for (const p of posguard) {
    const r = ratios(p, peer.compared);
    const c = peer.cold !== null && peer.cold !== peer.compared ? ratios(p, peer.cold) : null;
    const differ = p.records !== peer.compared.recordsIn ? `; NOTE: posguard read ${fmt(p.records)} records, the peer ${fmt(peer.compared.recordsIn)}` : '';
    rows.push({
      benchmark: `  posguard (${posguardLabel(p)}) ÷ peer pass ${peer.compared.pass} (${peer.compared.jvm})`,
      value: `×${r.recordsPerS.toFixed(2)} records/s, ×${r.cpuUsPerRecord.toFixed(2)} CPU-µs/record`,
      note: `records/s above 1: posguard faster; CPU-µs/record above 1: posguard costs more${c !== null ? `; vs the cold pass: ×${c.recordsPerS.toFixed(2)}, ×${c.cpuUsPerRecord.toFixed(2)}` : ''}${differ}`,
    });
  }
  return rows;
}

function peerNotRunRow(what: 'skipped' | 'failed', reason: string, o: PeerCompareOptions): Row {
  const flags = [o.minutes !== undefined ? ` --minutes ${o.minutes}` : '', o.tps !== undefined ? ` --tps ${o.tps}` : ''].join('');
  return { benchmark: 'Kafka Streams peer', value: what, note: `${reason}. Run it with: POSGUARD_PEER_DIR=${peerDir()} npm run bench:kafka -- --peer${flags}` };
}

/** The comparison's rows (bench/kafka.ts prints them). */
export async function benchPeer(o: PeerCompareOptions = {}): Promise<Row[]> {
  const skip = peerSkipReason(peerDir());
  if (skip !== null && o.requested !== true) return [peerNotRunRow('skipped', skip, o)];
  const brokers = benchBrokers();
  const kafka = kafkaOptions(brokers);
  const [minutes, tps, partitions] = [o.minutes ?? 30, o.tps ?? 100, o.partitions ?? 4];
  const topics = benchTopics(`bench-peer-${Date.now().toString(36)}`);
  const admin = createKafka(kafka).admin();
  await admin.connect();
  try {
    await createTopics(admin, topics, partitions, 1);
    const produced = await simulateToKafka({ kafka, topics, registryUrl: null, format: 'json', seed: 11, minutes, tps, startMs: SIM_DEFAULTS.startMs, batchMessages: 5_000 });
    const total = produced.sent.terminal + produced.sent.gateway + produced.sent.bank;
    const rows: Row[] = [{ benchmark: 'peer workload (JSON values)', value: `${fmt(total)} records`, note: `simulator seed 11, ${minutes} min at ${tps} tps, ${partitions} partitions, topics ${topics.terminal.replace(/\.pos\..*/, '')}.*, ${produced.bad} bad` }];
    // The peer first: its first run builds its jar (Maven), which must not overlap a posguard measurement.
    let peer: PeerRun | null = null;
    if (skip !== null) rows.push(peerNotRunRow('skipped', skip, o));
    else {
      try {
        peer = await runPeer(peerDir(), brokers, topics, PEER_TIMEOUT_MS);
      } catch (e) {
        rows.push(peerNotRunRow('failed', (e as Error).message, o));
      }
    }
    const posguard = [await posguardPass(brokers, topics, false), await posguardPass(brokers, topics, true)];
    rows.push(...(peer !== null ? comparisonRows(posguard, peer) : posguard.map(posguardRow)));
    return rows;
  } finally {
    await admin.deleteTopics({ topics: [topics.terminal, topics.gateway, topics.bank, topics.dlq, topics.state] }).catch(() => undefined);
    await admin.disconnect();
  }
}
