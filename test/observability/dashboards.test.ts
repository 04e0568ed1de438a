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
import { createMetrics } from '../../src/metrics/index.js';
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
  beforeAll(async () => {
    db = await openSimDb('dashboards');
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
});
