/**
 * Recovery benchmark (issue 13, point 4): how long a SIGKILLed `posguard run`
 * takes to be useful again, with and without state checkpoints.
 *
 *   node --import tsx bench/recovery.ts [--hours 1] [--full] [--tps 100] [--span-hours 13]
 *     [--partitions 4] [--live-seconds 150] [--intervals off,default] [--catchup-only off] [--seed 13]
 *     [--prefix P --produce-only | --prefix P --reuse [--used-slices N] [--slices S]]
 *   npm run bench:kafka -- --recovery [same flags]
 *
 * Workload (docs/benchmarks.md, "Recovery"): orphaned debits planted in the
 * first 10 minutes of a `--span-hours` (13 h) event-time span, then `--hours`
 * of simulator traffic at `--tps` ending at the end of the span (`--full` = 6 h,
 * the issue's size; the default 1 h keeps a run to minutes on 2 shared cores).
 * At the kill point the planted orphans are > 12 h old and still OPEN (the
 * resolution horizon is 24 h), so today's restart re-reads back to them: the
 * whole input, at least the 6 h at 100 tps the issue names.
 *
 * `--produce-only` writes the workload to topics `P.*` and keeps them; a later run with the same
 * flags and `--reuse` reads them instead of producing (a 6 h workload takes longer to produce than to
 * read). Each `--reuse` appends its live slices to the topics: a later one passes `--used-slices N` (the slices used so far)
 * and takes the next ones (the `--produce-only` run's `--intervals` count them all; pass that count as `--slices S`
 * when a reuse runs fewer variants than are left).
 *
 * Per variant (`--intervals`: `off` = checkpoints off, a number = interval in ms,
 * `default` = the run's default; `main` = pass no checkpoint flag, for code
 * that has none): a fresh group and data folder; the real CLI process
 * (`bin/posguard.js run`, embedded ClickHouse) reads the backlog until lag 0
 * (the catch-up throughput); then the variant's own slice of the traffic is
 * produced paced at its event-time rate (a live feed) for `--live-seconds`; it
 * is SIGKILLed at a seeded random moment in the last third of that; a second
 * process is started at once on the same group and data while the feed goes on.
 * Measured: records re-read (log end at the kill − the positions the restart
 * started from, per its "restored checkpoint" / "rebuilt" line, summed over
 * topics and partitions), time from the
 * restart to its first decision on input the killed process had not decided
 * (its event-time watermark past the killed one's last), time to caught up
 * (lag 0 with the watermark past the kill point), checkpoint size from
 * /metrics just before the kill. Timings come from status lines every 250 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Admin } from 'kafkajs';
import { createKafka, type KafkaClientOptions } from '../src/ingest/kafka/client.js';
import { barrierSummary } from './barrier-figures.js';
import { createStateTopic } from '../src/ingest/kafka/checkpoint/topic.js';
import { openRecordProducer, type ProducerRecord, type RecordProducer } from '../src/ingest/kafka/producer.js';
import { createTopics, type TopicNames } from '../src/ingest/kafka/topics.js';
import { STREAMS } from '../src/events/index.js';
import { simulate, type SimRecord } from '../src/sim/index.js';
import { Rng } from '../src/sim/rng.js';
import { benchBrokers, benchTopics, fmt, kafkaOptions, printTable, type Row } from './kafka-common.js';

export interface RecoveryOptions {
  readonly hours?: number;
  readonly tps?: number;
  readonly spanHours?: number;
  readonly partitions?: number;
  readonly liveSeconds?: number;
  /** 'off', 'default' (60 s, the interval the issue names; the run's default is off for now), 'main' (no flag, for a build without checkpoints) or an interval in ms. */
  readonly intervals?: readonly string[];
  /** Of `intervals`, those measured for their catch-up throughput only (no live feed, no kill). */
  readonly catchupOnly?: readonly string[];
  readonly seed?: number;
  /** Topic prefix (default: a new one per run). With `reuse`, the topics a `--produce-only --prefix P` run left. */
  readonly prefix?: string;
  /** 'only': produce the workload, keep the topics and stop; 'reuse': produce nothing, read what 'only' left (same workload flags). */
  readonly produce?: 'yes' | 'only' | 'reuse';
  /** With 'reuse': live slices an earlier `--reuse` run already appended (its variants' slices come first). */
  readonly usedSlices?: number;
  /** With `reuse`: the live slices the `--produce-only` run made room for (its `--intervals` count), when more than used + these variants. */
  readonly slices?: number;
}

const ROOT = new URL('..', import.meta.url).pathname;
const STATUS_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A status line of the run, parsed, with the wall time it arrived. */
interface Status { at: number; records: number; lag: number | null; watermark: number; open: number }

function parseStatus(line: string, at: number): Status | null {
  const m = /(\d+) records \(\d+\/s\), lag (\d+|\?),[^\n]*min watermark (\S+) \| open attempts (\d+)/.exec(line);
  if (!m) return null;
  return { at, records: Number(m[1]), lag: m[2] === '?' ? null : Number(m[2]), watermark: m[3] === '-' ? -Infinity : Date.parse(m[3]), open: Number(m[4]) };
}

/** `posguard run` as a child process, its status lines timestamped as they arrive. */
class RunProcess {
  readonly proc: ChildProcess;
  readonly startedAt = performance.now();
  readonly statuses: Status[] = [];
  private out = '';
  readonly exited: Promise<number | string>;

  /** `logPath`: every line is appended there as it arrives (read it while the run goes on, or after a bench that died). */
  constructor(args: readonly string[], readonly metricsPort: number, logPath: string) {
    const log = createWriteStream(logPath);
    this.proc = spawn(process.execPath, [join(ROOT, 'bin/posguard.js'), ...args], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CLICKHOUSE_URL: '', SCHEMA_REGISTRY_URL: '', KAFKAJS_NO_PARTITIONER_WARNING: '1', POSGUARD_METRICS_PORT: String(metricsPort) },
    });
    let partial = '';
    const onData = (b: Buffer) => {
      const at = performance.now();
      const text = partial + b.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        this.out += `${l}\n`;
        log.write(`${l}\n`);
        const s = parseStatus(l, at);
        if (s) this.statuses.push(s);
      }
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
    this.exited = new Promise((res) => this.proc.on('exit', (code, sig) => {
      log.end();
      res(code ?? sig ?? -1);
    }));
  }

  output(): string {
    return this.out;
  }

  /** The first status line (from index `from`) meeting `ok`; rejects if the process exits or `timeoutMs` passes. */
  async until(ok: (s: Status) => boolean, timeoutMs: number, from = 0): Promise<Status> {
    const t0 = performance.now();
    for (;;) {
      const hit = this.statuses.slice(from).find(ok);
      if (hit) return hit;
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`run exited (${this.proc.exitCode ?? this.proc.signalCode}):\n${this.out.slice(-3000)}`);
      if (performance.now() - t0 > timeoutMs) throw new Error(`run did not get there in ${timeoutMs} ms:\n${this.out.slice(-3000)}`);
      await sleep(50);
    }
  }

  last(): Status | undefined {
    return this.statuses[this.statuses.length - 1];
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a !== null ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

/** Sum of a metric family's samples on /metrics (null when absent or unreachable). */
async function scrape(port: number, names: readonly string[]): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = Object.fromEntries(names.map((n) => [n, null]));
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(\{[^}]*\})? ([-+\d.eE]+|NaN)$/.exec(line);
      if (m && names.includes(m[1]) && Number.isFinite(Number(m[3]))) out[m[1]] = (out[m[1]] ?? 0) + Number(m[3]);
    }
  } catch {
    // a metric the run does not expose stays null
  }
  return out;
}

/** The traffic's records in arrival order, taken in arrival-time slices. */
class ArrivalFeed {
  private readonly it: Iterator<SimRecord>;
  private head: SimRecord | null;

  constructor(records: Iterable<SimRecord>) {
    this.it = records[Symbol.iterator]();
    const first = this.it.next();
    this.head = first.done ? null : first.value;
  }

  /** Records arriving before `arrivalMs` (the feed moves past them). */
  *until(arrivalMs: number): Generator<ProducerRecord> {
    while (this.head !== null && this.head.arrivalMs < arrivalMs) {
      yield this.head;
      const n = this.it.next();
      this.head = n.done ? null : n.value;
    }
  }
}

/** Sends the feed's records of [fromMs, toMs) arrival time paced at their event-time rate (1 s of arrivals per wall second). */
async function paced(producer: RecordProducer, feed: ArrivalFeed, fromMs: number, toMs: number, stop: { done: boolean }): Promise<number> {
  const wall0 = performance.now();
  let sent = 0;
  for (let at = fromMs; at < toMs && !stop.done;) {
    const next = Math.min(toMs, fromMs + (performance.now() - wall0) + 200);
    const batch = [...feed.until(next)];
    await producer.send(batch);
    sent += batch.length;
    at = next;
    const wait = wall0 + (at - fromMs) - performance.now();
    if (wait > 0) await sleep(wait);
  }
  return sent;
}

/** Log end offsets of the input topics, per `<stream>/<partition>`. */
export async function endOffsets(admin: Admin, topics: TopicNames): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const s of STREAMS) for (const p of await admin.fetchTopicOffsets(topics[s])) m.set(`${s}/${p.partition}`, Number(p.high));
  return m;
}

/**
 * Where a run started reading, per `<stream>/<partition>`: its first "restored checkpoint 3 of 4 partitions in 80 ms: p0 at t/g/b; …"
 * or "rebuilt … partitions: p0 from t/g/b …" line (offsets terminal/gateway/bank); null before that line.
 */
export function startPositions(out: string): Map<string, number> | null {
  const line = /(?:restored checkpoint \d+ of \d+ partitions?[^:\n]*|rebuilt \d+ partitions?):[^\n]*/.exec(out)?.[0];
  if (line === undefined) return null;
  const m = new Map<string, number>();
  for (const x of line.matchAll(/p(\d+) (?:at|from) (\d+)\/(\d+)\/(\d+)/g)) STREAMS.forEach((s, i) => m.set(`${s}/${x[1]}`, Number(x[i + 2])));
  return m;
}

/** Records a restart read again: from where it started to the log end at the kill, summed. */
export function reReadRecords(starts: Map<string, number>, endsAtKill: Map<string, number>): number {
  let n = 0;
  for (const [k, end] of endsAtKill) n += Math.max(0, end - (starts.get(k) ?? 0));
  return n;
}

interface Bench {
  readonly admin: Admin;
  readonly producer: RecordProducer;
  readonly feed: ArrivalFeed;
  readonly topics: TopicNames;
  readonly brokers: string;
  readonly prefix: string;
  readonly liveMs: number;
  readonly random: () => number;
}

interface VariantResult {
  backlog: number; catchupSeconds: number; catchupRate: number; steadyRate: number | null;
  live: number; killAfterSeconds: number; reRead: number; perInterval: number | null;
  firstNewDecisionSeconds: number; caughtUpSeconds: number; restartFrom: string;
  checkpointBytes: number | null; openAttempts: number | null; activeCards: number | null;
  /** The killed run's barriers (bench/barrier-figures.ts), null without checkpoints. */
  barriers: string | null;
}

function runArgs(b: Bench, group: string, dataDir: string, interval: string): string[] {
  const ck = interval === 'main' ? [] : ['--checkpoint-interval-ms', interval === 'off' ? '0' : interval === 'default' ? '60000' : interval];
  return [
    'run', '--brokers', b.brokers, '--format', 'avro', '--group', group, '--data', dataDir,
    '--terminal-topic', b.topics.terminal, '--gateway-topic', b.topics.gateway, '--bank-topic', b.topics.bank,
    '--dlq-topic', b.topics.dlq, '--state-topic', b.topics.state,
    '--status-interval-ms', String(STATUS_MS), '--session-timeout-ms', '6000', '--heartbeat-interval-ms', '1000', ...ck,
  ];
}

/** How the restart began: its oldest rebuild floor, or its checkpoint restore line. */
function restartLine(out: string): string {
  const floors = [...out.matchAll(/floor (\d{4}-[^)\s]+)\)/g)].map((m) => m[1]).sort();
  const restored = /^.*restor.*$/im.exec(out)?.[0];
  if (restored && !/rebuilt/.test(restored)) return restored.replace(/^.*?"msg":"/, '').slice(0, 140);
  return floors.length > 0 ? `rebuilt from floor ${floors[0]}` : (/rebuilt[^\n]*/.exec(out)?.[0].slice(0, 140) ?? '?');
}

/** Records/s between 10% and 90% of `total` read, from the status lines. */
function steadyRate(st: readonly Status[], total: number): number | null {
  const a = st.find((s) => s.records >= total * 0.1);
  const b = st.find((s) => s.records >= total * 0.9);
  return a && b && b.at > a.at ? (b.records - a.records) / ((b.at - a.at) / 1000) : null;
}

const NOT_MEASURED: VariantResult = {
  backlog: 0, catchupSeconds: NaN, catchupRate: NaN, steadyRate: null, live: 0, killAfterSeconds: NaN, reRead: NaN, perInterval: null,
  firstNewDecisionSeconds: NaN, caughtUpSeconds: NaN, restartFrom: '-', checkpointBytes: null, openAttempts: null, activeCards: null, barriers: null,
};

/** One variant: catch up, live feed, SIGKILL, restart; see the header. */
async function variant(b: Bench, k: number, interval: string, tailFromMs: number, catchupOnly: boolean): Promise<VariantResult> {
  // The run's own suffix: several runs may read one kept workload (--reuse), each with fresh groups.
  const group = `${b.prefix}-${RUN_ID}-${k}-${interval}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-bench-recovery-'));
  const args = runArgs(b, group, dataDir, interval);
  try {
    const backlog = [...(await endOffsets(b.admin, b.topics)).values()].reduce((x, y) => x + y, 0);
    const a = new RunProcess(args, await freePort(), join(tmpdir(), `${group}.killed.log`));
    const caught = await a.until((s) => s.lag === 0 && s.records >= backlog, 3_600_000);
    const catchupSeconds = (caught.at - a.startedAt) / 1000;
    if (catchupOnly) {
      a.proc.kill('SIGTERM');
      await a.exited;
      return { ...NOT_MEASURED, backlog, catchupSeconds, catchupRate: backlog / catchupSeconds, steadyRate: steadyRate(a.statuses, backlog) };
    }
    const stop = { done: false };
    const liveFrom = performance.now();
    const feeding = paced(b.producer, b.feed, tailFromMs, tailFromMs + b.liveMs, stop);
    const killAfterMs = b.liveMs * (2 / 3 + b.random() / 4);
    await sleep(killAfterMs);
    const m = await scrape(a.metricsPort, ['posguard_checkpoint_size_bytes', 'posguard_open_attempts', 'posguard_active_cards']);
    a.proc.kill('SIGKILL');
    const killedAt = performance.now();
    await a.exited;
    const ends = await endOffsets(b.admin, b.topics);
    const lastA = a.last()!;
    const r = new RunProcess(args, await freePort(), join(tmpdir(), `${group}.restart.log`));
    const newDecision = await r.until((s) => s.watermark > lastA.watermark, 3_600_000);
    const up = await r.until((s) => s.lag === 0 && s.watermark >= lastA.watermark, 3_600_000);
    const reRead = reReadRecords(startPositions(r.output()) ?? new Map(), ends);
    const live = await feeding;
    stop.done = true;
    r.proc.kill('SIGTERM');
    await r.exited;
    const liveRate = live / (b.liveMs / 1000);
    const intervalMs = interval === 'default' ? 60_000 : Number(interval);
    return {
      backlog, catchupSeconds, catchupRate: backlog / catchupSeconds, steadyRate: steadyRate(a.statuses, backlog),
      live, killAfterSeconds: (killedAt - liveFrom) / 1000, reRead,
      perInterval: Number.isFinite(intervalMs) && intervalMs > 0 ? (liveRate * intervalMs) / 1000 : null,
      firstNewDecisionSeconds: (newDecision.at - r.startedAt) / 1000, caughtUpSeconds: (up.at - r.startedAt) / 1000,
      restartFrom: restartLine(r.output()),
      checkpointBytes: m.posguard_checkpoint_size_bytes, openAttempts: m.posguard_open_attempts, activeCards: m.posguard_active_cards,
      barriers: barrierSummary(a.output()),
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const RUN_ID = Date.now().toString(36);
const DEFAULTS = { hours: 1, tps: 100, spanHours: 13, partitions: 4, liveSeconds: 150, seed: 13, produce: 'yes' as 'yes' | 'only' | 'reuse', usedSlices: 0 };
/** Traffic ends at 16:00 UTC of the simulator's day (a shopping afternoon: the diurnal profile near 1). */
const TRAFFIC_END_MS = Date.UTC(2026, 2, 2, 16, 0, 0);
const PLANT_MINUTES = 10;


function variantRows(interval: string, v: VariantResult, offRate: number | null): Row[] {
  const label = interval === 'off' || interval === 'main' ? `checkpoints ${interval}` : (interval === 'default' ? 'checkpoints every 60 s' : `checkpoints every ${interval} ms`);
  const rows: Row[] = [
    { benchmark: `${label}: catch-up`, value: `${fmt(v.catchupRate)}/s`, note: `${fmt(v.backlog)} records in ${v.catchupSeconds.toFixed(1)} s from process start to lag 0; steady 10–90 % ${v.steadyRate === null ? '?' : fmt(v.steadyRate)}/s${offRate ? `; ${(v.catchupRate / offRate).toFixed(2)} of checkpoints off` : ''}` },
    { benchmark: `${label}: records re-read after SIGKILL`, value: fmt(v.reRead), note: `killed ${v.killAfterSeconds.toFixed(1)} s into the live feed (${fmt(v.live)} records paced)${v.perInterval ? `; ${(v.reRead / v.perInterval).toFixed(2)} checkpoint intervals of live input (${fmt(v.perInterval)} per interval)` : ''}; restart: ${v.restartFrom}` },
    { benchmark: `${label}: restart → first new decision`, value: `${v.firstNewDecisionSeconds.toFixed(1)} s`, note: 'watermark past the killed process\'s last; includes process start, ClickHouse open, the dead member\'s 6 s session' },
    { benchmark: `${label}: restart → caught up`, value: `${v.caughtUpSeconds.toFixed(1)} s`, note: 'lag 0 and watermark past the kill point' },
  ];
  if (Number.isNaN(v.reRead)) rows.splice(1); // catch-up only
  if (v.barriers !== null) rows.push({ benchmark: `${label}: barriers before the kill`, value: v.barriers.split(';')[0], note: v.barriers });
  if (v.checkpointBytes !== null) {
    rows.push({ benchmark: `${label}: checkpoint size`, value: `${fmt(v.checkpointBytes)} B`, note: `records (skeletons; the item tables are in the segments, row above), sum over keys before the kill; ${v.openAttempts ?? '?'} open attempts, ${v.activeCards ?? '?'} active cards${v.openAttempts ? `: ${(v.checkpointBytes / v.openAttempts).toFixed(0)} B per open attempt (cards included)` : ''}` });
  }
  return rows;
}

async function produceWorkload(b: Omit<Bench, 'feed'>, o: Required<Omit<RecoveryOptions, 'intervals' | 'catchupOnly' | 'prefix' | 'slices'>>, variants: number, catchupOnly = false): Promise<{ feed: ArrivalFeed; tailFromMs: number; rows: Row[] }> {
  const trafficStart = TRAFFIC_END_MS - o.hours * 3_600_000;
  const plantStart = TRAFFIC_END_MS - o.spanHours * 3_600_000;
  const t0 = performance.now();
  // Planted: 10 minutes of traffic (with its injected orphans) at the start of the span; nothing until the traffic.
  if (o.produce === 'reuse') return reuseWorkload(b, o, variants, plantStart, trafficStart, catchupOnly);
  await b.producer.send(simulate({ seed: o.seed + 1, minutes: PLANT_MINUTES, tps: 20, startMs: plantStart }).records);
  const planted = b.producer.result();
  const plantedRecords = planted.sent.terminal + planted.sent.gateway + planted.sent.bank;
  const feed = new ArrivalFeed(simulate({ seed: o.seed, minutes: o.hours * 60, tps: o.tps, startMs: trafficStart }).records);
  const tailFromMs = TRAFFIC_END_MS - variants * b.liveMs;
  // Every variant's backlog must be traffic: its live slices may take at most half of it.
  if (tailFromMs < trafficStart + (TRAFFIC_END_MS - trafficStart) / 2) throw new Error(`${variants} live slices of ${b.liveMs / 1000} s take more than half of ${o.hours} h of traffic: more --hours or fewer --live-seconds`);
  await b.producer.send(feed.until(tailFromMs));
  const secs = (performance.now() - t0) / 1000;
  const r = b.producer.result();
  const total = r.sent.terminal + r.sent.gateway + r.sent.bank;
  return {
    feed, tailFromMs,
    rows: [
      { benchmark: 'recovery workload', value: `${fmt(total)} records`, note: `${fmt(plantedRecords)} planted at ${new Date(plantStart).toISOString()} (10 min, 20 tps), then ${o.hours} h at ${o.tps} tps to ${new Date(tailFromMs).toISOString()}; ${variants} live slices of ${b.liveMs / 1000} s follow; ${o.partitions} partitions, seed ${o.seed}` },
      { benchmark: 'recovery workload: produce', value: `${fmt(total / secs)}/s`, note: `${secs.toFixed(1)} s incl. simulation` },
    ],
  };
}

/**
 * The workload a `--produce-only` run left in the topics: nothing is sent; the feed is moved to where the
 * live slices start (the same simulator, seed and flags give the same records), and the topics' record
 * count is checked against it.
 */
async function reuseWorkload(b: Omit<Bench, 'feed'>, o: Required<Omit<RecoveryOptions, 'intervals' | 'catchupOnly' | 'prefix' | 'slices'>>, variants: number, plantStart: number, trafficStart: number, catchupOnly: boolean): Promise<{ feed: ArrivalFeed; tailFromMs: number; rows: Row[] }> {
  let expected = 0;
  for (const _ of simulate({ seed: o.seed + 1, minutes: PLANT_MINUTES, tps: 20, startMs: plantStart }).records) expected++;
  const feed = new ArrivalFeed(simulate({ seed: o.seed, minutes: o.hours * 60, tps: o.tps, startMs: trafficStart }).records);
  const tailFromMs = TRAFFIC_END_MS - variants * b.liveMs;
  // The slices earlier --reuse runs appended are backlog now.
  for (const _ of feed.until(tailFromMs + o.usedSlices * b.liveMs)) expected++;
  const held = [...(await endOffsets(b.admin, b.topics)).values()].reduce((x, y) => x + y, 0);
  // A catch-up-only run may follow one with live slices (they were appended to the backlog it reads).
  if (held < expected || (held > expected && !catchupOnly)) throw new Error(`topics ${b.prefix}.* hold ${held} records, this workload has ${expected}: produce it with the same flags and --produce-only`);
  return { feed, tailFromMs, rows: [{ benchmark: 'recovery workload', value: `${fmt(held)} records`, note: `reused from ${b.prefix} (${o.hours} h at ${o.tps} tps; ${variants} live slice(s) of ${b.liveMs / 1000} s; ${o.partitions} partitions, seed ${o.seed})` }] };
}

export async function benchRecovery(opts: RecoveryOptions = {}): Promise<Row[]> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & RecoveryOptions;
  const brokers = benchBrokers();
  const kafka: KafkaClientOptions = kafkaOptions(brokers);
  const intervals = o.intervals ?? ['off', 'default'];
  const prefix = o.prefix ?? `bench-rec-${RUN_ID}`;
  const topics = benchTopics(prefix);
  const admin = createKafka(kafka).admin();
  await admin.connect();
  // Registry-less plain Avro: the run children get no registry either.
  const producer = await openRecordProducer({ kafka, topics, registryUrl: null, format: 'avro', batchMessages: 5_000 });
  try {
    if (o.produce !== 'reuse') await createTopics(admin, topics, o.partitions, 1);
    // A just-created topic's metadata may lag on a busy broker (UNKNOWN_TOPIC_OR_PARTITION while waiting for leaders): again, it is then checked.
    for (let i = 0; o.produce !== 'reuse'; i++) {
      try {
        await createStateTopic(admin, topics.state, o.partitions, null);
        break;
      } catch (e) {
        if (i >= 4) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const rng = new Rng(o.seed);
    const base = { admin, producer, topics, brokers, prefix, liveMs: o.liveSeconds * 1000, random: () => rng.float() };
    const w = await produceWorkload(base, o, Math.max(o.slices ?? 0, o.usedSlices + intervals.length), intervals.every((i) => (o.catchupOnly ?? []).includes(i)));
    const rows = [...w.rows];
    if (o.produce === 'only') return rows;
    const results: [string, VariantResult][] = [];
    for (const [k, interval] of intervals.entries()) {
      const v = await variant({ ...base, feed: w.feed }, k, interval, w.tailFromMs + (o.usedSlices + k) * base.liveMs, (o.catchupOnly ?? []).includes(interval));
      results.push([interval, v]);
      process.stderr.write(`${JSON.stringify({ interval, ...v })}\n`);
    }
    const off = results.find(([i]) => i === 'off' || i === 'main');
    for (const [interval, v] of results) rows.push(...variantRows(interval, v, off === undefined || off[1] === v ? null : off[1].catchupRate));
    return rows;
  } finally {
    await producer.close();
    if (o.produce === 'yes') await admin.deleteTopics({ topics: [topics.terminal, topics.gateway, topics.bank, topics.dlq, topics.state] }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** Flags of `bench/recovery.ts` (also after `npm run bench:kafka -- --recovery`). */
export function recoveryFlags(argv: readonly string[]): RecoveryOptions {
  const num = (flag: string) => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : undefined);
  const at = argv.indexOf('--intervals');
  const only = argv.indexOf('--catchup-only');
  return {
    hours: argv.includes('--full') ? 6 : num('--hours'), tps: num('--tps'), spanHours: num('--span-hours'), partitions: num('--partitions'),
    liveSeconds: num('--live-seconds'), seed: num('--seed'), intervals: at >= 0 ? argv[at + 1].split(',') : undefined,
    catchupOnly: only >= 0 ? argv[only + 1].split(',') : undefined,
    prefix: argv.includes('--prefix') ? argv[argv.indexOf('--prefix') + 1] : undefined,
    produce: argv.includes('--produce-only') ? 'only' : argv.includes('--reuse') ? 'reuse' : undefined,
    usedSlices: num('--used-slices'), slices: num('--slices'),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchRecovery(recoveryFlags(process.argv.slice(2)));
  console.log(printTable(rows));
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(rows, null, 2));
}
