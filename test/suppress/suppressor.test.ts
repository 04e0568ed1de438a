/**
 * The Suppressor without a database: which anomalies it stamps, that it
 * reloads, keeps the last good set when a reload fails, and keeps to its cap;
 * and how stamped anomalies move through the money-at-risk metrics.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import { createMetrics } from '../../src/metrics/index.js';
import type { ActiveSuppression } from '../../src/suppress/store.js';
import { Suppressor } from '../../src/suppress/suppressor.js';

const NOW = Date.UTC(2026, 2, 2, 12);
const base: Anomaly = {
  anomaly_id: 'x1', kind: 'ORPHAN_DEBIT', cause: 'ISSUER_LATE_APPROVAL', status: 'OPEN', severity: 'critical', version: 1,
  event_time: NOW - 60_000, detected_at: NOW, terminal_id: 'T1', merchant_id: 'M1', card_token: 'tok_1', rrn: '1', stan: '1',
  issuer_id: 'I1', amount_minor: 1000, currency: 'EUR', related_rrns: [], evidence: { terminal: [], gateway: [], bank: [] },
};
const sup = (id: string, scope: ActiveSuppression['scope'], value: string, kind = 'ORPHAN_DEBIT', untilMs = NOW + 3_600_000): ActiveSuppression => ({ id, kind, scope, value, untilMs });

function suppressor(rows: ActiveSuppression[] | (() => ActiveSuppression[]), opts: { maxActive?: number; now?: () => number } = {}) {
  const logs: string[] = [];
  const load = async (cap: number) => {
    const all = typeof rows === 'function' ? rows() : rows;
    return { rows: all.slice(0, cap), total: all.length };
  };
  const s = new Suppressor(load, { log: (_l, m) => logs.push(m), now: opts.now ?? (() => NOW), maxActive: opts.maxActive });
  return { s, logs };
}

describe('Suppressor', () => {
  it('stamps an anomaly matching kind and one of card, merchant, terminal, issuer; leaves others as they are', async () => {
    const { s } = suppressor([sup('sup_a', 'terminal', 'T1'), sup('sup_b', 'card', 'tok_2'), sup('sup_c', 'merchant', 'M1', 'CARD_VELOCITY')]);
    await s.reload();
    expect(s.stamp(base).suppressed_by).toBe('sup_a');
    expect(s.stamp({ ...base, terminal_id: 'T9', card_token: 'tok_2' }).suppressed_by).toBe('sup_b');
    const other = { ...base, terminal_id: 'T9' };
    expect(s.stamp(other)).toBe(other); // merchant M1 is suppressed for another kind only
    expect(s.stamp({ ...base, kind: 'CARD_VELOCITY', terminal_id: 'T9' }).suppressed_by).toBe('sup_c');
    // Stamping never changes the id or anything else.
    expect({ ...s.stamp(base), suppressed_by: undefined }).toEqual({ ...base, suppressed_by: undefined });
  });

  it('takes the oldest when several match, and skips one that expired since the last reload', async () => {
    let now = NOW;
    const { s } = suppressor([sup('sup_z', 'issuer', 'I1'), sup('sup_a', 'terminal', 'T1', 'ORPHAN_DEBIT', NOW + 1_000)], { now: () => now });
    await s.reload();
    expect(s.stamp(base).suppressed_by).toBe('sup_z'); // oldest first from the store, whatever the id
    const { s: s2 } = suppressor([sup('sup_a', 'terminal', 'T1', 'ORPHAN_DEBIT', NOW + 1_000)], { now: () => now });
    await s2.reload();
    expect(s2.stamp(base).suppressed_by).toBe('sup_a');
    now = NOW + 1_000;
    expect(s2.stamp(base).suppressed_by).toBeUndefined();
  });

  it('clears a stale stamp when nothing covers the anomaly any more (a suppression was removed)', async () => {
    const { s } = suppressor([]);
    await s.reload();
    expect(s.stamp({ ...base, suppressed_by: 'sup_old' }).suppressed_by).toBeNull();
  });

  it('picks up changes on reload, and keeps the last good set when a reload fails', async () => {
    let rows: ActiveSuppression[] = [];
    let fail = false;
    const logs: string[] = [];
    const s = new Suppressor(async () => {
      if (fail) throw new Error('connection refused');
      return { rows, total: rows.length };
    }, { log: (_l, m) => logs.push(m), now: () => NOW });
    await s.reload();
    expect(s.stamp(base).suppressed_by).toBeUndefined();
    rows = [sup('sup_a', 'terminal', 'T1')];
    expect(await s.reload()).toBe(true);
    expect(s.stamp(base).suppressed_by).toBe('sup_a');
    fail = true;
    expect(await s.reload()).toBe(false);
    expect(s.stamp(base).suppressed_by).toBe('sup_a');
    expect(logs.join('\n')).toMatch(/cannot reload suppressions, keeping the 1 loaded before: connection refused/);
    expect(s.stats).toMatchObject({ reloads: 2, reloadFailures: 1 });
  });

  it('holds at most maxActive suppressions, oldest first, and says how many it left out', async () => {
    const { s, logs } = suppressor([sup('s1', 'terminal', 'T1'), sup('s2', 'terminal', 'T2'), sup('s3', 'terminal', 'T3')], { maxActive: 2 });
    await s.reload();
    expect(s.size).toBe(2);
    expect(s.stamp({ ...base, terminal_id: 'T3' }).suppressed_by).toBeUndefined();
    expect(logs).toEqual(['3 active suppressions, only the oldest 2 apply; remove stale ones (posguard suppress list)']);
    expect(s.stats.leftOut).toBe(1);
  });

  it('reloads on its interval once started, until closed', async () => {
    let loads = 0;
    const s = new Suppressor(async () => {
      loads++;
      return { rows: [], total: 0 };
    }, { reloadIntervalMs: 20 });
    await s.start();
    // Polled, not a fixed sleep: the machine may be busy.
    for (const deadline = Date.now() + 10_000; loads < 3 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
    s.close();
    const seen = loads;
    expect(seen).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 60));
    expect(loads).toBe(seen);
  });
});

describe('metrics with suppressed anomalies', () => {
  async function values(registry: Registry, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  }

  it('moves a suppressed open orphan out of money at risk and into the suppressed gauge, and out of the alerting counters', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry, processDefaults: false });
    metrics.anomaly(base); // open, not suppressed
    metrics.anomaly({ ...base, anomaly_id: 'x2', amount_minor: 500, suppressed_by: 'sup_a' }); // suppressed from its first version
    metrics.anomaly({ ...base, anomaly_id: 'x3', amount_minor: 250 });
    metrics.anomaly({ ...base, anomaly_id: 'x3', amount_minor: 250, version: 2, suppressed_by: 'sup_a' }); // suppressed later
    expect(await values(registry, 'posguard_money_at_risk_minor_units')).toEqual([{ labels: { issuer_id: 'I1', currency: 'EUR' }, value: 1000 }]);
    expect(await values(registry, 'posguard_suppressed_money_at_risk_minor_units')).toEqual([{ labels: { issuer_id: 'I1', currency: 'EUR' }, value: 750 }]);
    expect(await values(registry, 'posguard_open_orphaned_debits')).toEqual([{ labels: { issuer_id: 'I1', currency: 'EUR' }, value: 1 }]);
    // New-anomaly counters (what the alerts read): x1 and x3 were new unsuppressed; x2 was suppressed when new.
    expect(await values(registry, 'posguard_orphaned_debits_total')).toEqual([{ labels: { issuer_id: 'I1', cause: 'ISSUER_LATE_APPROVAL' }, value: 2 }]);
    expect(await values(registry, 'posguard_suppressed_anomalies_total')).toEqual([{ labels: { kind: 'ORPHAN_DEBIT', cause: 'ISSUER_LATE_APPROVAL' }, value: 1 }]);
  });

  it('exports how many suppressions apply, how many the cap left out, and reloads by result', async () => {
    let fail = false;
    const rows = [sup('s1', 'terminal', 'T1'), sup('s2', 'terminal', 'T2'), sup('s3', 'terminal', 'T3')];
    const s = new Suppressor(async (cap) => {
      if (fail) throw new Error('down');
      return { rows: rows.slice(0, cap), total: rows.length };
    }, { maxActive: 2, log: () => {} });
    const registry = new Registry();
    createMetrics({ registry, processDefaults: false, suppressions: () => s });
    await s.reload();
    fail = true;
    await s.reload();
    expect(await values(registry, 'posguard_suppressions_active')).toEqual([{ labels: {}, value: 2 }]);
    expect(await values(registry, 'posguard_suppressions_left_out')).toEqual([{ labels: {}, value: 1 }]);
    expect(await values(registry, 'posguard_suppression_reloads_total')).toEqual([{ labels: { result: 'ok' }, value: 1 }, { labels: { result: 'failed' }, value: 1 }]);
    // Without a detector holding suppressions (replay, tests), no series at all.
    const bare = new Registry();
    createMetrics({ registry: bare, processDefaults: false });
    expect(await values(bare, 'posguard_suppressions_active')).toEqual([]);
  });
});
