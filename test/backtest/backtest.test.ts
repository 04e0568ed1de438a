/**
 * `posguard backtest` against the embedded ClickHouse. `posguard demo` fills
 * events_raw (and every production table) from simulated traffic; the
 * backtest's added / removed / changed anomalies must be exactly the
 * difference between the batch reference run on the same simulated events
 * under the two rule sets. Labels count where they exist (and a missing
 * labels table means none); no table is created, changed or filled.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRules, DEFAULT_RULES, loadRulesFile } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { readEvents, type SourceStats } from '../../src/backtest/events-source.js';
import { latestLabels } from '../../src/backtest/labels.js';
import { groupRows, renderReport as renderBacktest, type DiffLine } from '../../src/backtest/render.js';
import { runBacktestCommand } from '../../src/cli/commands/backtest.js';
import { runBacktest } from '../../src/runtime/backtest-job.js';
import { rulesInForce } from '../../src/backtest/rules-in-force.js';
import { rulesStamp } from '../../src/config/rules-version.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import { openClickHouse, type ClickHouseHandle } from '../../src/sinks/clickhouse/connection.js';
import { backtestDiff, referenceDiff, simulatedEvents } from './helpers.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/posguard.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'posguard-backtest-'));
const data = join(dir, 'data');
const SIM = { seed: 3, minutes: 40, tps: 2, startMs: Date.UTC(2026, 2, 2, 7, 40) };
const MIN = 60_000;

let ch: ClickHouseHandle;
let client: ClickHouseClient;

/** Every table of the database with its row count and a checksum of all its rows. */
async function snapshot(): Promise<Record<string, string>> {
  const tables = await (await client.query({ query: "SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name", format: 'JSONEachRow' })).json<{ name: string; engine: string }>();
  const out: Record<string, string> = {};
  for (const t of tables) {
    if (t.engine === 'View') {
      out[t.name] = 'view';
      continue;
    }
    const [r] = await (await client.query({ query: `SELECT count() AS n, sum(cityHash64(*)) AS h FROM \`${t.name}\``, format: 'JSONEachRow' })).json<{ n: string; h: string }>();
    out[t.name] = `${r.n} rows, checksum ${r.h}`;
  }
  return out;
}

const cli = (args: string[]) => run(process.execPath, [BIN, 'backtest', ...args], { maxBuffer: 1 << 24 }).then(
  (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
  (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
);

const events = simulatedEvents(SIM);
const refBase = referenceAnomalies(events, DEFAULT_RULES);
let before: Record<string, string>;

beforeAll(async () => {
  await run(process.execPath, [BIN, 'demo', '--duration', '0', '--minutes', String(SIM.minutes), '--tps', String(SIM.tps), '--seed', String(SIM.seed),
    '--start', new Date(SIM.startMs).toISOString(), '--data', data], { maxBuffer: 1 << 24 });
  ch = await openClickHouse({ kind: 'embedded', dataDir: data }, { create: false });
  client = ch.client;
}, 180_000);

afterAll(async () => {
  await ch?.close();
});

describe('posguard backtest on the embedded ClickHouse', () => {
  it('finds no labels, and no error, where anomaly_labels does not exist', async () => {
    // Migration 006 creates the table; a database migrated before it has none.
    await client.command({ query: 'RENAME TABLE anomaly_labels TO anomaly_labels_hidden' });
    try {
      expect(await latestLabels(client, [refBase[0].anomaly_id])).toEqual(new Map());
    } finally {
      await client.command({ query: 'RENAME TABLE anomaly_labels_hidden TO anomaly_labels' });
    }
  });

  it('reads events_raw in pages with a keyset cursor: every row once, in event-time order', async () => {
    const from = SIM.startMs + 10 * MIN;
    const to = from + 3 * MIN;
    const stats: SourceStats = { rows: 0, pages: 0, queries: 0, readMs: 0 };
    const got: string[] = [];
    for await (const page of readEvents(client, from, to, stats, 37)) for (const r of page) got.push(`${r.stream}|${r.payload}`);
    const all = await (await client.query({
      query: `SELECT stream, payload FROM events_raw WHERE event_time >= fromUnixTimestamp64Milli(${from}, 'UTC') AND event_time < fromUnixTimestamp64Milli(${to}, 'UTC') ORDER BY event_time, stream, event_id, terminal_id`,
      format: 'JSONEachRow',
    })).json<{ stream: string; payload: string }>();
    // Unmerged redelivered copies share the whole key; the cursor may step over a copy at a page edge (the engine drops it anyway).
    const distinct = (xs: string[]) => xs.filter((x, i) => i === 0 || x !== xs[i - 1]);
    expect(all.length).toBeGreaterThan(500);
    expect(stats.queries).toBeGreaterThan(all.length / 37);
    expect(distinct(got)).toEqual(distinct(all.map((r) => `${r.stream}|${r.payload}`)));
  });

  it('labels in force: latest per anomaly by labelled_at', async () => {
    const cand = buildRules({ debits: { reversalGraceMs: 900_000 } });
    const removed = referenceDiff(refBase, referenceAnomalies(events, cand), SIM.startMs + 10 * MIN, SIM.startMs + 30 * MIN).removed;
    expect(removed.length).toBeGreaterThanOrEqual(3);
    const row = (id: string, label: string, at: string) => ({ anomaly_id: id, label, note: 'test', labelled_by: 'analyst', labelled_at: at });
    await client.insert({
      table: 'anomaly_labels', format: 'JSONEachRow', values: [
        row(removed[0], 'false_positive', '2026-03-03 09:00:00.000'), row(removed[0], 'confirmed', '2026-03-03 10:00:00.000'),
        row(removed[1], 'confirmed', '2026-03-03 09:00:00.000'), row(removed[1], 'false_positive', '2026-03-03 10:00:00.000'),
        row(removed[2], 'expected', '2026-03-03 09:00:00.000'),
        row('ffffffffffffffffffffffffffffffff', 'confirmed', '2026-03-03 09:00:00.000'),
      ],
    });
    const labels = await latestLabels(client, removed);
    expect([...labels.entries()].map(([id, l]) => [id, l.label]).sort()).toEqual([[removed[0], 'confirmed'], [removed[1], 'false_positive'], [removed[2], 'expected']].sort());
    before = await snapshot();
  });

  it.each([
    ['stricter card testing (8 small attempts instead of 6)', { cardTesting: { minAttempts: 8 } }, 'removed'],
    ['looser card testing (5 small attempts)', { cardTesting: { minAttempts: 5 } }, 'added'],
  ] as const)('%s: exactly the reference difference over all of events_raw', async (_, override, expectNonEmpty) => {
    const candidate = buildRules(override);
    const r = await runBacktest(client, { baseline: DEFAULT_RULES, candidate });
    const want = referenceDiff(refBase, referenceAnomalies(events, candidate), r.period.fromMs, r.period.toMs);
    expect(want[expectNonEmpty].length).toBeGreaterThan(0);
    expect(backtestDiff(r)).toEqual(want);
    expect(r.entries.every((e) => e.kind === 'CARD_TESTING')).toBe(true);
    expect(r.invalidRows).toBe(0);
  }, 120_000);

  it('a longer reversal grace on a sub-period: exactly the reference difference within it, with label counts', async () => {
    const candidate = buildRules({ debits: { reversalGraceMs: 900_000 } });
    const fromMs = SIM.startMs + 10 * MIN;
    const toMs = SIM.startMs + 30 * MIN;
    const r = await runBacktest(client, { baseline: DEFAULT_RULES, candidate, fromMs, toMs });
    const want = referenceDiff(refBase, referenceAnomalies(events, candidate), fromMs, toMs);
    expect(backtestDiff(r)).toEqual(want);
    const orphans = groupRows(r).filter((g) => g.kind === 'ORPHAN_DEBIT');
    expect(orphans.reduce((n, g) => n + g.confirmedLost, 0)).toBe(1);
    expect(orphans.reduce((n, g) => n + g.falsePositivesRemoved, 0)).toBe(1);
    expect(orphans.reduce((n, g) => n + g.removed, 0)).toBe(want.removed.length);
    // Counted per rule set: the reference's anomalies of the period.
    const inPeriod = (xs: Anomaly[]) => xs.filter((a) => a.event_time >= fromMs && a.event_time < toMs).length;
    expect(groupRows(r).reduce((n, g) => n + g.baseline, 0)).toBe(inPeriod(refBase));
    expect(groupRows(r).reduce((n, g) => n + g.candidate, 0)).toBe(inPeriod(referenceAnomalies(events, candidate)));
    // The margins matter: one minute either side misses terminal outcomes stamped after --to (drifting clocks) and the windows' history.
    const short = await runBacktest(client, { baseline: DEFAULT_RULES, candidate, fromMs, toMs, warmupMs: MIN, settleMs: MIN });
    expect(groupRows(short).reduce((n, g) => n + g.baseline, 0)).not.toBe(inPeriod(refBase));
  }, 120_000);

  it('command line: --help has examples; bad rules and bad periods are one clear line each, before the database is opened', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/Examples:[\s\S]*--from now-7d/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'cardTesting:\n  minAttempts: many\n');
    let today = '';
    try {
      loadRulesFile(bad);
    } catch (e) {
      today = `posguard: PG_CONFIG_INVALID: ${(e as Error).message}\n`;
    }
    expect(today).toMatch(/cardTesting\.minAttempts: expected integer/);
    // The test holds the data folder: each of these must fail before opening it (else PG_DATA_LOCKED).
    const ok = join(dir, 'ok.yaml');
    writeFileSync(ok, 'cardTesting:\n  minAttempts: 8\n');
    expect(await cli(['--rules', bad, '--data', data])).toEqual({ code: 2, stdout: '', stderr: today });
    expect(await cli(['--rules', ok, '--data', data, '--from', 'last tuesday'])).toEqual({
      code: 2, stdout: '', stderr: 'posguard: PG_USAGE: --from: expected an ISO-8601 time with a zone (e.g. 2026-11-01T00:00Z), a date (2026-11-01), now, or now-<n><s|m|h|d|w> (e.g. now-7d), got "last tuesday"\n',
    });
    // The same checks in-process (a process start each is slow): the error main() prints as one line.
    const fails = (o: Partial<Parameters<typeof runBacktestCommand>[0]>) => runBacktestCommand({ rules: ok, data, examples: '3', ...o }, () => undefined);
    await expect(fails({ baselineRules: bad })).rejects.toMatchObject({ code: 'PG_CONFIG_INVALID', message: today.replace(/^posguard: PG_CONFIG_INVALID: /, '').trim() });
    await expect(fails({ to: '2026-03-02T08:00' })).rejects.toMatchObject({ code: 'PG_USAGE', message: expect.stringMatching(/^--to: expected an ISO-8601 time/) });
    await expect(fails({ from: '2026-03-02T08:00Z', to: '2026-03-02T07:00Z' })).rejects.toMatchObject({ code: 'PG_USAGE', message: '--from (2026-03-02T08:00:00.000Z) must be before --to (2026-03-02T07:00:00.000Z)' });
    await expect(fails({ settle: '36' })).rejects.toMatchObject({ code: 'PG_USAGE', message: expect.stringMatching(/^--settle: expected a duration/) });
    await expect(fails({ rules: join(dir, 'missing.yaml') })).rejects.toMatchObject({ code: 'PG_INPUT_UNREADABLE', message: expect.stringMatching(/^cannot read rules file .*missing\.yaml: ENOENT/) });
  }, 60_000);

  it('--out: one JSON line per difference, with the label in force; the report names kind and cause', async () => {
    writeFileSync(join(dir, 'grace.yaml'), 'debits:\n  reversalGraceMs: 900000\n');
    const out = join(dir, 'diff.jsonl');
    let report = '';
    const from = new Date(SIM.startMs + 10 * MIN).toISOString();
    const to = new Date(SIM.startMs + 30 * MIN).toISOString();
    await runBacktestCommand({ rules: join(dir, 'grace.yaml'), data, out, from, to, examples: '2' }, (s) => (report += s));
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as DiffLine);
    const want = referenceDiff(refBase, referenceAnomalies(events, buildRules({ debits: { reversalGraceMs: 900_000 } })), SIM.startMs + 10 * MIN, SIM.startMs + 30 * MIN);
    expect(lines.map((l) => l.anomaly_id).sort()).toEqual([...want.added, ...want.removed, ...want.changed].sort());
    const removed = lines.filter((l) => l.change === 'removed');
    expect(removed.every((l) => l.baseline !== null && l.candidate === null && l.kind === 'ORPHAN_DEBIT')).toBe(true);
    expect(removed.filter((l) => l.label?.label === 'confirmed')).toHaveLength(1);
    expect(report).toMatch(/ORPHAN_DEBIT \/ [A-Z_]+\s+\d+\s+\d+\s+\d+\s+[1-9]/);
    expect(report).toMatch(/removed +\d+ confirmed, 1 expected, 1 false_positive, \d+ unlabelled/);
    expect(report.match(/^  removed  ORPHAN_DEBIT /gm)).toHaveLength(2);
    expect(report).toContain(`full diff: ${lines.length} lines in ${out}`);
  }, 120_000);

  it('leaves every table as it was: same tables, same row counts, same checksums', async () => {
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['anomalies', 'anomaly_labels', 'events_raw', 'transactions', 'dead_letters']));
    expect(await snapshot()).toEqual(before);
  });

  // Last: it adds anomaly rows (the table snapshot above is taken and compared before).
  it('without --baseline-rules, the rules in force are the ones recorded with the period\'s anomalies; two versions are noted; none falls back to the defaults', async () => {
    const demo = rulesStamp(DEFAULT_RULES).version;
    expect(await rulesInForce(client)).toMatchObject({ name: `recorded with the anomalies, rules_version ${demo}`, note: null });
    const empty = await rulesInForce(client, Date.UTC(2020, 0, 1), Date.UTC(2020, 0, 2));
    expect([empty.rules, empty.name, empty.note]).toEqual([DEFAULT_RULES, 'spec defaults', expect.stringMatching(/^no recorded rules: no anomaly row in the period records its rules/)]);
    // A later rules set (card testing at 8) recorded with one anomaly of the period: it is the one in force now.
    const strict = buildRules({ cardTesting: { minAttempts: 8 } });
    const s = rulesStamp(strict);
    const [row] = await (await client.query({ query: `SELECT * EXCEPT (rules, rules_version) FROM anomalies ORDER BY detected_at DESC LIMIT 1`, format: 'JSONEachRow' })).json<Record<string, unknown>>();
    await client.insert({ table: 'anomalies', format: 'JSONEachRow', values: [{ ...row, anomaly_id: 'e'.repeat(32), detected_at: '2030-01-01 00:00:00.000', rules: s.json, rules_version: s.version }] });
    const now = await rulesInForce(client);
    expect(now.rules).toEqual(strict);
    expect(now.note).toMatch(new RegExp(`^2 rules versions recorded in the period \\(${s.version}: 1 rows, .*; ${demo}: \\d+ rows, .*\\); the latest, ${s.version}, is taken as in force$`));
    // Backtesting those very rules against what is in force: no difference, and the report says which rules and why.
    writeFileSync(join(dir, 'strict.yaml'), 'cardTesting:\n  minAttempts: 8\n');
    let report = '';
    await runBacktestCommand({ rules: join(dir, 'strict.yaml'), data, examples: '1' }, (x) => (report += x));
    expect(report).toContain(`in force: recorded with the anomalies, rules_version ${s.version}; candidate: `);
    expect(report).toMatch(/^ {2}note {8}2 rules versions recorded in the period/m);
    expect(report).toContain('No difference: the candidate rules report the same anomalies as the rules in force.');
  }, 120_000);

  it('counts the labels of changed anomalies too, per kind and cause and in the report', async () => {
    // A 10-minute resolution horizon: reversals after it no longer auto-resolve, so orphans change status (same ids).
    const candidate = buildRules({ debits: { resolutionHorizonMs: 600_000 } });
    const first = await runBacktest(client, { baseline: DEFAULT_RULES, candidate });
    const changed = referenceDiff(refBase, referenceAnomalies(events, candidate), first.period.fromMs, first.period.toMs).changed;
    expect(backtestDiff(first).changed).toEqual(changed);
    expect(changed.length).toBeGreaterThanOrEqual(2);
    const row = (id: string, label: string) => ({ anomaly_id: id, label, note: 'test', labelled_by: 'analyst', labelled_at: '2026-03-04 09:00:00.000' });
    await client.insert({ table: 'anomaly_labels', format: 'JSONEachRow', values: [row(changed[0], 'confirmed'), row(changed[1], 'false_positive')] });
    const r = await runBacktest(client, { baseline: DEFAULT_RULES, candidate });
    const g = groupRows(r);
    expect([g.reduce((n, x) => n + x.confirmedChanged, 0), g.reduce((n, x) => n + x.falsePositivesChanged, 0)]).toEqual([1, 1]);
    expect(g.reduce((n, x) => n + x.confirmedLost + x.falsePositivesRemoved, 0)).toBe(0);
    const report = renderBacktest(r, { baseline: 'b', candidate: 'c' });
    expect(report).toMatch(/confirmed changed +FP changed/);
    // (an earlier test labelled one of these `expected`)
    expect(report).toMatch(/^ {2}changed +1 confirmed, (\d+ expected, )?1 false_positive, \d+ unlabelled$/m);
  }, 120_000);
});
