/**
 * Measures the streaming engine's anomalies against the batch reference.
 * The engine emits versions; its final state per anomaly_id is the highest
 * version (ties: the last one given). RETRACTED finals are dropped: per
 * docs/semantics.md the reference simply never reports such an anomaly.
 * Matching is by anomaly_id, which is deterministic from kind and key.
 *
 * Every field detection.md ("What an anomaly carries") lists is compared,
 * except the few in NOT_COMPARED, each with the reason it may differ.
 */
import { ANOMALY_KINDS, type Anomaly, type AnomalyKind, type Evidence } from '../events/anomaly.js';

/**
 * The fields compared for every matched anomaly (cause and status are measured apart).
 * `related_rrns` is compared as a set; `evidence` as the set of event ids per stream.
 */
export const COMPARED_FIELDS = [
  'kind', 'severity', 'event_time', 'terminal_id', 'merchant_id', 'card_token', 'rrn', 'stan', 'issuer_id',
  'amount_minor', 'currency', 'related_rrns', 'evidence',
] as const;
export type ComparedField = (typeof COMPARED_FIELDS)[number];

/**
 * The one list of what engine and reference may legitimately disagree on, and why.
 * Anything an anomaly carries that is neither here nor compared fails to type-check (below).
 */
export const NOT_COMPARED = {
  anomaly_id: 'the match key itself: both derive it from kind and key (docs/semantics.md, Identity)',
  version: 'the engine emits a new version per change and is judged on its final one; the reference emits each anomaly once, as version 1',
  detected_at: 'wall-clock time of the emission; the reference has no wall clock and writes 0',
  'evidence entries beyond their event_id': 'an entry\'s event_type and event_time follow from its id; its `detail` is presentation '
    + '(the engine keeps the codes it packs, the reference names fields of the event) and the list order is by time in both',
  suppressed_by: 'an analyst\'s silencing stamped at write time (docs/analysts-tools.md), not a decision of the detector; the reference knows no suppressions',
  feed_gaps: 'live input only (../shared/spec/feeds.md): the streams released while stalled when that version was decided; '
    + 'the reference reads complete data, and a verdict unchanged by the backlog keeps the flag of the version that stands',
} as const;

type Accounted = ComparedField | 'cause' | 'status' | keyof typeof NOT_COMPARED;
/** Compile-time: a field added to Anomaly must be compared or listed in NOT_COMPARED. */
const everyFieldAccountedFor: Exclude<keyof Anomaly, Accounted> extends never ? true : never = true;
void everyFieldAccountedFor;

export interface FieldDiff {
  readonly field: ComparedField | 'cause' | 'status';
  readonly engine: unknown;
  readonly reference: unknown;
}

export type Problem = 'FALSE_POSITIVE' | 'FALSE_NEGATIVE' | 'CAUSE' | 'STATUS' | 'FIELDS';

/** Enough of an anomaly to find it again in the data. */
export interface AnomalySummary {
  readonly kind: AnomalyKind;
  readonly cause: string | null;
  readonly status: string;
  readonly version: number;
  readonly event_time: number;
  readonly rrn: string | null;
  readonly terminal_id: string | null;
  readonly stan: string | null;
  readonly card_token: string | null;
}

export interface Mismatch {
  readonly anomaly_id: string;
  readonly kind: AnomalyKind;
  readonly problems: readonly Problem[];
  /** For matched anomalies: each field that differs. */
  readonly diffs: readonly FieldDiff[];
  readonly engine: AnomalySummary | null;
  readonly reference: AnomalySummary | null;
}

export interface KindReport {
  readonly kind: AnomalyKind | 'ALL';
  /** Anomalies in the reference. */
  readonly reference: number;
  /** Final, non-RETRACTED engine anomalies. */
  readonly engine: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** tp / (tp + fp); null when the engine reported none. */
  readonly precision: number | null;
  /** tp / (tp + fn); null when the reference has none. */
  readonly recall: number | null;
  /** Matched ORPHAN_DEBITs compared on cause (0 for other kinds), and how many agreed. */
  readonly causeCompared: number;
  readonly causeAgreed: number;
  readonly causeAccuracy: number | null;
  readonly statusAgreed: number;
  /** statusAgreed / tp. */
  readonly statusAccuracy: number | null;
  /** Matched anomalies agreeing on every COMPARED_FIELDS field. */
  readonly fieldsAgreed: number;
  readonly fieldAccuracy: number | null;
}

export interface Report {
  /** Engine input: versions given, distinct anomaly_ids, of which dropped as RETRACTED. */
  readonly engineVersions: number;
  readonly engineIds: number;
  readonly retractedDropped: number;
  /** Reference anomalies given with an anomaly_id already seen (the first is kept); anything but 0 is disagreement. */
  readonly referenceDuplicateIds: number;
  /** One row per kind, in ANOMALY_KINDS order. */
  readonly kinds: readonly KindReport[];
  readonly total: KindReport;
  /** No FP, no FN, no duplicate reference id, and every matched anomaly agrees on cause, status and fields. */
  readonly agree: boolean;
  /** Total number of anomalies with a problem; `mismatches` holds the first `mismatchCap` of them. */
  readonly mismatchCount: number;
  readonly mismatchCap: number;
  readonly mismatches: readonly Mismatch[];
}

export interface CompareOptions {
  /** How many mismatches to list (default 50). Counts are never capped. */
  readonly maxMismatches?: number;
}

/** The engine's final state per anomaly_id: highest version, ties broken by the later position. */
export function finalStates(versions: readonly Anomaly[]): Map<string, Anomaly> {
  const out = new Map<string, Anomaly>();
  for (const a of versions) {
    const cur = out.get(a.anomaly_id);
    if (cur === undefined || a.version >= cur.version) out.set(a.anomaly_id, a);
  }
  return out;
}

function sortedSet(xs: readonly string[] | null | undefined): string[] {
  return [...new Set(xs ?? [])].sort();
}

/** Evidence as compared: the sorted, distinct event ids of each stream. */
export function evidenceIds(e: Evidence | null | undefined): { terminal: string[]; gateway: string[]; bank: string[] } {
  const ids = (xs: readonly { event_id: string }[] | undefined) => sortedSet((xs ?? []).map((x) => x.event_id.toLowerCase()));
  return { terminal: ids(e?.terminal), gateway: ids(e?.gateway), bank: ids(e?.bank) };
}

function fieldValue(a: Anomaly, f: ComparedField): unknown {
  if (f === 'related_rrns') return sortedSet(a.related_rrns);
  if (f === 'evidence') return evidenceIds(a.evidence);
  return a[f] ?? null;
}

function sameValue(x: unknown, y: unknown): boolean {
  return JSON.stringify(x) === JSON.stringify(y);
}

function summary(a: Anomaly): AnomalySummary {
  return {
    kind: a.kind, cause: a.cause ?? null, status: a.status, version: a.version, event_time: a.event_time,
    rrn: a.rrn ?? null, terminal_id: a.terminal_id ?? null, stan: a.stan ?? null, card_token: a.card_token ?? null,
  };
}

interface Counts {
  reference: number; engine: number; tp: number; fp: number; fn: number;
  causeCompared: number; causeAgreed: number; statusAgreed: number; fieldsAgreed: number;
}

const zero = (): Counts => ({ reference: 0, engine: 0, tp: 0, fp: 0, fn: 0, causeCompared: 0, causeAgreed: 0, statusAgreed: 0, fieldsAgreed: 0 });
const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

function toRow(kind: AnomalyKind | 'ALL', c: Counts): KindReport {
  return {
    kind, ...c,
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    causeAccuracy: ratio(c.causeAgreed, c.causeCompared),
    statusAccuracy: ratio(c.statusAgreed, c.tp),
    fieldAccuracy: ratio(c.fieldsAgreed, c.tp),
  };
}

/** The engine's final state per id, RETRACTED ones left out (counted). */
function liveFinals(engine: readonly Anomaly[]): { finals: number; live: Map<string, Anomaly>; retractedDropped: number } {
  const finals = finalStates(engine);
  const live = new Map<string, Anomaly>();
  let retractedDropped = 0;
  for (const [id, a] of finals) {
    if (a.status === 'RETRACTED') retractedDropped++;
    else live.set(id, a);
  }
  return { finals: finals.size, live, retractedDropped };
}

/** The reference by id; a repeated id is counted (the reference must not repeat one). */
function referenceById(reference: readonly Anomaly[]): { ref: Map<string, Anomaly>; referenceDuplicateIds: number } {
  const ref = new Map<string, Anomaly>();
  let referenceDuplicateIds = 0;
  for (const a of reference) {
    if (ref.has(a.anomaly_id)) referenceDuplicateIds++;
    else ref.set(a.anomaly_id, a);
  }
  return { ref, referenceDuplicateIds };
}

/** Compares one anomaly both sides found: cause (orphans), status and every compared field. */
function compareFound(e: Anomaly, r: Anomaly, c: Counts): { problems: Problem[]; diffs: FieldDiff[] } {
  const problems: Problem[] = [];
  const diffs: FieldDiff[] = [];
  if (r.kind === 'ORPHAN_DEBIT') {
    c.causeCompared++;
    if ((e.cause ?? null) === (r.cause ?? null)) c.causeAgreed++;
    else {
      problems.push('CAUSE');
      diffs.push({ field: 'cause', engine: e.cause ?? null, reference: r.cause ?? null });
    }
  }
  if (e.status === r.status) c.statusAgreed++;
  else {
    problems.push('STATUS');
    diffs.push({ field: 'status', engine: e.status, reference: r.status });
  }
  const fieldDiffs = COMPARED_FIELDS
    .map((f) => ({ field: f, engine: fieldValue(e, f), reference: fieldValue(r, f) }))
    .filter((d) => !sameValue(d.engine, d.reference));
  if (fieldDiffs.length === 0) c.fieldsAgreed++;
  else {
    problems.push('FIELDS');
    diffs.push(...fieldDiffs);
  }
  return { problems, diffs };
}

export function compareAnomalies(engine: readonly Anomaly[], reference: readonly Anomaly[], opts: CompareOptions = {}): Report {
  const cap = opts.maxMismatches ?? 50;
  const { finals, live, retractedDropped } = liveFinals(engine);
  const { ref, referenceDuplicateIds } = referenceById(reference);
  const counts = new Map<AnomalyKind, Counts>(ANOMALY_KINDS.map((k) => [k, zero()]));
  const countsOf = (k: AnomalyKind): Counts => {
    let c = counts.get(k);
    if (c === undefined) counts.set(k, (c = zero())); // an unknown kind in the input: still counted
    return c;
  };
  const mismatches: Mismatch[] = [];

  // Reference order first (sorted by time), then engine-only ids: a stable, readable listing.
  for (const [id, r] of ref) {
    const c = countsOf(r.kind);
    c.reference++;
    const e = live.get(id);
    if (e === undefined) {
      c.fn++;
      mismatches.push({ anomaly_id: id, kind: r.kind, problems: ['FALSE_NEGATIVE'], diffs: [], engine: null, reference: summary(r) });
      continue;
    }
    c.tp++;
    const { problems, diffs } = compareFound(e, r, c);
    if (problems.length > 0) mismatches.push({ anomaly_id: id, kind: r.kind, problems, diffs, engine: summary(e), reference: summary(r) });
  }
  for (const [id, e] of live) {
    const c = countsOf(e.kind);
    c.engine++;
    if (!ref.has(id)) {
      c.fp++;
      mismatches.push({ anomaly_id: id, kind: e.kind, problems: ['FALSE_POSITIVE'], diffs: [], engine: summary(e), reference: null });
    }
  }

  const kinds = [...counts].map(([k, c]) => toRow(k, c));
  const sum = zero();
  for (const c of counts.values()) for (const k of Object.keys(sum) as (keyof Counts)[]) sum[k] += c[k];
  return {
    engineVersions: engine.length,
    engineIds: finals,
    retractedDropped,
    referenceDuplicateIds,
    kinds,
    total: toRow('ALL', sum),
    agree: mismatches.length === 0 && referenceDuplicateIds === 0,
    mismatchCount: mismatches.length,
    mismatchCap: cap,
    mismatches: mismatches.slice(0, cap),
  };
}

const fmtRatio = (x: number | null): string => (x === null ? '-' : x.toFixed(4));

function fmtValue(v: unknown): string {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent: values reach here through `?? null`, never undefined, and JSON.stringify(null) is "null" too
  return v === null || v === undefined ? 'null' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** One line per field; evidence as the ids each side lacks, per stream, so a long list stays readable. */
function describeDiff(d: FieldDiff): string[] {
  if (d.field !== 'evidence') return [`${d.field}: engine ${fmtValue(d.engine)} != reference ${fmtValue(d.reference)}`];
  const e = d.engine as Record<string, string[]>;
  const r = d.reference as Record<string, string[]>;
  const out: string[] = [];
  for (const stream of ['terminal', 'gateway', 'bank']) {
    const missing = r[stream].filter((id) => !e[stream].includes(id));
    const extra = e[stream].filter((id) => !r[stream].includes(id));
    if (missing.length > 0) out.push(`evidence.${stream}: engine lacks ${missing.join(', ')}`);
    if (extra.length > 0) out.push(`evidence.${stream}: engine has extra ${extra.join(', ')}`);
  }
  return out;
}

function describeSummary(s: AnomalySummary): string {
  const parts = [`status=${s.status}`];
  if (s.cause !== null) parts.push(`cause=${s.cause}`);
  parts.push(`event_time=${new Date(s.event_time).toISOString()}`);
  if (s.rrn !== null) parts.push(`rrn=${s.rrn}`);
  if (s.terminal_id !== null) parts.push(`terminal=${s.terminal_id}`);
  if (s.stan !== null) parts.push(`stan=${s.stan}`);
  if (s.card_token !== null) parts.push(`card=${s.card_token}`);
  return parts.join(' ');
}

/** A fixed-width table of the per-kind figures, then the (capped) list of mismatches. */
export function formatReport(r: Report): string {
  const header = ['kind', 'reference', 'engine', 'TP', 'FP', 'FN', 'precision', 'recall', 'cause acc', 'status acc', 'fields acc'];
  const rows = [...r.kinds, r.total].map((k) => [
    k.kind, String(k.reference), String(k.engine), String(k.tp), String(k.fp), String(k.fn),
    fmtRatio(k.precision), fmtRatio(k.recall), fmtRatio(k.causeAccuracy), fmtRatio(k.statusAccuracy), fmtRatio(k.fieldAccuracy),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  // Stryker disable next-line MethodExpression: equivalent (trimEnd → trimStart): the last column is right-aligned and the first starts with the kind, so no line has blanks to trim at either end
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  rows.forEach((row, i) => {
    if (i === rows.length - 1) out.push(widths.map((w) => '-'.repeat(w)).join('  '));
    out.push(line(row));
  });
  out.push('');
  out.push(`engine: ${r.engineVersions} versions, ${r.engineIds} anomalies, ${r.retractedDropped} RETRACTED dropped; reference: ${r.total.reference} anomalies`
    + (r.referenceDuplicateIds > 0 ? ` (${r.referenceDuplicateIds} duplicate ids: the reference must key each anomaly once)` : ''));
  if (r.agree) {
    out.push('engine and reference agree');
  } else if (r.mismatchCount === 0) {
    out.push(`disagreement: ${r.referenceDuplicateIds} reference anomalies share an anomaly_id`);
  } else {
    const shown = r.mismatches.length < r.mismatchCount ? ` (first ${r.mismatches.length})` : '';
    out.push(`mismatches: ${r.mismatchCount}${shown}`);
    for (const m of r.mismatches) {
      out.push(`  ${m.problems.join('+')} ${m.kind} ${m.anomaly_id}`);
      if (m.engine) out.push(`    engine:    ${describeSummary(m.engine)}`);
      if (m.reference) out.push(`    reference: ${describeSummary(m.reference)}`);
      for (const d of m.diffs) for (const l of describeDiff(d)) out.push(`    ${l}`);
    }
  }
  return out.join('\n') + '\n';
}
