/**
 * End to end for card numbers: simulated traffic with hundreds of card
 * numbers planted (fast-check, fixed seed) in every string field of every
 * stream, in many shapes, goes the way `posguard demo` takes it (validator,
 * engine, ClickHouse sink on the embedded engine, metrics) and the way
 * `posguard replay` takes it (JSONL outputs and dead-letter file). Then no
 * table, no output file, no log line, no metric and no report carries one
 * in clear; every planted record is a dead letter; the clean traffic is all
 * there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../src/cli/commands/replay.js';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import type { Stream } from '../../src/events/index.js';
import { parseLine } from '../../src/ingest/jsonl.js';
import { createMetrics } from '../../src/metrics/index.js';
import { buildReport } from '../../src/report/index.js';
import { simulate } from '../../src/sim/index.js';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { TABLES } from '../../src/sinks/clickhouse/tables.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { shapedPanArb, stringFields, type ShapedPan } from '../ingest/pan-support.js';
import { openTestDb, scalar, type TestDb } from './helpers/chdb.js';

const STREAMS = ['terminal', 'gateway', 'bank'] as const;
const TARGETS = STREAMS.flatMap((stream) => stringFields(stream).map((field) => ({ stream, field })));
const PLANTED = 400;

interface Line { readonly stream: Stream; readonly line: string }

let db: TestDb;
let dir: string;
const planted: ShapedPan[] = [];
const lines: Line[] = [];
const logs: string[] = [];
let clean = 0;
/** The simulator's own broken records include card numbers too (src/sim/bad-records.ts). */
let simPans = 0;
/** Planted as a JSON number beyond 2^53: refused as not an exact integer (the validator sees only the rounded value). */
let roundedNumbers = 0;
let registry: Registry;

/** Simulated lines, with PLANTED of them carrying a card number in one string field. */
function buildInput(): void {
  const sim = [...simulate({ seed: 12, minutes: 4, tps: 4, startMs: Date.parse('2026-03-02T08:00:00Z'), rules: DEFAULT_RULES }).records];
  const picks = fc.sample(fc.tuple(fc.constantFrom(...TARGETS), shapedPanArb, fc.nat()), { numRuns: PLANTED, seed: 4242 });
  const byStream = new Map<Stream, number[]>(STREAMS.map((s) => [s, sim.flatMap((r, i) => (r.stream === s && parseLine(s, 'x', 0, r.line).ok ? [i] : []))]));
  const poisonAt = new Map<number, { field: string; p: ShapedPan }>();
  for (const [{ stream, field }, p, n] of picks) {
    const candidates = byStream.get(stream)!.filter((i) => !poisonAt.has(i));
    poisonAt.set(candidates[n % candidates.length], { field, p });
  }
  sim.forEach((r, i) => {
    const poison = poisonAt.get(i);
    if (poison === undefined) {
      const p = parseLine(r.stream, 'x', 0, r.line);
      if (p.ok) clean++;
      else if (p.bad.reason.includes('clear card number')) simPans++;
      lines.push({ stream: r.stream, line: r.line });
      return;
    }
    planted.push(poison.p);
    lines.push({ stream: r.stream, line: plantedLine(r.line, poison.field, poison.p, i) });
  });
}

/**
 * Every tenth card number is planted as a bare JSON number in amount_minor
 * (17-19 digits are rounded by JSON.parse), every tenth after that as a
 * string with a digit \u-escaped; the rest as the string it is.
 */
function plantedLine(line: string, field: string, p: ShapedPan, i: number): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  if (i % 10 === 0 && 'amount_minor' in record) {
    planted[planted.length - 1] = { ...p, run: p.pan, value: p.pan };
    if (!Number.isSafeInteger(Number(p.pan))) roundedNumbers++;
    return JSON.stringify({ ...record, amount_minor: '@PAN@' }).replace('"@PAN@"', p.pan);
  }
  if (i % 10 === 1) {
    const d = p.value.search(/\d/);
    const escaped = JSON.stringify(p.value).replace(p.value[d], `\\u003${p.value[d]}`);
    return JSON.stringify({ ...record, [field]: '@PAN@' }).replace('"@PAN@"', escaped);
  }
  return JSON.stringify({ ...record, [field]: p.value });
}

beforeAll(async () => {
  buildInput();
  db = await openTestDb('pan-property');
  dir = mkdtempSync(join(tmpdir(), 'posguard-pan-replay-'));
  registry = new Registry();
  const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: (level, msg) => logs.push(`${level}: ${msg}`) });
  const metrics = createMetrics({ registry, sinkStats: () => sink.stats(), processDefaults: false });
  const { engine } = createPipeline(() => DEFAULT_RULES, {
    anomaly: (a) => {
      metrics.anomaly(a);
      sink.anomaly(a);
    },
    transaction: (t) => sink.transaction(t),
    late: (stream, event) => sink.lateEvent({ stream, event, ref: { source: 'test' } }),
  });
  lines.forEach(({ stream, line }, n) => {
    const p = parseLine(stream, 'simulator', n, line);
    if (p.ok) {
      metrics.event(stream, p.event);
      sink.rawEvent({ stream, event: p.event, ref: { source: 'simulator', line: n } });
      engine.push(stream, p.event);
    } else {
      metrics.decodeError(stream, p.bad.reason);
      sink.deadLetter({ source: 'simulator', stream, line: n, partition: null, offset: null, reason: p.bad.reason, payload: p.bad.payload, received_at: Date.now() });
    }
  });
  engine.end();
  await sink.flush();
  // The same input through `posguard replay`: JSONL files in, JSONL outputs and dead letters out, a summary on stderr.
  for (const s of STREAMS) writeFileSync(join(dir, `${s}.jsonl`), lines.filter((l) => l.stream === s).map((l) => l.line).join('\n') + '\n');
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    logs.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    await runReplay({ terminal: join(dir, 'terminal.jsonl'), gateway: join(dir, 'gateway.jsonl'), bank: join(dir, 'bank.jsonl'), out: join(dir, 'out.jsonl'), transactions: join(dir, 'txns.jsonl') });
  } finally {
    process.stderr.write = write;
  }
}, 120_000);

afterAll(async () => {
  await db?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function expectNoPan(where: string, text: string): void {
  // leaks() per planted number, with the separator-free copy made once (the tables are megabytes).
  const stripped = text.replace(/[ -]/g, '');
  const found = planted.filter((p) => text.includes(p.run) || stripped.includes(p.pan));
  expect(found.map((p) => p.value), where).toEqual([]);
}

describe(`${PLANTED} card numbers planted in every string field`, () => {
  it('plants them in every field of every stream', () => {
    expect(planted).toHaveLength(PLANTED);
    expect(clean).toBeGreaterThan(2_000);
  });

  it('refuses every planted record into dead_letters and stores the clean traffic', async () => {
    expect(roundedNumbers).toBeGreaterThan(5);
    expect(await scalar(db.client, "SELECT count() AS v FROM dead_letters WHERE reason LIKE '%clear card number%'")).toBe(PLANTED - roundedNumbers + simPans);
    expect(await scalar(db.client, "SELECT count() AS v FROM dead_letters WHERE reason LIKE 'field amount_minor: expected long, got a number of 1_ digits'")).toBe(roundedNumbers);
    expect(await scalar(db.client, 'SELECT count() AS v FROM events_raw')).toBe(clean);
  });

  it('leaves none in clear in any ClickHouse table', async () => {
    for (const t of [...TABLES, 'anomalies_latest']) {
      const text = await (await db.client.query({ query: `SELECT * FROM ${t}`, format: 'JSONEachRow' })).text();
      expectNoPan(t, text);
    }
  });

  it('leaves none in the replay outputs, its JSONL dead-letter file, the logs, the metrics or the report', async () => {
    const dlq = readFileSync(join(dir, 'out.jsonl.dlq.jsonl'), 'utf8');
    expect(dlq.split('\n').filter((l) => l.includes('clear card number'))).toHaveLength(PLANTED - roundedNumbers + simPans);
    for (const f of ['out.jsonl', 'out.jsonl.dlq.jsonl', 'out.jsonl.late.jsonl', 'txns.jsonl']) expectNoPan(f, readFileSync(join(dir, f), 'utf8'));
    expect(logs.join('')).toContain('dead letters written');
    expectNoPan('logs', logs.join('\n'));
    const metrics = await registry.metrics();
    const counted = [...metrics.matchAll(/^posguard_dead_letters_total\{stream="\w+",reason="clear_pan"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(counted).toBe(PLANTED - roundedNumbers + simPans);
    expectNoPan('metrics', metrics);
    expectNoPan('report', await buildReport(db.client, { source: 'test' }));
  });
});
