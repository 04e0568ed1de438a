/** The case as one terminal screen (posguard case, default format). */
import { labelText, suppressionText } from './annotations.js';
import { clockLine, feedGapsText, goldenFields, isoMs, money, timelineRows, verdictLine } from './present.js';
import type { CaseView, EventRef, PatternExplanation } from './types.js';

function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

const refText = (e: EventRef) => `${e.stream} ${e.event_type} ${isoMs(e.event_time).slice(11, 23)}${e.note ? ` (${e.note})` : ''}`;

export function renderCaseText(v: CaseView): string {
  const out: string[] = [];
  const g = v.golden ?? {};
  out.push(`CASE rrn ${v.rrn ?? '—'} · attempt ${v.terminal_id}:${v.stan} · merchant ${String(g.merchant_id ?? v.timeline[0]?.merchant_id ?? '?')} · card ${String(g.card_token ?? '?')}${g.masked_pan ? ` (${String(g.masked_pan)})` : ''} · ${money(g.terminal_amount_minor ?? g.bank_amount_minor, g.terminal_currency ?? g.bank_currency)}`);
  // Opened by a non-orphan anomaly: its own rule is the decision; the orphan walk would answer another question.
  const orphanWalk = v.focus_kind === null || v.focus_kind === 'ORPHAN_DEBIT';
  if (orphanWalk) out.push(verdictLine(v));
  out.push('', 'TIMELINE (estimated true time: gateway and bank as stamped, terminal events corrected by the terminal\'s clock offset, marked ≈)');
  const tl = timelineRows(v);
  if (tl.length === 0) out.push('  no raw events stored for this attempt (events_raw keeps 30 days by default)');
  else out.push(...columns([['time (UTC)', 'stream', 'event', 'own clock', 'stored at', 'source', 'detail'],
    ...tl.map((r) => [r.trueTime, r.stream, r.event_type + (r.late ? ' (late)' : ''), r.ownClock, r.storedAt, r.source, r.detail])]));
  out.push(`  ${clockLine(v.clock)}`);
  out.push('', 'GOLDEN RECORD (transactions)');
  const gf = goldenFields(v.golden);
  if (gf.length === 0) out.push('  none stored');
  for (let i = 0; i < gf.length; i += 3) out.push('  ' + gf.slice(i, i + 3).map(([k, val]) => `${k}=${val}`.padEnd(44)).join(' ').trimEnd());
  out.push('', 'ANOMALIES (every version)');
  if (v.anomalies.length === 0) out.push('  none');
  for (const a of v.anomalies) {
    out.push(`  ${a.kind} ${a.anomaly_id} v${a.version}  ${a.status}${a.cause ? ` ${a.cause}` : ''}  detected ${isoMs(a.detected_at).slice(0, 19)}${a.rules_version ? `  rules ${a.rules_version}` : ''}  — ${a.change}`);
    if (a.related_rrns.length > 0 && (a.version === 1 || a.new_evidence.length > 0)) out.push(`      related rrns: ${a.related_rrns.join(', ')} (posguard case <rrn>)`);
    for (const e of a.new_evidence) out.push(`      new evidence: ${refText(e)}`);
    if (a.feed_gaps.length > 0) out.push(`      ${feedGapsText(a.feed_gaps)}`);
    if (a.suppression) out.push(`      ${suppressionText(a.suppression)}`);
    if (a.label) out.push(`      ${labelText(a.label)}`);
  }
  if (orphanWalk) out.push(...orphanDecision(v));
  for (const p of v.patterns) out.push(...patternDecision(p));
  if (orphanWalk) out.push('', verdictLine(v));
  return out.join('\n') + '\n';
}

function orphanDecision(v: CaseView): string[] {
  const out: string[] = [];
  const r = v.explanation.rules;
  out.push('', `DECISION, step by step (reversal_grace ${r.reversalGraceMs / 1000} s, resolution_horizon ${r.resolutionHorizonMs / 3_600_000} h, terminal drift ±${r.terminalMaxDriftMs / 60_000} min, max_delay ${r.maxDelayMs / 1000} s; rules ${r.rules_version ?? 'unversioned'}: ${r.source})`);
  if (v.explanation.attempt) out.push(`  attempt ${v.explanation.attempt.terminal_id}:${v.explanation.attempt.stan}, linked by ${v.explanation.attempt.linked_by}`);
  v.explanation.steps.forEach((s, i) => {
    const mark = s.result === 'holds' && s.rule === v.explanation.cause ? 'HOLDS → cause' : s.result;
    out.push(`  ${String(i + 1).padStart(2)}. ${s.rule.padEnd(31)} ${mark.padEnd(13)} ${s.because}`);
    for (const e of s.evidence) out.push(`        · ${refText(e)}`);
  });
  return out;
}

function patternDecision(p: PatternExplanation): string[] {
  const out = ['', `DECISION for ${p.kind} ${p.anomaly_id} v${p.version} (${p.status}), from its evidence; rules ${p.rules_version ?? 'unversioned'}: ${p.rules_source}`];
  p.steps.forEach((s, i) => {
    out.push(`  ${String(i + 1).padStart(2)}. ${s.rule.padEnd(27)} ${s.result.padEnd(6)} ${s.because}`);
    for (const e of s.evidence) out.push(`        · ${refText(e)}`);
  });
  out.push(`  → ${p.holds ? `every check holds: ${p.kind} as stored` : `a check FAILS under the recorded rules: differs from the stored ${p.kind}`}`);
  return out;
}
