/**
 * How a backtest reads: a table by kind and cause (counts under each rule
 * set, added / removed / changed, what labels say about them), a few
 * examples per change and kind, and one JSON line per difference for --out.
 */
import { ANOMALY_KINDS, type AnomalyKind } from '../events/anomaly.js';
import type { AnomalyState, Change, DiffEntry } from './diff.js';
import type { LatestLabel } from './labels.js';
import type { BacktestResult } from './types.js';

export interface GroupRow {
  readonly kind: AnomalyKind;
  readonly cause: string | null;
  baseline: number;
  candidate: number;
  added: number;
  removed: number;
  changed: number;
  /** Removed anomalies whose label in force is `confirmed` / `false_positive`. */
  confirmedLost: number;
  falsePositivesRemoved: number;
  /** Changed anomalies (same id, another cause, status, time...) whose label in force is `confirmed` / `false_positive`. */
  confirmedChanged: number;
  falsePositivesChanged: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const keyOf = (kind: string, cause: string | null) => `${kind}\t${cause ?? ''}`;

/** One row per (kind, cause) seen under either rule set, in ANOMALY_KINDS order. */
export function groupRows(r: BacktestResult): GroupRow[] {
  const rows = new Map<string, GroupRow>();
  const row = (s: AnomalyState): GroupRow => {
    const k = keyOf(s.kind, s.cause);
    let g = rows.get(k);
    if (g === undefined) rows.set(k, (g = { kind: s.kind, cause: s.cause, baseline: 0, candidate: 0, added: 0, removed: 0, changed: 0, confirmedLost: 0, falsePositivesRemoved: 0, confirmedChanged: 0, falsePositivesChanged: 0 }));
    return g;
  };
  const inPeriod = (s: AnomalyState) => s.status !== 'RETRACTED' && s.event_time >= r.period.fromMs && s.event_time < r.period.toMs;
  for (const s of r.baseline.byId.values()) if (inPeriod(s)) row(s).baseline++;
  for (const s of r.candidate.byId.values()) if (inPeriod(s)) row(s).candidate++;
  for (const e of r.entries) {
    const g = row((e.baseline ?? e.candidate)!);
    g[e.change]++;
    const label = r.labels.get(e.anomaly_id)?.label;
    if (e.change === 'removed' && label === 'confirmed') g.confirmedLost++;
    if (e.change === 'removed' && label === 'false_positive') g.falsePositivesRemoved++;
    if (e.change === 'changed' && label === 'confirmed') g.confirmedChanged++;
    if (e.change === 'changed' && label === 'false_positive') g.falsePositivesChanged++;
  }
  const order = (g: GroupRow) => ANOMALY_KINDS.indexOf(g.kind);
  return [...rows.values()].sort((a, b) => order(a) - order(b) || (a.cause ?? '').localeCompare(b.cause ?? ''));
}

function table(rows: readonly GroupRow[]): string {
  const head = ['kind / cause', 'baseline', 'candidate', 'added', 'removed', 'changed', 'confirmed lost', 'FP removed', 'confirmed changed', 'FP changed'];
  const counts = (g: GroupRow) => [g.baseline, g.candidate, g.added, g.removed, g.changed, g.confirmedLost, g.falsePositivesRemoved, g.confirmedChanged, g.falsePositivesChanged];
  const total = rows.reduce((t, g) => t.map((n, i) => n + counts(g)[i]), counts({ kind: 'ORPHAN_DEBIT', cause: null, baseline: 0, candidate: 0, added: 0, removed: 0, changed: 0, confirmedLost: 0, falsePositivesRemoved: 0, confirmedChanged: 0, falsePositivesChanged: 0 }));
  const cells = [...rows.map((g) => [g.cause === null ? g.kind : `${g.kind} / ${g.cause}`, ...counts(g).map(String)]), ['total', ...total.map(String)]];
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** Label counts per change: "removed: 2 confirmed, 1 false_positive, 4 unlabelled". */
function labelLines(r: BacktestResult): string[] {
  const out: string[] = [];
  for (const change of ['removed', 'added', 'changed'] as const) {
    const es = r.entries.filter((e) => e.change === change);
    if (es.length === 0) continue;
    const counts = new Map<string, number>();
    for (const e of es) {
      const l = r.labels.get(e.anomaly_id)?.label ?? 'unlabelled';
      counts.set(l, (counts.get(l) ?? 0) + 1);
    }
    out.push(`  ${change.padEnd(8)} ${[...counts.entries()].sort().map(([l, n]) => `${n} ${l}`).join(', ')}`);
  }
  return out;
}

function describeState(s: AnomalyState): string {
  const parts = [iso(s.event_time), s.status];
  if (s.cause !== null) parts.push(s.cause);
  if (s.rrn !== null) parts.push(`rrn ${s.rrn}`);
  if (s.terminal_id !== null) parts.push(`terminal ${s.terminal_id}`);
  if (s.card_token !== null) parts.push(`card ${s.card_token}`);
  if (s.amount_minor !== null) parts.push(`${s.amount_minor} ${s.currency ?? ''}`.trim());
  return parts.join(', ');
}

function example(e: DiffEntry, label: LatestLabel | undefined): string {
  const tag = label === undefined ? '' : ` [${label.label}]`;
  if (e.change !== 'changed') return `  ${e.change.padEnd(8)} ${e.kind} ${e.anomaly_id}${tag}: ${describeState((e.baseline ?? e.candidate)!)}`;
  const show = (s: AnomalyState, f: string) => (f === 'event_time' ? iso(s.event_time) : String(s[f as keyof AnomalyState]));
  const what = e.fields.map((f) => `${f} ${show(e.baseline!, f)} -> ${show(e.candidate!, f)}`).join('; ');
  return `  changed  ${e.kind} ${e.anomaly_id}${tag}: ${describeState(e.baseline!)}; ${what}`;
}

/** Where events_raw does not cover a margin, the edge of the period sees less than the live detector did. */
function edgeNotes(r: BacktestResult): string[] {
  const p = r.period;
  if (r.data === null) return [];
  const out: string[] = [];
  if (r.data.minMs > p.readFromMs) out.push(`  note        no events before ${iso(r.data.minMs)}: windows early in the period start with no history`);
  if (r.data.maxMs < p.readToMs - 1) out.push(`  note        no events after ${iso(r.data.maxMs)}: attempts near the end are decided as at the end of input (as replay does), later evidence is not seen`);
  return out;
}

/** The human report (stdout). `examples`: at most this many per (change, kind). */
export function renderReport(r: BacktestResult, names: { baseline: string; baselineNote?: string | null; candidate: string; out?: string }, examples = 3): string {
  const p = r.period;
  const secs = r.elapsedMs / 1000;
  const lines = [
    'posguard backtest',
    `  period      ${iso(p.fromMs)} .. ${iso(p.toMs)} (anomalies whose event_time is in it are counted)`,
    `  read        ${iso(p.readFromMs)} .. ${iso(p.readToMs)} (warm-up and settle margins, docs/backtest.md)`,
    `  data        ${r.data === null ? 'events_raw is empty' : `events_raw holds ${iso(r.data.minMs)} .. ${iso(r.data.maxMs)}`}`,
    `  rules       in force: ${names.baseline}; candidate: ${names.candidate}`,
    ...(names.baselineNote ? [`  note        ${names.baselineNote}`] : []),
    `  events      ${r.events} through both detectors (${r.source.pages} pages, ${r.source.queries} queries${r.invalidRows > 0 ? `, ${r.invalidRows} rows not valid events, skipped` : ''})`,
    `  elapsed     ${secs.toFixed(2)} s (${Math.round(r.events / Math.max(secs, 1e-3))} events/s; reading ClickHouse ${(r.source.readMs / 1000).toFixed(2)} s)`,
    ...edgeNotes(r),
    '',
    table(groupRows(r)),
    '',
  ];
  if (r.entries.length === 0) {
    lines.push('No difference: the candidate rules report the same anomalies as the rules in force.');
  } else {
    lines.push('labels in force (anomaly_labels; "confirmed lost" = removed but labelled confirmed; "confirmed changed" = still reported, but differently):', ...labelLines(r), '', 'examples:');
    const shown = new Map<string, number>();
    for (const e of r.entries) {
      const k = `${e.change}\t${e.kind}`;
      const n = shown.get(k) ?? 0;
      if (n >= examples) continue;
      shown.set(k, n + 1);
      lines.push(example(e, r.labels.get(e.anomaly_id)));
    }
  }
  if (names.out !== undefined) lines.push('', `full diff: ${r.entries.length} lines in ${names.out}`);
  return lines.join('\n') + '\n';
}

export interface DiffLine {
  readonly change: Change;
  readonly anomaly_id: string;
  readonly kind: AnomalyKind;
  readonly event_time: string;
  readonly changed_fields: readonly string[];
  readonly label: LatestLabel | null;
  readonly baseline: AnomalyState | null;
  readonly candidate: AnomalyState | null;
}

/** One --out line: the entry, its label in force, times as epoch ms inside the states. */
export function diffLine(e: DiffEntry, label: LatestLabel | undefined): DiffLine {
  return {
    change: e.change, anomaly_id: e.anomaly_id, kind: e.kind, event_time: iso((e.baseline ?? e.candidate)!.event_time),
    changed_fields: e.fields, label: label ?? null, baseline: e.baseline, candidate: e.candidate,
  };
}
