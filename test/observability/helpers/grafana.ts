/**
 * Reads the Grafana dashboards in dashboards/ and turns their queries into
 * what the data sources run: the ClickHouse plugin's macros expanded exactly
 * as grafana-clickhouse-datasource does (pkg/macros/macros.go: $__timeFilter,
 * $__timeInterval, ...), Grafana's PromQL interval variables substituted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboards/', import.meta.url));
export const CLICKHOUSE_TYPE = 'grafana-clickhouse-datasource';
export const PROMETHEUS_TYPE = 'prometheus';

export interface Target {
  refId: string;
  datasource: { type: string; uid: string };
  rawSql?: string;
  expr?: string;
  editorType?: string;
  queryType?: string;
  format?: number;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  time: { from: string; to: string };
  templating: { list: unknown[] };
  [k: string]: unknown;
}

export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json')).sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(`${DASHBOARD_DIR}${file}`, 'utf8')) as Dashboard }));
}

/** Every panel, rows' nested panels included, rows themselves excluded. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

export interface QueryRange {
  fromMs: number;
  toMs: number;
  intervalMs: number;
}

const secs = (ms: number) => Math.floor(ms / 1000);
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Splits macro arguments on top-level commas (columns may be expressions). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

const MACROS: Record<string, (args: string[], r: QueryRange) => string> = {
  fromTime: (_a, r) => `toDateTime(${secs(r.fromMs)})`,
  toTime: (_a, r) => `toDateTime(${secs(r.toMs)})`,
  fromTime_ms: (_a, r) => `fromUnixTimestamp64Milli(${r.fromMs})`,
  toTime_ms: (_a, r) => `fromUnixTimestamp64Milli(${r.toMs})`,
  timeFilter: ([c], r) => `${c} >= toDateTime(${secs(r.fromMs)}) AND ${c} <= toDateTime(${secs(r.toMs)})`,
  timeFilter_ms: ([c], r) => `${c} >= fromUnixTimestamp64Milli(${r.fromMs}) AND ${c} <= fromUnixTimestamp64Milli(${r.toMs})`,
  dateFilter: ([c], r) => `${c} >= toDate('${day(r.fromMs)}') AND ${c} <= toDate('${day(r.toMs)}')`,
  timeInterval: ([c], r) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${Math.max(1, secs(r.intervalMs))} second)`,
  timeInterval_ms: ([c], r) => `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${Math.max(1, r.intervalMs)} millisecond)`,
  interval_s: (_a, r) => String(Math.max(1, secs(r.intervalMs))),
};
const ARITY: Record<string, number> = { timeFilter: 1, timeFilter_ms: 1, dateFilter: 1, timeInterval: 1, timeInterval_ms: 1 };

/** Expands the ClickHouse plugin's macros; throws on an unknown macro, a wrong argument count, or a leftover variable. */
export function expandClickHouseMacros(sql: string, r: QueryRange): string {
  let out = '';
  let i = 0;
  for (;;) {
    const at = sql.indexOf('$__', i);
    if (at < 0) break;
    out += sql.slice(i, at);
    const m = /^\$__([A-Za-z_]+)/.exec(sql.slice(at));
    if (m === null) throw new Error(`bad macro at ${sql.slice(at, at + 20)}`);
    const name = m[1];
    let end = at + m[0].length;
    const fn = MACROS[name];
    if (fn === undefined) throw new Error(`unknown ClickHouse macro $__${name}`);
    let args: string[] = [];
    if (sql[end] === '(') {
      let depth = 0;
      let j = end;
      for (; j < sql.length; j++) {
        if (sql[j] === '(') depth++;
        else if (sql[j] === ')' && --depth === 0) break;
      }
      args = splitArgs(sql.slice(end + 1, j));
      end = j + 1;
    }
    if (ARITY[name] !== undefined && args.length !== ARITY[name]) throw new Error(`$__${name} expects ${ARITY[name]} argument(s), got ${args.length}`);
    out += fn(args, r);
    i = end;
  }
  out += sql.slice(i);
  if (/\$\{|\$[a-zA-Z]/.test(out)) throw new Error(`unexpanded variable in: ${out}`);
  return out;
}

/** Grafana's interval variables in PromQL, as Grafana substitutes them for a typical range. */
export function expandPromVariables(expr: string): string {
  const out = expr.replace(/\$__rate_interval|\$__interval|\$__range/g, (v) => (v === '$__range' ? '1h' : '1m'));
  if (/\$/.test(out)) throw new Error(`unexpanded variable in: ${out}`);
  return out;
}

const NOT_METRICS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset',
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'inf', 'nan',
]);

/** The metric names a PromQL expression selects (identifiers that are not functions, keywords or labels). */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, '0')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = s.slice((m.index ?? 0) + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function or aggregation
    if (NOT_METRICS.has(m[0].toLowerCase())) continue;
    if (/^\d/.test(m[0])) continue;
    names.add(m[0]);
  }
  return [...names];
}
