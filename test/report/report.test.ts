/**
 * `posguard report` on a database filled by the simulator (with an issuer
 * outage) through the real pipeline and sink: the page says what the data
 * says, loads nothing from the network, is written by the CLI, and renders in
 * headless Chromium.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, readReportData, renderReport, type ReportData } from '../../src/report/index.js';
import { addSuppression, removeSuppression } from '../../src/suppress/store.js';
import { openSimDb, OUTAGE_ISSUER, SIM_START, type SimDb } from '../observability/helpers/sim-db.js';
import { requireTools, run } from '../observability/helpers/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/posguard.js', import.meta.url));

let db: SimDb;
let data: ReportData;
let windowed: ReportData;
let html: string;
let out: string;
let cli: { status: number | null; stderr: string };
let cliHtml: string;
/** The data again with the oldest open case's terminal under an orphan suppression (removed before the CLI runs). */
let suppressed: { data: ReportData; html: string; terminal: string; open: number; amountMinor: number };

beforeAll(async () => {
  db = await openSimDb('report');
  data = await readReportData(db.client);
  windowed = await readReportData(db.client, { fromMs: SIM_START + 15 * 60_000, toMs: SIM_START + 25 * 60_000 });
  html = await buildReport(db.client, { source: 'test', now: new Date(Date.UTC(2026, 2, 3)) });
  {
    const terminal = data.openCases[0].terminal_id;
    const rs = await db.client.query({ query: `SELECT count() AS n, sum(amount_minor) AS minor FROM anomalies_current WHERE kind = 'ORPHAN_DEBIT' AND status = 'OPEN' AND terminal_id = '${terminal}'`, format: 'JSONEachRow' });
    const [t] = await rs.json<{ n: string; minor: string }>();
    const id = await addSuppression(db.client, { kind: 'ORPHAN_DEBIT', scope: 'terminal', value: terminal, untilMs: Date.now() + 3_600_000, reason: 'report test' }, 'test', Date.now());
    const sd = await readReportData(db.client);
    const sh = await buildReport(db.client, { source: 'test', now: new Date(Date.UTC(2026, 2, 3)) });
    await removeSuppression(db.client, id, 'test', 'done', Date.now());
    suppressed = { data: sd, html: sh, terminal, open: Number(t.n), amountMinor: Number(t.minor) };
  }
  // The CLI opens the same folder from another process once this one lets go of it.
  await db.close();
  out = mkdtempSync(join(tmpdir(), 'posguard-report-out-'));
  const r = spawnSync(process.execPath, [CLI, 'report', '--data', join(db.dir, 'data'), '--out', join(out, 'report.html')], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, CLICKHOUSE_URL: '' }, timeout: 120_000,
  });
  cli = { status: r.status, stderr: r.stderr };
  cliHtml = existsSync(join(out, 'report.html')) ? readFileSync(join(out, 'report.html'), 'utf8') : '';
}, 300_000);

afterAll(async () => {
  await db?.dispose();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('report data', () => {
  it('money at risk, orphans over time and top issuers come from the database', () => {
    expect(data.span.attempts).toBeGreaterThan(5000);
    expect(data.riskByCurrency.length).toBeGreaterThan(0);
    expect(data.riskByCurrency.reduce((a, r) => a + r.open, 0)).toBe(data.orphanStatus.open);
    expect(data.orphansOverTime.length).toBeGreaterThan(10);
    expect(data.orphansOverTime.reduce((a, r) => a + r.orphans, 0)).toBe(data.orphanStatus.orphans);
    // The outage issuer leads, with ISSUER_LATE_APPROVAL.
    expect(data.topIssuers[0]).toMatchObject({ issuer_id: OUTAGE_ISSUER, main_cause: 'ISSUER_LATE_APPROVAL' });
    expect(data.topTerminals.length).toBeGreaterThan(0);
    expect(data.patternsByKind.map((r) => r.kind).sort()).toEqual(['CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL', 'TERMINAL_FAULT_SPIKE']);
    expect(data.openCases.length).toBe(20);
    expect(data.openCases[0].bank_events).toContain('AUTH_APPROVED');
  });

  it('a time window narrows every section to it', () => {
    expect(windowed.span.attempts).toBeGreaterThan(0);
    expect(windowed.span.attempts).toBeLessThan(data.span.attempts / 2);
    expect(windowed.orphanStatus.orphans).toBeLessThan(data.orphanStatus.orphans);
    const lo = new Date(SIM_START + 15 * 60_000).toISOString().replace('T', ' ').slice(0, 19);
    const hi = new Date(SIM_START + 25 * 60_000).toISOString().replace('T', ' ').slice(0, 19);
    for (const r of windowed.orphansOverTime) {
      expect(r.bucket >= lo.slice(0, 16) || r.bucket.startsWith(lo.slice(0, 15))).toBe(true);
      expect(r.bucket < hi).toBe(true);
    }
    for (const c of windowed.openCases) expect(c.debit_time >= lo && c.debit_time < hi, c.debit_time).toBe(true);
    // Ten minutes around the outage: its issuer is even more on top.
    expect(windowed.topIssuers[0].issuer_id).toBe(OUTAGE_ISSUER);
  });
});

describe('suppressed orphans in the report', () => {
  it('leave the money at risk, the open count and the open cases, and are shown apart next to each total', () => {
    const d = suppressed.data;
    const sum = (rs: readonly { open: number; at_risk_minor: number; suppressed_open: number; suppressed_minor: number }[]) =>
      rs.reduce((a, r) => ({ open: a.open + r.open, risk: a.risk + r.at_risk_minor, sOpen: a.sOpen + r.suppressed_open, sMinor: a.sMinor + r.suppressed_minor }), { open: 0, risk: 0, sOpen: 0, sMinor: 0 });
    expect(suppressed.open).toBeGreaterThan(0);
    expect(sum(data.riskByCurrency)).toMatchObject({ sOpen: 0, sMinor: 0 });
    const before = sum(data.riskByCurrency);
    expect(sum(d.riskByCurrency)).toEqual({ open: before.open - suppressed.open, risk: before.risk - suppressed.amountMinor, sOpen: suppressed.open, sMinor: suppressed.amountMinor });
    expect(sum(d.riskByIssuer).sOpen).toBe(suppressed.open);
    expect(d.orphanStatus).toMatchObject({ open: data.orphanStatus.open - suppressed.open, suppressed_open: suppressed.open, orphans: data.orphanStatus.orphans });
    expect(d.openCases.length).toBe(20);
    expect(d.openCases.filter((c) => c.terminal_id === suppressed.terminal)).toEqual([]);
    expect(suppressed.html).toContain(`${suppressed.open} suppressed · `);
    expect(suppressed.html).toContain(`${suppressed.open} open orphaned debits under an analyst's suppression are not listed`);
    expect(suppressed.html).toContain('suppressed amount');
  });
});

describe('report page', () => {
  it('has every section, with the figures of the data', () => {
    for (const id of ['money-at-risk', 'orphans-by-cause', 'top-issuers', 'top-terminals', 'fraud-patterns', 'open-cases']) expect(html).toContain(`<section id="${id}">`);
    expect(html).toContain('Money at risk now');
    const eur = data.riskByCurrency.find((r) => r.currency === 'EUR')!;
    expect(html).toContain(`${(eur.at_risk_minor / 100).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} EUR`);
    expect(html).toContain('ISSUER_LATE_APPROVAL');
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(3);
  });

  it('is self-contained: no script, no external resource, no URL', () => {
    for (const bad of [/<script/i, /<link/i, /<img/i, /<iframe/i, /\bsrc=/i, /url\(/i, /@import/i, /https?:\/\//i]) expect(html).not.toMatch(bad);
  });

  it('escapes what comes from the data', () => {
    const page = renderReport({ ...data, topIssuers: [{ ...data.topIssuers[0], issuer_id: '<b>"x"&</b>' }] }, { title: 'a<b', source: 's', generatedAt: new Date(0) });
    expect(page).not.toContain('<b>"x"');
    expect(page).toContain('&lt;b&gt;&quot;x&quot;&amp;&lt;/b&gt;');
    expect(page).toContain('<title>a&lt;b</title>');
  });

  it('renders an empty database without failing', () => {
    const empty: ReportData = {
      ...data, riskByCurrency: [], riskByIssuer: [], orphansOverTime: [], topIssuers: [], topTerminals: [], patternsByKind: [],
      patternCards: [], faultTerminals: [], openCases: [], deadLetters: [], orphanStatus: { orphans: 0, open: 0, suppressed_open: 0, auto_resolved: 0, retracted: 0, with_feed_gaps: 0, open_with_feed_gaps: 0 },
    };
    const page = renderReport(empty, { title: 't', source: 's', generatedAt: new Date(0) });
    expect(page).toContain('No orphaned debits.');
  });
});

describe('posguard report (CLI)', () => {
  it('writes the same page from the embedded database', () => {
    expect(cli.stderr).toMatch(/posguard report: wrote .*report\.html/);
    expect(cli.status, cli.stderr).toBe(0);
    // Same data, same page, but for the generation time.
    const strip = (s: string) => s.replace(/Generated [^<]*UTC/, '').replace(/\([^)]*\)\. Generated/, '');
    expect(strip(cliHtml).replace(/\(embedded[^)]*\)|\(test\)/, '')).toBe(strip(html).replace(/\(embedded[^)]*\)|\(test\)/, ''));
  });

  it('refuses a missing database with one line', () => {
    const r = spawnSync(process.execPath, [CLI, 'report', '--data', join(out, 'nope'), '--out', join(out, 'x.html')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CLICKHOUSE_URL: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^posguard: PG_INPUT_UNREADABLE: no posguard database at /);
  });

  it('refuses a bad --from', () => {
    const r = spawnSync(process.execPath, [CLI, 'report', '--from', 'yesterday', '--out', join(out, 'x.html')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CLICKHOUSE_URL: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('PG_USAGE: --from');
  });
});

describe('renders in headless Chromium', () => {
  const tools = requireTools({ chromium: ['chromium', 'chromium-browser', 'google-chrome'] });
  if (tools === null) return;

  const chromium = (args: string[]) => {
    const profile = mkdtempSync(join(tmpdir(), 'posguard-chromium-'));
    try {
      return run(tools.chromium, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, ...args,
      ], { timeoutMs: 90_000 });
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  };

  it('the DOM Chromium builds holds the sections, tables and charts', () => {
    const r = chromium(['--dump-dom', `file://${join(out, 'report.html')}`]);
    expect(r.code, r.out.slice(-2000)).toBe(0);
    expect(r.out).toContain('<h2>Money at risk now</h2>');
    expect(r.out).toContain('<h2>Fraud patterns</h2>');
    expect((r.out.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect((r.out.match(/<tr>/g) ?? []).length).toBeGreaterThan(40);
  });

  it('takes a screenshot of a page with content', () => {
    const png = join(out, 'report.png');
    const r = chromium(['--window-size=1100,2600', '--hide-scrollbars', `--screenshot=${png}`, `file://${join(out, 'report.html')}`]);
    expect(r.code, r.out.slice(-2000)).toBe(0);
    expect(existsSync(png)).toBe(true);
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    // A blank 1100x2600 page compresses to a few KiB; text, tables and charts do not.
    expect(statSync(png).size).toBeGreaterThan(60_000);
    if (process.env.POSGUARD_KEEP_REPORT) spawnSync('cp', [png, join(out, 'report.html'), process.env.POSGUARD_KEEP_REPORT]);
  });
});
