/** Reads deploy/prometheus/alerts.yml and its promtool tests, and derives the end-to-end test's scaled rules. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const PROM_DIR = fileURLToPath(new URL('../../../deploy/prometheus/', import.meta.url));
export const ALERTS_FILE = `${PROM_DIR}alerts.yml`;
export const PROM_TESTS_DIR = `${PROM_DIR}tests/`;

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  groups: { name: string; interval?: string; rules: AlertRule[] }[];
}

export function readAlerts(text: string = readFileSync(ALERTS_FILE, 'utf8')): RuleFile {
  return parse(text) as RuleFile;
}

export function allAlerts(file: RuleFile = readAlerts()): AlertRule[] {
  return file.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
}

export interface PromtoolCase {
  file: string;
  test: string;
  alertname: string;
  evalTime: string;
  firing: boolean;
}

export function promtoolTestFiles(): string[] {
  return readdirSync(PROM_TESTS_DIR).filter((f) => f.endsWith('.yml')).sort().map((f) => `${PROM_TESTS_DIR}${f}`);
}

export function promtoolCases(): PromtoolCase[] {
  const out: PromtoolCase[] = [];
  for (const file of promtoolTestFiles()) {
    const doc = parse(readFileSync(file, 'utf8')) as { tests: { name?: string; alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: unknown[] }[] }[] };
    for (const t of doc.tests) {
      for (const a of t.alert_rule_test ?? []) {
        out.push({ file, test: t.name ?? '', alertname: a.alertname, evalTime: a.eval_time, firing: (a.exp_alerts ?? []).length > 0 });
      }
    }
  }
  return out;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (m === null) throw new Error(`unsupported duration ${d}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

function scaled(d: string, factor: number, minMs: number): string {
  return `${Math.max(minMs, Math.round(durationMs(d) / factor))}ms`;
}

/**
 * The real rules with every range window and `for:` divided by `factor`, for a
 * detector whose simulated time runs `factor` times faster than the wall clock.
 * Ratios and counts over a window mean the same in both; only the clock changes.
 */
export function scaleRules(file: RuleFile, factor: number, minMs = 1_000): string {
  const groups = file.groups.map((g) => ({
    ...g,
    rules: g.rules.map((r) => ({
      ...r,
      expr: r.expr.replace(/\[(\d+(?:ms|s|m|h|d))\]/g, (_m, d: string) => `[${scaled(d, factor, minMs)}]`),
      ...(r.for === undefined ? {} : { for: scaled(r.for, factor, minMs) }),
    })),
  }));
  return stringify({ groups });
}
