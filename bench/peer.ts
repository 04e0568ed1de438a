/**
 * The Kafka Streams peer (`../shared/peers/kafka-streams-join/`, its README):
 * whether it can run here, its one command, running it on three filled topics,
 * and reading its figures back (the per-pass JSON lines of `--json FILE` and
 * the `kafka-streams-peer:` summary line that names the pass to compare).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TopicNames } from '../src/ingest/kafka/topics.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** POSGUARD_PEER_DIR, else `shared/` beside the checkout (where CI and the main checkout have it). */
export function peerDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.POSGUARD_PEER_DIR || join(ROOT, '..', 'shared', 'peers', 'kafka-streams-join'));
}

/** One pass of the peer, from its `--json` line. */
export interface PeerPass {
  readonly pass: number;
  readonly jvm: 'cold' | 'warm';
  readonly recordsIn: number;
  /** Pass 1: JVM launch to all input consumed and output durable; later passes: from the pass's start. */
  readonly wallS: number;
  readonly recordsPerS: number;
  /** The JVM's utime+stime over the pass (all threads), less the harness's polling thread. */
  readonly cpuS: number;
  readonly cpuUsPerRecord: number;
  readonly candidates: number | null;
  readonly dropped: number | null;
  /** The local broker's CPU over the pass (repartition and changelog traffic), null when not measured. */
  readonly brokerCpuS: number | null;
}

/** The summary line: the pass run.sh reports (its best warm pass, else its best pass). */
export interface PeerSummary {
  readonly records: number;
  readonly wallS: number;
  readonly recordsPerS: number;
  readonly cpuUsPerRecord: number;
  readonly pass: number;
  readonly jvm: 'cold' | 'warm';
}

/** The last `kafka-streams-peer: records=N wall_s=X records_per_s=Y cpu_us_per_record=Z (pass P, warm|cold)` line; null if none. */
export function parsePeerSummary(stdout: string): PeerSummary | null {
  const re = /^kafka-streams-peer: records=(\d+) wall_s=(\d+(?:\.\d+)?) records_per_s=(\d+) cpu_us_per_record=(\d+(?:\.\d+)?) \(pass (\d+), (warm|cold)\)$/gm;
  const last = [...stdout.matchAll(re)].pop();
  if (last === undefined) return null;
  return { records: Number(last[1]), wallS: Number(last[2]), recordsPerS: Number(last[3]), cpuUsPerRecord: Number(last[4]), pass: Number(last[5]), jvm: last[6] as 'warm' | 'cold' };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The completed passes of a `--json` file (one JSON object a line); a failed or timed-out pass has no wall_s and is left out. */
export function parsePeerPasses(jsonl: string): PeerPass[] {
  const passes: PeerPass[] = [];
  for (const line of jsonl.split('\n').filter((l) => l.startsWith('{'))) {
    const r = JSON.parse(line) as Record<string, unknown>;
    const [wallS, cpuS, perRecord] = [num(r.wall_s), num(r.cpu_s), num(r.cpu_us_per_record)];
    if (r.error !== undefined || r.timed_out === true || wallS === null || cpuS === null || perRecord === null) continue;
    passes.push({
      pass: Number(r.pass), jvm: r.jvm === 'warm' ? 'warm' : 'cold', recordsIn: Number(r.records_in), wallS,
      recordsPerS: Number(r.records_per_s), cpuS, cpuUsPerRecord: perRecord,
      candidates: num(r.orphan_candidates), dropped: num(r.dropped_records), brokerCpuS: num(r.broker_cpu_s),
    });
  }
  return passes;
}

/** The peer's command line for three topics (what the bench runs, and what a skip row tells to run). */
export function peerCommand(dir: string, brokers: string, topics: Pick<TopicNames, 'terminal' | 'gateway' | 'bank'>, jsonFile?: string): string[] {
  return [
    join(dir, 'run.sh'), '--brokers', brokers, '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank,
    ...(jsonFile !== undefined ? ['--json', jsonFile] : []),
  ];
}

/** Why the peer cannot run here, or null. The peer speaks plaintext Kafka only: no TLS, no SASL. */
export function peerSkipReason(dir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (!existsSync(join(dir, 'run.sh'))) return `no peer at ${dir} (set POSGUARD_PEER_DIR to the kafka-streams-join folder)`;
  if (env.KAFKA_SSL || env.KAFKA_SASL_MECHANISM) return 'the peer reads plaintext Kafka only, and KAFKA_SSL / KAFKA_SASL_MECHANISM are set';
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (java.error !== undefined) return 'java is not on PATH (the peer needs Java 17+, and Maven for its first build)';
  return null;
}

export interface PeerRun {
  readonly summary: PeerSummary;
  readonly passes: PeerPass[];
  /** The pass the summary line names (the one to compare). */
  readonly compared: PeerPass;
  readonly cold: PeerPass | null;
}

/** Runs the peer (its progress goes on to our stderr); rejects with the tail of its output when it fails or reports nothing. */
export async function runPeer(dir: string, brokers: string, topics: TopicNames, timeoutMs: number): Promise<PeerRun> {
  const work = mkdtempSync(join(tmpdir(), 'posguard-bench-peer-'));
  const jsonFile = join(work, 'passes.jsonl');
  try {
    const [script, ...args] = peerCommand(dir, brokers, topics, jsonFile);
    const p = spawn('bash', [script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    p.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    p.stderr!.on('data', (b: Buffer) => {
      process.stderr.write(b);
      stderrTail = (stderrTail + b.toString('utf8')).slice(-2_000);
    });
    // run.sh stops its JVM and deletes the run's internal topics when it gets TERM.
    const timer = setTimeout(() => p.kill('SIGTERM'), timeoutMs);
    const code = await new Promise<number | null>((res, rej) => {
      p.on('error', rej);
      p.on('close', res);
    }).finally(() => clearTimeout(timer));
    const summary = parsePeerSummary(stdout);
    const passes = existsSync(jsonFile) ? parsePeerPasses(readFileSync(jsonFile, 'utf8')) : [];
    const compared = passes.find((x) => summary !== null && x.pass === summary.pass);
    if (code !== 0 || summary === null || compared === undefined) {
      throw new Error(`run.sh exited ${code}${summary === null ? ' without its summary line' : ''}: ${(stdout.slice(-1_000) + stderrTail).trim().split('\n').slice(-8).join(' | ')}`);
    }
    return { summary, passes, compared, cold: passes.find((x) => x.jvm === 'cold') ?? null };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
