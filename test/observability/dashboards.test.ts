/**
 * The Grafana dashboards: current schema, provisioned data sources, every
 * ClickHouse panel's SQL (macros expanded as the plugin does) returns rows
 * from a database filled by the simulator through the real pipeline and sink,
 * and every PromQL expression parses (promtool) and names only metrics the
 * detector exports.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { appendLabels } from '../../src/labels/labels.js';
import { createMetrics } from '../../src/metrics/index.js';
import { addSuppression, removeSuppression } from '../../src/suppress/store.js';
import {
  allPanels, CLICKHOUSE_TYPE, expandClickHouseMacros, expandPromVariables, loadDashboards, metricNames, PROMETHEUS_TYPE, type Panel,
} from './helpers/grafana.js';
import { openSimDb, SIM_END, SIM_START, type SimDb } from './helpers/sim-db.js';
import { requireTools, run } from './helpers/tools.js';
import { nonEmpty } from '../support/non-empty.js';

const dashboards = loadDashboards();
const provisioned = parse(readFileSync(new URL('../../deploy/grafana/provisioning/datasources/posguard.yml', import.meta.url), 'utf8')) as {
  datasources: { uid: string; type: string }[];
};

const chPanels: [string, string, Panel][] = [];
const promPanels: [string, string, Panel][] = [];
for (const { file, dashboard } of dashboards) {
  for (const p of allPanels(dashboard)) {
    const type = p.targets?.[0]?.datasource.type;
    (type === CLICKHOUSE_TYPE ? chPanels : promPanels).push([file, p.title, p]);
  }
}

/** Every metric name the detector exports (histograms with their series suffixes), plus Prometheus' own `up`. */
function exportedNames(): Set<string> {
  const registry = new Registry();
  createMetrics({ registry });
  const names = new Set<string>(['up']);
  for (const m of registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

describe('dashboards (static)', () => {
  it('has the three dashboards, each with a unique uid, the current schema and posguard tag', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['detector-health.json', 'fraud-patterns.json', 'orphaned-debits.json']);
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(3);
    for (const { dashboard } of dashboards) {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
      expect(dashboard.tags).toContain('posguard');
      const ids = allPanels(dashboard).map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('every panel has a title, a description, a position and targets on a provisioned data source of the right type', () => {
    const byUid = new Map(provisioned.datasources.map((d) => [d.uid, d.type]));
    for (const { file, dashboard } of dashboards) {
      for (const p of allPanels(dashboard)) {
        const where = `${file}: ${p.title}`;
        expect(p.title, where).not.toBe('');
        expect(p.description?.length, where).toBeGreaterThan(10);
        expect(p.gridPos.w, where).toBeGreaterThan(0);
        expect(p.gridPos.x + p.gridPos.w, where).toBeLessThanOrEqual(24);
        expect(p.targets?.length, where).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          expect(byUid.get(t.datasource.uid), where).toBe(t.datasource.type);
          if (t.datasource.type === CLICKHOUSE_TYPE) {
            expect(t.editorType, where).toBe('sql');
            expect(['table', 'timeseries'], where).toContain(t.queryType);
            if (p.type === 'timeseries') expect(t.rawSql, where).toMatch(/\$__timeInterval\(/);
          } else {
            expect(t.datasource.type, where).toBe(PROMETHEUS_TYPE);
            expect(t.expr, where).toBeTruthy();
          }
        }
      }
    }
  });

  it('Orphaned debits and Fraud patterns read ClickHouse; Detector health reads Prometheus', () => {
    const typesOf = (file: string) => new Set(allPanels(dashboards.find((d) => d.file === file)!.dashboard).flatMap((p) => (p.targets ?? []).map((t) => t.datasource.type)));
    expect([...typesOf('orphaned-debits.json')]).toEqual([CLICKHOUSE_TYPE]);
    expect([...typesOf('fraud-patterns.json')]).toEqual([CLICKHOUSE_TYPE]);
    expect([...typesOf('detector-health.json')]).toEqual([PROMETHEUS_TYPE]);
  });

  it('every PromQL expression names only metrics the detector exports', () => {
    const exported = exportedNames();
    let checked = 0;
    for (const [file, title, p] of promPanels) {
      for (const t of p.targets ?? []) {
        const names = metricNames(expandPromVariables(t.expr!));
        expect(names.length, `${file}: ${title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of names) expect(exported.has(n), `${file}: ${title}: ${n} is not exported by the detector`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('the macro expansion matches the ClickHouse plugin', () => {
    const r = { fromMs: Date.UTC(2026, 2, 2, 8), toMs: Date.UTC(2026, 2, 2, 9), intervalMs: 30_000 };
    expect(expandClickHouseMacros('WHERE $__timeFilter(a.event_time) GROUP BY $__timeInterval(event_time)', r))
      .toBe(`WHERE a.event_time >= toDateTime(${r.fromMs / 1000}) AND a.event_time <= toDateTime(${r.toMs / 1000}) GROUP BY toStartOfInterval(toDateTime(event_time), INTERVAL 30 second)`);
    expect(() => expandClickHouseMacros('$__nope(x)', r)).toThrow(/unknown/);
    expect(() => expandClickHouseMacros('WHERE x IN (${issuer})', r)).toThrow(/unexpanded/);
  });
});

describe('PromQL parses (promtool)', () => {
  const tools = requireTools({ promtool: ['promtool'] });
  if (tools === null) return;

  it('every expression, as a recording rule, passes promtool check rules', () => {
    const rules = promPanels.flatMap(([file, , p], i) => (p.targets ?? []).map((t, j) => ({
      record: `posguard_dashboard:${file.replace(/\W/g, '_')}:${i}_${j}`,
      expr: expandPromVariables(t.expr!),
    })));
    const dir = mkdtempSync(join(tmpdir(), 'posguard-promql-'));
    try {
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
      const r = run(tools.promtool, ['check', 'rules', file]);
      expect(r.out, r.out).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(r.code, r.out).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ClickHouse panels run against simulated data', () => {
  let db: SimDb;
  /** Labels given before the panels run: the precision panels must count exactly these. */
  const labelled = { cause: '', orphansOfCause: 0, patternKind: '' };
  beforeAll(async () => {
    db = await openSimDb('dashboards');
    const sel = async <T>(sql: string) => (await db.client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
    const [top] = await sel<{ cause: string; n: number }>("SELECT ifNull(cause, '') AS cause, count() AS n FROM anomalies_current WHERE kind = 'ORPHAN_DEBIT' AND status != 'RETRACTED' GROUP BY cause ORDER BY n DESC, cause LIMIT 1");
    const orphans = await sel<{ anomaly_id: string }>(`SELECT anomaly_id FROM anomalies_current WHERE kind = 'ORPHAN_DEBIT' AND status != 'RETRACTED' AND cause = '${top.cause}' ORDER BY anomaly_id LIMIT 4`);
    const [kind] = await sel<{ kind: string }>("SELECT kind FROM anomalies_current WHERE kind IN ('CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL', 'TERMINAL_FAULT_SPIKE') AND status != 'RETRACTED' GROUP BY kind HAVING count() >= 2 ORDER BY kind LIMIT 1");
    const patterns = await sel<{ anomaly_id: string }>(`SELECT anomaly_id FROM anomalies_current WHERE kind = '${kind.kind}' AND status != 'RETRACTED' ORDER BY anomaly_id LIMIT 2`);
    const labels = [
      ...orphans.map((o, i) => ({ anomaly_id: o.anomaly_id, label: i === 3 ? 'false_positive' : 'confirmed', note: '', where: '' })),
      { anomaly_id: patterns[0].anomaly_id, label: 'expected', note: '', where: '' },
      { anomaly_id: patterns[1].anomaly_id, label: 'false_positive', note: '', where: '' },
    ];
    await appendLabels(db.client, labels, 'dashboards-test', SIM_END);
    Object.assign(labelled, { cause: top.cause, orphansOfCause: Number(top.n), patternKind: kind.kind });
  }, 240_000);
  afterAll(async () => db?.dispose());

  // The dashboard's range covers the simulated span (like "last 24 h" on the day it ran).
  const range = { fromMs: SIM_START - 3_600_000, toMs: SIM_END + 86_400_000, intervalMs: 60_000 };

  it.each(nonEmpty(chPanels, 'ClickHouse dashboard panel').map(([file, title, p]) => [`${file}: ${title}`, p]))('%s returns rows', async (_name, p) => {
    for (const t of (p as Panel).targets ?? []) {
      const sql = expandClickHouseMacros(t.rawSql!, range);
      const rs = await db.client.query({ query: sql, format: 'JSONEachRow' });
      const rows = await rs.json<Record<string, unknown>>();
      expect(rows.length, sql).toBeGreaterThan(0);
      // Not just a row of zeros or NaN: some value in it says something.
      const meaningful = rows.some((r) => Object.values(r).some((v) => v !== null && v !== 0 && v !== '0' && v !== 'nan' && !(typeof v === 'number' && Number.isNaN(v))));
      expect(meaningful, sql).toBe(true);
      if (t.queryType === 'timeseries') {
        expect(Object.keys(rows[0])[0], sql).toBe('time');
        expect(rows.length, sql).toBeGreaterThan(5);
      }
    }
  });

  const panelRows = async (file: string, title: string) => {
    const p = chPanels.find(([f, t]) => f === file && t === title)?.[2];
    expect(p, `${file}: ${title}`).toBeDefined();
    const rs = await db.client.query({ query: expandClickHouseMacros(p!.targets![0].rawSql!, range), format: 'JSONEachRow' });
    return rs.json<Record<string, unknown>>();
  };

  it('the precision and backlog panels count the analysts\' labels', async () => {
    const byCause = (await panelRows('orphaned-debits.json', 'Precision by cause, from labels')).find((r) => r.cause === labelled.cause);
    expect(byCause).toMatchObject({ orphans: labelled.orphansOfCause, labelled: 4, confirmed: 3, false_positives: 1, precision: 0.75 });
    const backlog = (await panelRows('orphaned-debits.json', 'Still unlabelled, by cause')).find((r) => r.cause === labelled.cause);
    expect(backlog?.unlabelled).toBe(labelled.orphansOfCause - 4);
    const byKind = (await panelRows('fraud-patterns.json', 'Precision by kind, from labels')).find((r) => r.kind === labelled.patternKind);
    expect(byKind).toMatchObject({ labelled: 2, expected: 1, false_positives: 1, precision: 0.5 });
    // Kinds nobody labelled have no precision rather than a made-up one.
    expect((await panelRows('fraud-patterns.json', 'Precision by kind, from labels')).filter((r) => r.kind !== labelled.patternKind).every((r) => r.precision === null)).toBe(true);
  });

  it('the pattern tables name each anomaly (id, rrn, label, suppressed) and the orphan tables keep suppressed money apart', async () => {
    const sel = async <T>(sql: string) => (await db.client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
    const testing = await panelRows('fraud-patterns.json', 'Card testing');
    const travel = await panelRows('fraud-patterns.json', 'Impossible travel and velocity');
    // Every row is one anomaly, with its id, rrn and latest label as stored.
    const stored = new Map((await sel<{ anomaly_id: string; rrn: string | null; label: string }>("SELECT anomaly_id, rrn, label FROM anomalies_labelled WHERE kind IN ('CARD_TESTING', 'IMPOSSIBLE_TRAVEL', 'CARD_VELOCITY')")).map((r) => [r.anomaly_id, r]));
    for (const r of [...testing, ...travel]) expect(r, JSON.stringify(r)).toMatchObject({ ...stored.get(r.anomaly_id as string), suppressed: 0 });
    expect([...testing, ...travel].some((r) => r.label !== '')).toBe(true);

    const card = testing[0].card_token as string;
    const spikes = (await panelRows('fraud-patterns.json', 'Terminals with fault spikes'))[0];
    const merchant = (await panelRows('orphaned-debits.json', 'By merchant')).find((r) => Number(r.open) > 0)!;
    const issuerTotals = async () => (await panelRows('orphaned-debits.json', 'By issuer')).reduce<Record<'open' | 'atRisk' | 'sOpen' | 'sAtRisk', number>>((a, r) => ({ open: a.open + Number(r.open), atRisk: a.atRisk + Number(r.at_risk), sOpen: a.sOpen + Number(r.suppressed_open), sAtRisk: a.sAtRisk + Number(r.suppressed_at_risk) }), { open: 0, atRisk: 0, sOpen: 0, sAtRisk: 0 });
    const before = await issuerTotals();
    expect(before).toMatchObject({ sOpen: 0, sAtRisk: 0 });
    const until = Date.now() + 3_600_000;
    const ids = [
      await addSuppression(db.client, { kind: 'CARD_TESTING', scope: 'card', value: card, untilMs: until, reason: 'test card' }, 'dashboards-test', Date.now()),
      await addSuppression(db.client, { kind: 'TERMINAL_FAULT_SPIKE', scope: 'terminal', value: spikes.terminal_id as string, untilMs: until, reason: 'reader swap' }, 'dashboards-test', Date.now()),
      await addSuppression(db.client, { kind: 'ORPHAN_DEBIT', scope: 'merchant', value: merchant.merchant_id as string, untilMs: until, reason: 'merchant refunds' }, 'dashboards-test', Date.now()),
    ];
    try {
      const cardRows = (await panelRows('fraud-patterns.json', 'Card testing')).filter((r) => r.card_token === card);
      expect(cardRows.length).toBeGreaterThan(0);
      expect(cardRows.every((r) => r.suppressed === 1)).toBe(true);
      expect((await panelRows('fraud-patterns.json', 'Cards with fraud-like patterns')).find((r) => r.card_token === card)).toMatchObject({ suppressed_anomalies: cardRows.length, latest_anomaly_id: expect.stringMatching(/.+/) });
      expect((await panelRows('fraud-patterns.json', 'Terminals with fault spikes')).find((r) => r.terminal_id === spikes.terminal_id)).toMatchObject({ suppressed_spikes: spikes.spikes, latest_anomaly_id: spikes.latest_anomaly_id });
      expect((await panelRows('orphaned-debits.json', 'By merchant')).find((r) => r.merchant_id === merchant.merchant_id)).toMatchObject({ open: 0, at_risk: 0, suppressed_open: merchant.open, suppressed_at_risk: merchant.at_risk });
      const after = await issuerTotals();
      expect(after.open).toBe(before.open - Number(merchant.open));
      expect(after.sOpen).toBe(Number(merchant.open));
      expect(after.sAtRisk).toBeCloseTo(Number(merchant.at_risk), 2);
      expect(after.atRisk + after.sAtRisk).toBeCloseTo(before.atRisk, 2);
    } finally {
      for (const id of ids) await removeSuppression(db.client, id, 'dashboards-test', 'test done', Date.now());
    }
  });
});
