/**
 * `posguard case` against the embedded ClickHouse filled by `posguard demo`
 * (the real simulator and engine; 30 simulated minutes, every orphan cause).
 * The case's rule walk (src/cases/explain.ts) reads only the stored events and
 * never the engine, so agreeing with the stored cause is a real check.
 *
 * The CLI runs (child processes) come first: the embedded engine lets one
 * process hold the folder, and the in-process checks keep it until the end.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORPHAN_CAUSES } from '../../src/events/anomaly.js';
import { buildCase } from '../../src/cases/build.js';
import { searchCases } from '../../src/cases/search.js';
import { renderCaseText } from '../../src/cases/render-text.js';
import { renderCaseSection } from '../../src/report/case-html.js';
import { appendLabels } from '../../src/labels/labels.js';
import { addSuppression } from '../../src/suppress/store.js';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { rulesStamp } from '../../src/config/rules-version.js';
import { openClickHouse, type ClickHouseHandle } from '../../src/sinks/clickhouse/connection.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/posguard.js', import.meta.url).pathname;
const data = mkdtempSync(join(tmpdir(), 'posguard-case-'));
const cli = (...args: string[]) => run(process.execPath, [BIN, ...args, '--data', data], { maxBuffer: 1 << 24 });
const cliFails = async (...args: string[]) => {
  try {
    await cli(...args);
  } catch (e) {
    const x = e as { code: number; stderr: string };
    return { code: x.code, stderr: x.stderr };
  }
  throw new Error(`expected posguard ${args.join(' ')} to fail`);
};
const OPTS = { rules: DEFAULT_RULES, rulesSource: 'test defaults' };

interface Stored { anomaly_id: string; cause: string | null; status: string; rrn: string; evidence: string }
let orphans: Stored[] = [];

beforeAll(async () => {
  await run(process.execPath, [BIN, 'demo', '--duration', '0', '--minutes', '30', '--tps', '2', '--seed', '5', '--start', '2026-12-01T10:00:00Z', '--data', data], { maxBuffer: 1 << 24 });
  const h = await openClickHouse({ kind: 'embedded', dataDir: data });
  // Read in a child process's place: this process must not hold the folder while the CLI runs.
  orphans = await (await h.client.query({ query: "SELECT anomaly_id, cause, status, rrn, evidence FROM anomalies_current WHERE kind = 'ORPHAN_DEBIT' ORDER BY anomaly_id", format: 'JSONEachRow' })).json<Stored>();
  await h.close();
}, 240_000);

describe('posguard case (CLI)', () => {
  it('prints one case as JSON whose chosen cause is the stored one', async () => {
    const o = orphans.find((x) => x.cause === 'REVERSAL_LOST' && x.status === 'OPEN')!;
    const { stdout } = await cli('case', o.rrn, '--format', 'json');
    const v = JSON.parse(stdout);
    expect(v.explanation.cause).toBe('REVERSAL_LOST');
    expect(v.agrees).toBe(true);
    expect(v.timeline.some((e: { event_type: string }) => e.event_type === 'REVERSAL_SENT')).toBe(true);
  }, 60_000);

  it('answers bad input with one line and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['case', 'nonsense!'], /^posguard: PG_USAGE: case id "nonsense!": expected an rrn/],
      [['case', '999999999999'], /^posguard: PG_NOT_FOUND: no event, golden record or anomaly with rrn 999999999999/],
      [['case', '0123456789abcdef0123456789abcdef'], /^posguard: PG_NOT_FOUND: no anomaly 0123456789abcdef0123456789abcdef/],
      [['case', 'NOSUCH01:000001'], /^posguard: PG_NOT_FOUND: no event for attempt NOSUCH01:000001/],
      [['case', '123456789012', '--card', 'tok_x'], /^posguard: PG_USAGE: give either a case id or --card, not both/],
      [['case'], /^posguard: PG_USAGE: give a case id/],
      [['case', '--card', 'tok_abcd', '--around', 'yesterday-ish'], /^posguard: PG_USAGE: --around: expected an ISO time/],
      [['case', '--card', 'tok_abcd', '--amount', '12.345'], /^posguard: PG_USAGE: --amount: expected an amount/],
      [['case', '--card', '4111 1111 1111 1111'], /^posguard: PG_USAGE: --card: that looks like a clear card number/],
    ];
    for (const [args, re] of cases) {
      const r = await cliFails(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).not.toContain('4111111111111111');
    }
  }, 120_000);

  it('--help shows examples', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'case', '--help']);
    expect(stdout).toMatch(/Examples:/);
    expect(stdout).toMatch(/posguard case --card/);
  });

  it('the report links each open case to a self-contained case section', async () => {
    const out = join(data, '..', `case-report-${process.pid}.html`);
    await cli('report', '--out', out);
    const html = readFileSync(out, 'utf8');
    const links = [...html.matchAll(/href="#(case-[0-9a-f]{32})"/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    for (const id of links) expect(html).toContain(`<section class="case" id="${id}">`);
    expect(html).toContain('Decision, step by step');
    expect(html).not.toMatch(/<script|https?:\/\/|<link /);
  }, 60_000);
});

describe('posguard case (in process)', () => {
  let h: ClickHouseHandle;
  beforeAll(async () => { h = await openClickHouse({ kind: 'embedded', dataDir: data }); });
  afterAll(async () => { await h?.close(); });

  it('covers every orphan cause, and the rule walk chooses the stored cause and status for every orphan', async () => {
    expect(new Set(orphans.map((o) => o.cause).filter((c) => c !== null))).toEqual(new Set(ORPHAN_CAUSES));
    let foreign = 0;
    for (const o of orphans) {
      const v = await buildCase(h.client, o.anomaly_id, OPTS);
      if (v.timeline.some((e) => e.terminal_id !== v.terminal_id)) foreign++;
      if (o.status === 'RETRACTED') {
        expect(v.explanation.orphan, o.anomaly_id).toBe(false);
      } else {
        expect([v.explanation.cause, v.explanation.status], `${o.anomaly_id} ${o.cause}`).toEqual([o.cause, o.status]);
        // The chosen rule holds, every earlier cause was checked and failed.
        const steps = v.explanation.steps.filter((s) => (ORPHAN_CAUSES as readonly string[]).includes(s.rule));
        const at = steps.findIndex((s) => s.rule === o.cause);
        expect(steps.slice(0, at).every((s) => s.result === 'fails'), o.anomaly_id).toBe(true);
        expect(steps[at].result).toBe('holds');
        expect(steps.slice(at + 1).every((s) => s.result === 'not reached')).toBe(true);
      }
      expect(v.agrees, o.anomaly_id).toBe(true);
      // demo stamps every anomaly row with the rules in force (migration 008); the case explains with those.
      expect([v.explanation.rules.rules_version, v.explanation.rules.source.startsWith('recorded')]).toEqual([rulesStamp(DEFAULT_RULES).version, true]);
      expect(v.anomalies.every((a) => a.rules_version === rulesStamp(DEFAULT_RULES).version)).toBe(true);
    }
    // Refunds posted at another terminal of the merchant are part of the story (and of the decision).
    expect(foreign).toBeGreaterThan(0);
  }, 180_000);

  it('shows the right timeline: every event the engine kept as evidence, the debit, and nothing of other attempts', async () => {
    for (const cause of ORPHAN_CAUSES) {
      const o = orphans.find((x) => x.cause === cause && x.status !== 'RETRACTED')!;
      const v = await buildCase(h.client, o.rrn, OPTS);
      const ids = new Set(v.timeline.map((e) => e.event_id));
      const ev = JSON.parse(o.evidence) as Record<string, { event_id: string }[]>;
      for (const s of ['terminal', 'gateway', 'bank']) for (const e of ev[s]) expect(ids.has(e.event_id), `${cause} ${s} ${e.event_id}`).toBe(true);
      expect(v.timeline.some((e) => e.stream === 'bank' && e.event_type === 'AUTH_APPROVED' && e.rrn === o.rrn)).toBe(true);
      for (const e of v.timeline) {
        if (e.stream === 'terminal') expect([e.stan, e.orig_stan]).toContain(v.stan);
        else expect([e.rrn, e.orig_rrn]).toContain(o.rrn);
      }
      expect(v.golden?.rrn).toBe(o.rrn);
      expect(v.anomalies.some((a) => a.anomaly_id === o.anomaly_id && a.version === 1)).toBe(true);
      if (v.clock.attemptMs !== null) expect(Math.abs(v.clock.attemptMs)).toBeLessThanOrEqual(DEFAULT_RULES.time.terminalMaxDriftMs + 60_000);
    }
  }, 120_000);

  it('opens the same case by rrn, anomaly id and terminal_id:stan', async () => {
    const o = orphans.find((x) => x.cause === 'ISSUER_LATE_APPROVAL')!;
    const a = await buildCase(h.client, o.anomaly_id, OPTS);
    const b = await buildCase(h.client, o.rrn, OPTS);
    const c = await buildCase(h.client, `${a.terminal_id}:${a.stan}`, OPTS);
    expect([b.rrn, c.rrn]).toEqual([a.rrn, a.rrn]);
    expect(c.explanation.cause).toBe('ISSUER_LATE_APPROVAL');
  });

  it('search finds the attempt the customer describes first, by masked PAN or token', async () => {
    for (const cause of ['RESPONSE_LOST_TO_TERMINAL', 'NO_TERMINAL_OUTCOME'] as const) {
      const o = orphans.find((x) => x.cause === cause && x.status === 'OPEN')!;
      const g = (await buildCase(h.client, o.rrn, OPTS)).golden!;
      const amount = (Number(g.bank_amount_minor) / 100).toFixed(2);
      const around = Date.parse(`${String(g.txn_time).replace(' ', 'T')}Z`) + 17 * 60_000;
      for (const card of [String(g.masked_pan), String(g.card_token)]) {
        const hits = await searchCases(h.client, { card, amountMinor: Math.round(Number(amount) * 100), merchant: String(g.merchant_id), aroundMs: around, limit: 10 });
        expect(hits[0]?.rrn, `${cause} ${card}`).toBe(o.rrn);
        expect(hits[0].verdicts.map((x) => `${x.kind}/${x.cause}/${x.status}`)).toContain(`ORPHAN_DEBIT/${cause}/OPEN`);
      }
    }
    // A card with several attempts: the amount and time pick the right one, the others say "no anomaly" or their own verdicts.
    const [multi] = await (await h.client.query({ query: 'SELECT card_token, count() AS n FROM transactions FINAL WHERE debited GROUP BY card_token HAVING n >= 3 ORDER BY n DESC, card_token LIMIT 1', format: 'JSONEachRow' })).json<{ card_token: string }>();
    const all = await searchCases(h.client, { card: multi.card_token, amountMinor: null, merchant: null, aroundMs: null, limit: 50 });
    expect(all.length).toBeGreaterThanOrEqual(3);
    const target = all[all.length - 1];
    const hits = await searchCases(h.client, { card: multi.card_token, amountMinor: target.amount_minor, merchant: target.merchant_id, aroundMs: Date.parse(`${target.txn_time.replace(' ', 'T')}Z`), limit: 50 });
    expect(hits[0].rrn).toBe(target.rrn);
    expect(hits[0].score).toBe(100);
  });

  it('shows the latest label and the suppression with its reason and expiry, on the screen, in JSON and in search verdicts', async () => {
    const o = orphans.find((x) => x.cause === 'NO_TERMINAL_OUTCOME' && x.status === 'OPEN')!;
    await appendLabels(h.client, [{ anomaly_id: o.anomaly_id, label: 'false_positive', note: 'first look', where: 'test' }], 'ana', Date.parse('2026-12-02T09:00:00Z'));
    await appendLabels(h.client, [{ anomaly_id: o.anomaly_id, label: 'confirmed', note: 'customer called', where: 'test' }], 'bob', Date.parse('2026-12-02T10:00:00Z'));
    const before = await buildCase(h.client, o.anomaly_id, OPTS);
    const sid = await addSuppression(h.client, { kind: 'ORPHAN_DEBIT', scope: 'merchant', value: String(before.golden!.merchant_id), untilMs: Date.now() + 86_400_000, reason: 'test till of the shop' }, 'carol', Date.now());
    // The detector stamps suppressed_by at write time; stamp the stored versions as it would have.
    for (const t of ['anomalies', 'anomalies_latest']) {
      await h.client.command({ query: `ALTER TABLE ${t} UPDATE suppressed_by = '${sid}' WHERE anomaly_id = '${o.anomaly_id}' SETTINGS mutations_sync = 2` });
    }
    const v = await buildCase(h.client, o.anomaly_id, OPTS);
    const mine = v.anomalies.filter((a) => a.anomaly_id === o.anomaly_id);
    expect(mine.at(-1)!.label).toMatchObject({ label: 'confirmed', note: 'customer called', labelled_by: 'bob', label_count: 2 });
    expect(mine.slice(0, -1).every((a) => a.label === null)).toBe(true);
    expect(mine.every((a) => a.suppression?.suppression_id === sid && a.suppression.reason === 'test till of the shop')).toBe(true);
    expect(v.anomalies.filter((a) => a.anomaly_id !== o.anomaly_id).every((a) => a.label === null && a.suppression === null)).toBe(true);
    const html = renderCaseSection(o.anomaly_id, v);
    expect(html).toContain('label confirmed by bob at 2026-12-02 10:00:00 — customer called');
    expect(html).toContain(`suppressed by ${sid} (test till of the shop, until`);
    const text = renderCaseText(v);
    expect(text).toContain(`label confirmed by bob at 2026-12-02 10:00:00 — customer called`);
    expect(text).toMatch(new RegExp(`suppressed by ${sid} \\(test till of the shop, until \\d{4}-\\d\\d-\\d\\d `));
    // --format json is the view as JSON: the same fields travel.
    const json = JSON.parse(JSON.stringify(v)) as { anomalies: { anomaly_id: string; label: { label: string } | null; suppression: { reason: string } | null }[] };
    expect(json.anomalies.filter((a) => a.anomaly_id === o.anomaly_id).at(-1)).toMatchObject({ label: { label: 'confirmed' }, suppression: { reason: 'test till of the shop' } });
    const hits = await searchCases(h.client, { card: String(v.golden!.card_token), amountMinor: Number(v.golden!.bank_amount_minor), merchant: String(v.golden!.merchant_id), aroundMs: null, limit: 5 });
    const verdict = hits[0].verdicts.find((x) => x.anomaly_id === o.anomaly_id)!;
    expect(verdict.label).toContain('label confirmed by bob');
    expect(verdict.suppressed).toContain(`suppressed by ${sid} (test till of the shop`);
  });

  it('explains every non-orphan kind by its own rule under the recorded thresholds, without the orphan walk', async () => {
    const others = await (await h.client.query({ query: "SELECT kind, any(anomaly_id) AS id, any(evidence) AS evidence FROM anomalies_current WHERE kind != 'ORPHAN_DEBIT' AND status != 'RETRACTED' GROUP BY kind ORDER BY kind", format: 'JSONEachRow' })).json<{ kind: string; id: string; evidence: string }>();
    expect(others.map((o) => o.kind)).toEqual(expect.arrayContaining(['CARD_TESTING', 'DUPLICATE_DEBIT']));
    for (const o of others) {
      const v = await buildCase(h.client, o.id, OPTS);
      const p = v.patterns.find((x) => x.anomaly_id === o.id)!;
      expect(p.steps.length, o.kind).toBeGreaterThan(0);
      expect(p.steps.map((s) => `${s.rule}: ${s.result} (${s.because})`).filter((s) => !s.includes(': holds')), o.kind).toEqual([]);
      expect(p.rules_version).toBe(rulesStamp(DEFAULT_RULES).version);
      const text = renderCaseText(v);
      expect(text).toContain(`DECISION for ${o.kind} ${o.id}`);
      expect(text, o.kind).not.toContain('DECISION, step by step');
      expect(text).not.toContain('Rule walk:');
    }
    const ctView = await buildCase(h.client, others.find((o) => o.kind === 'CARD_TESTING')!.id, OPTS);
    // The report's case section carries the same decision.
    expect(renderCaseSection(ctView.patterns[0].anomaly_id, ctView)).toMatch(/<h4>Decision for CARD_TESTING <span class="ev">[0-9a-f]{32}<\/span> v1<\/h4>[\s\S]*minAttempts 6/);
    const ct = ctView.patterns.find((x) => x.kind === 'CARD_TESTING')!;
    const bank = (JSON.parse(others.find((o) => o.kind === 'CARD_TESTING')!.evidence) as { bank: { event_type: string; detail: { amount_minor: number; merchant_id: string } }[] }).bank;
    const small = bank.filter((e) => e.detail.amount_minor <= DEFAULT_RULES.cardTesting.maxAmountMinor);
    expect(ct.steps.find((s) => s.rule === 'small attempts')!.because).toBe(`${small.length} authorizations of at most ${DEFAULT_RULES.cardTesting.maxAmountMinor} minor units; minAttempts ${DEFAULT_RULES.cardTesting.minAttempts}`);
    expect(ct.steps.find((s) => s.rule === 'declined')!.because).toMatch(new RegExp(`^${small.filter((e) => e.event_type === 'AUTH_DECLINED').length} of them declined; minDeclined ${DEFAULT_RULES.cardTesting.minDeclined}$`));
    expect(ct.steps.find((s) => s.rule === 'merchants')!.because).toMatch(new RegExp(`^${new Set(small.map((e) => e.detail.merchant_id)).size} distinct merchants`));
    const dup = (await buildCase(h.client, others.find((o) => o.kind === 'DUPLICATE_DEBIT')!.id, OPTS)).patterns.find((x) => x.kind === 'DUPLICATE_DEBIT')!;
    expect(dup.steps.map((s) => s.rule)).toEqual(['same purchase', 'within the window', 'neither reversed in grace']);
    expect(dup.steps[0].evidence).toHaveLength(2);
    // Opened by rrn, the orphan walk stays and the patterns on the attempt follow it.
    const byRrn = renderCaseText(await buildCase(h.client, orphans.find((x) => x.status === 'OPEN')!.rrn, OPTS));
    expect(byRrn).toContain('DECISION, step by step');
  });
});
