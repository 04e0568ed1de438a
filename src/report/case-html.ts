/**
 * A case as a self-contained section of the HTML report: the same content as
 * `posguard case` (timeline, clock offset, golden record, anomaly versions,
 * the decision step by step), escaped, inline, no script, no network.
 */
import { labelText, suppressionText } from '../cases/annotations.js';
import { clockLine, feedGapsText, goldenFields, isoMs, money, timelineRows, verdictLine } from '../cases/present.js';
import type { CaseView, EventRef } from '../cases/types.js';
import { esc } from './svg.js';

export const CASE_CSS = `
.case{border-top:1px solid #ccc;margin-top:24px;padding-top:8px}.case h3{margin:4px 0}.case .verdict{font-weight:600}
.case .verdict.differs{color:#b34700}.case td.holds{color:#0a6d3c;font-weight:600}.case td.fails{color:#555}.case td.nr{color:#999}
.case dl{display:grid;grid-template-columns:max-content 1fr max-content 1fr max-content 1fr;gap:2px 10px;font-size:12px;margin:6px 0}
.case dt{color:#666}.case dd{margin:0;word-break:break-all}.case .late{color:#b34700}.back{font-size:12px}
`;

const refText = (e: EventRef) => `${e.stream} ${e.event_type} ${isoMs(e.event_time).slice(11, 23)}${e.note ? ` (${e.note})` : ''}`;

function tableOf(head: readonly string[], body: readonly (readonly string[])[], cellClass?: (row: number, col: number) => string): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const tr = body.map((r, i) => `<tr>${r.map((c, j) => {
    const cls = cellClass?.(i, j) ?? '';
    return `<td${cls ? ` class="${cls}"` : ''}>${c}</td>`;
  }).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

/** The anchor the report's case lists link to. */
export const caseAnchor = (anomalyId: string) => `case-${anomalyId}`;

export function renderCaseSection(anomalyId: string, v: CaseView): string {
  const g = v.golden ?? {};
  const s: string[] = [];
  s.push(`<section class="case" id="${esc(caseAnchor(anomalyId))}">`);
  s.push(`<h3>Case rrn ${esc(v.rrn ?? '—')} · ${esc(`${v.terminal_id}:${v.stan}`)} · ${esc(money(g.terminal_amount_minor ?? g.bank_amount_minor, g.terminal_currency ?? g.bank_currency))}</h3>`);
  s.push(`<p class="verdict${v.agrees ? '' : ' differs'}">${esc(verdictLine(v))}</p>`);
  s.push('<h4>Timeline</h4><p class="note">Estimated true time: gateway and bank as stamped; terminal events corrected by the terminal\'s clock offset (≈).</p>');
  s.push(tableOf(['time (UTC)', 'stream', 'event', 'own clock', 'stored at', 'source', 'detail'],
    timelineRows(v).map((r) => [esc(r.trueTime), esc(r.stream), r.late ? `${esc(r.event_type)} <span class="late">(late)</span>` : esc(r.event_type), esc(r.ownClock), esc(r.storedAt), esc(r.source), esc(r.detail)])));
  s.push(`<p class="note">${esc(clockLine(v.clock))}</p>`);
  s.push('<h4>Golden record</h4>');
  const gf = goldenFields(v.golden);
  s.push(gf.length === 0 ? '<p class="empty">None stored.</p>' : `<dl>${gf.map(([k, val]) => `<dt>${esc(k)}</dt><dd>${esc(val)}</dd>`).join('')}</dl>`);
  s.push('<h4>Anomaly versions</h4>');
  s.push(tableOf(['anomaly', 'version', 'status', 'cause', 'detected', 'change', 'new evidence', 'feed gaps / label / suppression'], v.anomalies.map((a) => [
    `${esc(a.kind)} <span class="ev">${esc(a.anomaly_id)}</span>`, String(a.version), esc(a.status), esc(a.cause ?? '—'), esc(isoMs(a.detected_at).slice(0, 19)), esc(a.change + (a.related_rrns.length > 0 ? ` · related rrns ${a.related_rrns.join(', ')}` : '')),
    a.new_evidence.map((e) => esc(refText(e))).join('<br>'),
    [feedGapsText(a.feed_gaps), a.label ? labelText(a.label) : '', a.suppression ? suppressionText(a.suppression) : ''].filter(Boolean).map(esc).join('<br>'),
  ])));
  const r = v.explanation.rules;
  s.push('<h4>Decision, step by step</h4>');
  s.push(`<p class="note">reversal_grace ${r.reversalGraceMs / 1000} s · resolution_horizon ${r.resolutionHorizonMs / 3_600_000} h · terminal drift ±${r.terminalMaxDriftMs / 60_000} min · rules ${esc(r.rules_version ?? 'unversioned')}: ${esc(r.source)}${v.explanation.attempt ? ` · attempt linked by ${esc(v.explanation.attempt.linked_by)}` : ''}</p>`);
  const steps = v.explanation.steps;
  s.push(tableOf(['#', 'rule', 'result', 'because', 'evidence'], steps.map((st, i) => [
    String(i + 1), esc(st.rule), esc(st.result === 'holds' && st.rule === v.explanation.cause ? 'holds → cause' : st.result), esc(st.because),
    st.evidence.map((e) => esc(refText(e))).join('<br>'),
  ]), (i, j) => (j === 2 ? (steps[i].result === 'holds' ? 'holds' : steps[i].result === 'fails' ? 'fails' : 'nr') : '')));
  for (const p of v.patterns) {
    s.push(`<h4>Decision for ${esc(p.kind)} <span class="ev">${esc(p.anomaly_id)}</span> v${p.version}</h4>`);
    s.push(`<p class="note">from its evidence · rules ${esc(p.rules_version ?? 'unversioned')}: ${esc(p.rules_source)} · ${p.holds ? 'every check holds' : 'a check FAILS under the recorded rules'}</p>`);
    s.push(tableOf(['#', 'check', 'result', 'because', 'evidence'], p.steps.map((st, i) => [
      String(i + 1), esc(st.rule), esc(st.result), esc(st.because), st.evidence.map((e) => esc(refText(e))).join('<br>'),
    ]), (i, j) => (j === 2 ? (p.steps[i].result === 'holds' ? 'holds' : 'fails') : '')));
  }
  s.push('<p class="back"><a href="#open-cases">back to the open cases</a></p>');
  s.push('</section>');
  return s.join('\n');
}
