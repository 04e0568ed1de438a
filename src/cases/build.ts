/**
 * Puts one case together: resolve, read, re-derive the decision, compare it
 * with what the detector stored.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { buildRules, type Rules } from '../config/rules.js';
import type { Evidence } from '../events/anomaly.js';
import { readLabels, readSuppressions, type LabelView, type SuppressionView } from './annotations.js';
import { attemptEvents, explainOrphan } from './explain.js';
import { explainPattern } from './explain-pattern.js';
import { ANOMALY_ID } from './sql.js';
import { readAnomalies, readPatternEvents, readClock, readEvents, readGolden, resolveCase, type AnomalyRow, type CaseTarget } from './load.js';
import type { AnomalyVersion, CaseView, EventRef, PatternExplanation, RulesApplied, Stream } from './types.js';

export interface CaseOptions {
  /** The rules this command runs with (--rules, else the defaults): used when the anomaly rows record none. */
  readonly rules: Rules;
  readonly rulesSource: string;
}

function evidenceRefs(json: string): Map<string, EventRef> {
  const out = new Map<string, EventRef>();
  let ev: Partial<Evidence> = {};
  try { ev = JSON.parse(json) as Evidence; } catch { return out; }
  for (const stream of ['terminal', 'gateway', 'bank'] as Stream[]) {
    for (const e of ev[stream] ?? []) out.set(e.event_id, { stream, event_type: e.event_type, event_id: e.event_id, event_time: e.event_time });
  }
  return out;
}

/** Each version with what it added to the evidence and what changed, so status changes show their cause. */
export function versionsOf(rows: readonly AnomalyRow[], labels: ReadonlyMap<string, LabelView> = new Map(), suppressions: ReadonlyMap<string, SuppressionView> = new Map()): AnomalyVersion[] {
  const out: AnomalyVersion[] = [];
  let prev: AnomalyRow | null = null;
  let prevRefs = new Map<string, EventRef>();
  for (const [i, r] of rows.entries()) {
    const refs = evidenceRefs(r.evidence);
    const same = prev !== null && prev.anomaly_id === r.anomaly_id;
    const added = [...refs.values()].filter((e) => !same || !prevRefs.has(e.event_id)).sort((a, b) => a.event_time - b.event_time);
    const changes: string[] = [];
    if (!same) changes.push(`emitted ${r.status}${r.cause ? ` (${r.cause})` : ''}`);
    else {
      if (prev!.status !== r.status) changes.push(`status ${prev!.status} → ${r.status}`);
      if (prev!.cause !== r.cause) changes.push(`cause ${prev!.cause ?? '—'} → ${r.cause ?? '—'}`);
      if (changes.length === 0) changes.push('evidence changed');
    }
    const latest = rows[i + 1]?.anomaly_id !== r.anomaly_id;
    out.push({
      suppression: r.suppressed_by ? suppressions.get(r.suppressed_by) ?? null : null,
      label: latest ? labels.get(r.anomaly_id) ?? null : null,
      anomaly_id: r.anomaly_id, version: r.version, kind: r.kind, cause: r.cause, status: r.status, event_time: Number(r.t),
      detected_at: Number(r.d), rrn: r.rrn, related_rrns: r.related_rrns ?? [], rules_version: r.rules_version || null, feed_gaps: r.feed_gaps ?? [], new_evidence: same ? added : [], change: changes.join('; '),
    });
    prev = r;
    prevRefs = refs;
  }
  return out;
}

/** The full rules recorded with one anomaly row (migration 008), else this run's, with where they came from. */
export function recordedRules(row: AnomalyRow | undefined, o: CaseOptions): { rules: Rules; version: string | null; source: string } {
  if (!row?.rules) return { rules: o.rules, version: null, source: `${o.rulesSource} (no anomaly row of this attempt records its rules: none, or written before migration 008)` };
  try {
    return { rules: buildRules(JSON.parse(row.rules), `rules recorded with anomaly ${row.anomaly_id}`), version: row.rules_version || null, source: `recorded with ${row.kind} ${row.anomaly_id} version ${row.version}` };
  } catch { /* unreadable recorded rules: fall back to this run's, and say so */
    return { rules: o.rules, version: null, source: `${o.rulesSource} (the rules recorded with the anomaly cannot be read)` };
  }
}

/** The thresholds that applied: the ones the orphan's rows recorded (migration 008), else this run's. */
export function rulesApplied(orphanRows: readonly AnomalyRow[], o: CaseOptions, anyRows: readonly AnomalyRow[] = []): RulesApplied {
  // The orphan's own latest version first; else the latest row of any anomaly on the attempt that recorded rules.
  const last = orphanRows[orphanRows.length - 1]?.rules ? orphanRows[orphanRows.length - 1] : [...anyRows].sort((a, b) => Number(a.d) - Number(b.d)).filter((r) => r.rules).pop();
  const { rules, version, source } = recordedRules(last, o);
  return {
    source, rules_version: version, reversalGraceMs: rules.debits.reversalGraceMs, resolutionHorizonMs: rules.debits.resolutionHorizonMs,
    terminalMaxDriftMs: rules.time.terminalMaxDriftMs, maxDelayMs: rules.time.maxDelayMs,
  };
}

/** Each non-orphan anomaly's rule, checked against its latest version's evidence under the rules recorded with it. */
async function explainPatterns(client: ClickHouseClient, anomalies: readonly AnomalyRow[], o: CaseOptions): Promise<PatternExplanation[]> {
  const latest = anomalies.filter((a, i) => a.kind !== 'ORPHAN_DEBIT' && anomalies[i + 1]?.anomaly_id !== a.anomaly_id);
  const out: PatternExplanation[] = [];
  for (const a of latest) {
    const r = recordedRules(a, o);
    const steps = explainPattern(a.kind, await readPatternEvents(client, a.evidence), r.rules);
    if (steps === null) continue;
    out.push({ anomaly_id: a.anomaly_id, kind: a.kind, version: a.version, status: a.status, rules_version: r.version, rules_source: r.source, steps, holds: steps.every((x) => x.result === 'holds') });
  }
  return out;
}

export async function buildCase(client: ClickHouseClient, id: string, o: CaseOptions): Promise<CaseView> {
  const target: CaseTarget = await resolveCase(client, id);
  const anomalies = await readAnomalies(client, target);
  const orphanRows = anomalies.filter((a) => a.kind === 'ORPHAN_DEBIT' && a.rrn === target.rrn);
  const rules = rulesApplied(orphanRows, o, anomalies);
  const events = await readEvents(client, target, rules.resolutionHorizonMs);
  const golden = await readGolden(client, target);
  const clock = await readClock(client, target, events, rules.terminalMaxDriftMs);
  const attempt = attemptEvents(events, target.rrn, { terminal_id: target.terminal_id, stan: target.stan });
  const explanation = explainOrphan(attempt, target.rrn, rules);
  const stored = orphanRows[orphanRows.length - 1] ?? null;
  const storedOrphan = stored !== null && stored.status !== 'RETRACTED';
  const agrees = storedOrphan
    ? explanation.orphan && explanation.cause === stored.cause && explanation.status === stored.status
    : !explanation.orphan;
  const inAttempt = new Set([...attempt.terminal, ...attempt.gateway, ...attempt.bank].map((e) => e.event_id));
  return {
    query: id, rrn: target.rrn, terminal_id: target.terminal_id, stan: target.stan,
    timeline: events.filter((e) => inAttempt.has(e.event_id)), clock, golden,
    anomalies: versionsOf(anomalies, await readLabels(client, anomalies.map((a) => a.anomaly_id)), await readSuppressions(client, anomalies.map((a) => a.suppressed_by ?? ''))),
    explanation,
    patterns: await explainPatterns(client, anomalies, o),
    focus_kind: ANOMALY_ID.test(id.trim()) ? anomalies.find((a) => a.anomaly_id === id.trim())?.kind ?? null : null,
    stored_cause: stored?.cause ?? null, stored_status: stored?.status ?? null, agrees,
  };
}
