/**
 * The alert rules: promtool accepts them and the Prometheus config, every
 * promtool unit test passes, every alert has a firing and a not-firing test,
 * the labels and annotations Alertmanager and on-call rely on, and a runbook
 * section. Routing: amtool sends risk and pipeline alerts to different receivers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERTS_FILE, PROM_DIR, allAlerts, promtoolCases, promtoolTestFiles } from './helpers/rules.js';
import { requireTools, run } from './helpers/tools.js';
import { nonEmpty } from '../support/non-empty.js';

const RUNBOOKS = readFileSync(new URL('../../docs/runbooks.md', import.meta.url), 'utf8');
const AM_CONFIG = fileURLToPath(new URL('../../deploy/alertmanager/alertmanager.yml', import.meta.url));
const alerts = allAlerts();

describe('alert rules (static)', () => {
  it('defines every alert the issue asks for', () => {
    const names = alerts.map((a) => a.alert);
    for (const n of [
      'PosguardOrphanedDebitRateHigh', 'PosguardMoneyAtRiskHigh', 'PosguardIssuerTimeoutSpike', 'PosguardTerminalFaultSpikes',
      'PosguardCardTestingBurst', 'PosguardDetectorDown', 'PosguardConsumerLagHigh', 'PosguardWatermarkStalled',
      'PosguardSinkFailing', 'PosguardDeadLettersRising',
      // issue 11: live feeds and records that cannot be placed or stored
      'PosguardFeedStalled', 'PosguardStoreRefusedRows', 'PosguardStateCapReached', 'PosguardMisroutedRecords',
    ]) expect(names).toContain(n);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(nonEmpty(alerts, 'alert rule in deploy/prometheus').map((a) => [a.alert, a]))('%s has for:, severity, category, summary, description and a runbook section', (name, a) => {
    expect(a.for).toMatch(/^\d+[smh]$/);
    expect(['critical', 'warning']).toContain(a.labels?.severity);
    expect(['risk', 'pipeline']).toContain(a.labels?.category);
    expect(a.annotations?.summary?.length).toBeGreaterThan(10);
    expect(a.annotations?.description?.length).toBeGreaterThan(40);
    const anchor = (name as string).toLowerCase();
    expect(a.annotations?.runbook_url).toBe(`docs/runbooks.md#${anchor}`);
    const section = RUNBOOKS.split(/^## /m).find((s) => s.startsWith(`${name as string}\n`));
    expect(section, `docs/runbooks.md has no "## ${name as string}"`).toBeDefined();
    for (const part of ['**What it means.**', '**What to check.**', '**What to do.**']) expect(section).toContain(part);
  });

  it('every alert has a promtool test where it fires and one where it does not', () => {
    const cases = promtoolCases();
    for (const a of alerts) {
      expect(cases.some((c) => c.alertname === a.alert && c.firing), `${a.alert}: no firing test`).toBe(true);
      expect(cases.some((c) => c.alertname === a.alert && !c.firing), `${a.alert}: no not-firing test`).toBe(true);
    }
    for (const c of cases) expect(alerts.map((a) => a.alert), `${c.file}: ${c.test}`).toContain(c.alertname);
  });

  it('a feed outage pages once: PosguardFeedStalled holds back the watermark alert of its stream, and the orphan-rate alert during and after it', () => {
    const doc = parse(readFileSync(AM_CONFIG, 'utf8')) as { inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[] };
    expect(doc.inhibit_rules).toContainEqual({
      source_matchers: ['alertname="PosguardFeedStalled"'], target_matchers: ['alertname="PosguardWatermarkStalled"'], equal: ['stream'],
    });
    // The orphans decided without the feed stay in the rate's 15-minute window after the outage: the hold is in the rule itself.
    expect(alerts.find((a) => a.alert === 'PosguardOrphanedDebitRateHigh')?.expr).toMatch(/unless on \(\)\s+max\(max_over_time\(posguard_feed_outage\[20m\]\)\) == 1/);
  });

  it('the runbooks include the customer-facing steps for an orphaned debit', () => {
    expect(RUNBOOKS).toMatch(/^## Orphaned debit: customer steps$/m);
    expect(RUNBOOKS).toContain('(#orphaned-debit-customer-steps)');
  });
});

describe('promtool', () => {
  const tools = requireTools({ promtool: ['promtool'], amtool: ['amtool'] });
  if (tools === null) return;

  it('check rules: alerts.yml', () => {
    const r = run(tools.promtool, ['check', 'rules', ALERTS_FILE]);
    expect(r.out).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.code, r.out).toBe(0);
  });

  it('check config: prometheus.yml (and the rule file it loads)', () => {
    const r = run(tools.promtool, ['check', 'config', `${PROM_DIR}prometheus.yml`]);
    expect(r.code, r.out).toBe(0);
  });

  it.each(nonEmpty(promtoolTestFiles(), 'promtool test file').map((f) => [f.slice(PROM_DIR.length)]))('test rules: %s', (rel) => {
    const r = run(tools.promtool, ['test', 'rules', `${PROM_DIR}${rel as string}`]);
    expect(r.out, r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });

  it('amtool accepts the Alertmanager config', () => {
    const r = run(tools.amtool, ['check-config', AM_CONFIG]);
    expect(r.code, r.out).toBe(0);
  });

  it('risk alerts and pipeline alerts reach different receivers', () => {
    const receiverOf = (labels: Record<string, string>) => {
      const r = run(tools.amtool, ['config', 'routes', 'test', `--config.file=${AM_CONFIG}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
      expect(r.code, r.out).toBe(0);
      return r.out.trim().split('\n').filter((l) => !l.startsWith('Warning')).join(',');
    };
    const risk = new Set<string>();
    const pipeline = new Set<string>();
    for (const a of alerts) {
      const rec = receiverOf({ alertname: a.alert, ...a.labels });
      (a.labels!.category === 'risk' ? risk : pipeline).add(rec);
      expect(rec, a.alert).toMatch(a.labels!.category === 'risk' ? /^risk-/ : /^pipeline-/);
    }
    for (const r of risk) expect(pipeline.has(r)).toBe(false);
    const doc = parse(readFileSync(AM_CONFIG, 'utf8')) as { receivers: { name: string }[] };
    expect(doc.receivers.map((r) => r.name).sort()).toEqual(['pipeline-oncall', 'pipeline-page', 'risk-page', 'risk-team']);
  });
});
