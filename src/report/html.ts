/**
 * The report page: one self-contained HTML file (inline CSS and SVG, no
 * script, no external resource), written for a risk analyst: what is at risk
 * now, how orphans developed and why, where they happen, and the fraud-like
 * patterns, each with the figures behind the chart.
 */
import type { ReportData } from './data.js';
import { CASE_CSS, caseAnchor } from './case-html.js';
import { esc, hBars, PALETTE, stackedBars } from './svg.js';

export interface ReportMeta {
  readonly title: string;
  readonly source: string;
  readonly generatedAt: Date;
  /** Case sections by anomaly id (case-html.ts): the open cases link to them. */
  readonly cases?: ReadonlyMap<string, string>;
}

const money = (minor: number, currency: string) => `${(minor / 100).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
const int = (n: number) => n.toLocaleString('en-GB');
const short = (ts: string | null) => (ts ?? '').replace(/\.\d+$/, '');

/** Markup built here from escaped parts, put into a cell as it is. */
class Html {
  constructor(readonly html: string) {}
}

function table(headers: readonly string[], body: readonly (readonly unknown[])[], numeric: ReadonlySet<number> = new Set(), nowrap: ReadonlySet<number> = new Set()): string {
  if (body.length === 0) return '<p class="empty">None.</p>';
  const cls = (i: number) => {
    const c = [numeric.has(i) ? 'num' : '', nowrap.has(i) ? 'nw' : ''].filter(Boolean).join(' ');
    return c === '' ? '' : ` class="${c}"`;
  };
  const th = headers.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('');
  const tr = body.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c instanceof Html ? c.html : esc(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d1d1f;margin:0;background:#f6f6f4}
main{max-width:1000px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:2px solid #0072B2;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}.meta{color:#666;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}.card{flex:1 1 180px;border:1px solid #ddd;border-radius:6px;padding:10px 14px}
.card .v{font-size:22px;font-weight:600}.card .l{color:#555;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card.alert{border-color:#D55E00;background:#fff6f0}.card.alert .v{color:#b34700}
table{border-collapse:collapse;width:100%;margin:8px 0 4px;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f3f5f8;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{width:100%;height:auto;display:block;margin:8px 0}.chart text{font-size:12px;fill:#333}.chart .axis{font-size:11px;fill:#666}
.nw{white-space:nowrap}.note{color:#555;font-size:13px}.empty{color:#777;font-style:italic}.ev{font-size:12px;color:#444}.gap{font-size:12px;color:#b34700;font-weight:600}
footer{margin-top:40px;color:#777;font-size:12px}
@media print{body{background:#fff}main{padding:0}h2{break-after:avoid}table,svg{break-inside:avoid}}
`;

export function renderReport(d: ReportData, m: ReportMeta): string {
  const s: string[] = [
    ...titleSection(d, m),
    ...moneyAtRiskSection(d),
    ...orphansByCauseSection(d),
    ...whereSection(d),
    ...patternsSection(d),
    ...openCasesSection(d, m),
    ...refusedAndCasesSections(d, m),
  ];
  s.push('<footer>posguard report · amounts in major units of each currency · times UTC · status as of the last anomaly version written</footer>');
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${esc(m.title)}</title>\n<style>${CSS}${m.cases && m.cases.size > 0 ? CASE_CSS : ''}</style>\n</head>\n<body>\n<main>\n${s.join('\n')}\n</main>\n</body>\n</html>\n`;
}

/** Title and where the data comes from. */
function titleSection(d: ReportData, m: ReportMeta): string[] {
  const s: string[] = [];
  s.push(`<h1>${esc(m.title)}</h1>`);
  s.push(`<p class="meta">Data from ${esc(short(d.span.from))} to ${esc(short(d.span.to))} UTC (${esc(m.source)}). Generated ${esc(m.generatedAt.toISOString().replace('T', ' ').slice(0, 19))} UTC.</p>`);
  return s;
}

/** The headline: money at risk in open orphaned debits, by currency and issuer. */
function moneyAtRiskSection(d: ReportData): string[] {
  const s: string[] = [];
  s.push('<section id="money-at-risk"><h2>Money at risk now</h2>');
  s.push('<p class="note">Open orphaned debits: the customer was charged, the terminal did not complete the sale, and no reversal or refund has come back. Each one is a customer out of pocket until it is reversed (docs/runbooks.md, "Orphaned debit: customer steps"). Those under an analyst\'s suppression active now are not in "at risk" and are shown apart as "suppressed": silenced, still owed.</p>');
  s.push('<div class="cards">');
  if (d.riskByCurrency.length === 0) s.push('<div class="card"><div class="l">at risk</div><div class="v">0</div></div>');
  for (const r of d.riskByCurrency) s.push(`<div class="card alert"><div class="l">at risk, ${esc(r.currency)}</div><div class="v">${esc(money(r.at_risk_minor, r.currency))}</div><div class="l">${int(r.open)} open debits${r.open > 0 ? `, oldest ${esc(short(r.oldest))}` : ''}</div><div class="l">suppressed: ${esc(money(r.suppressed_minor, r.currency))} in ${int(r.suppressed_open)}</div></div>`);
  s.push(`<div class="card"><div class="l">orphaned debits</div><div class="v">${int(d.orphanStatus.orphans)}</div><div class="l">${int(d.orphanStatus.open)} open · ${int(d.orphanStatus.suppressed_open)} suppressed · ${int(d.orphanStatus.auto_resolved)} auto-resolved</div>${d.orphanStatus.with_feed_gaps > 0 ? `<div class="l">${int(d.orphanStatus.with_feed_gaps)} decided with feed gaps</div>` : ''}</div>`);
  s.push(`<div class="card"><div class="l">attempts · debits</div><div class="v">${int(d.span.attempts)}</div><div class="l">${int(d.span.debits)} debits · ${int(d.span.anomalies)} anomalies</div></div>`);
  s.push('</div>');
  s.push('<h3>By issuer</h3>');
  s.push(table(['issuer', 'currency', 'open debits', 'at risk', 'oldest', 'suppressed debits', 'suppressed amount'], d.riskByIssuer.map((r) => [
    r.issuer_id, r.currency, int(r.open), money(r.at_risk_minor, r.currency), short(r.oldest), int(r.suppressed_open), money(r.suppressed_minor, r.currency),
  ]), new Set([2, 3, 5, 6])));
  s.push('</section>');
  return s;
}

/** Orphaned debits by cause over time, as stacked bars. */
function orphansByCauseSection(d: ReportData): string[] {
  const s: string[] = [];
  const buckets = [...new Set(d.orphansOverTime.map((r) => r.bucket))].sort();
  const causes = [...new Set(d.orphansOverTime.map((r) => r.cause))];
  const byKey = new Map(d.orphansOverTime.map((r) => [`${r.bucket}|${r.cause}`, r.orphans]));
  const causeTotals = causes.map((c) => ({ c, n: d.orphansOverTime.filter((r) => r.cause === c).reduce((a, r) => a + r.orphans, 0) })).sort((a, b) => b.n - a.n);
  const sameDay = buckets.length > 0 && buckets[0].slice(0, 10) === buckets[buckets.length - 1].slice(0, 10);
  s.push('<section id="orphans-by-cause"><h2>Orphaned debits by cause over time</h2>');
  s.push(`<p class="note">New orphaned debits per ${esc(d.bucketSeconds >= 3600 ? `${d.bucketSeconds / 3600} h` : `${d.bucketSeconds / 60} min`)}, by the time of the debit and the first cause that explains it. A tall block of one cause at one time is an outage: ISSUER_LATE_APPROVAL (the issuer approved after the gateway gave up), RESPONSE_LOST_TO_TERMINAL (the approval never reached the terminal), REVERSAL_NOT_APPLIED (a reversal the bank did not apply).</p>`);
  s.push(buckets.length === 0 ? '<p class="empty">No orphaned debits.</p>' : stackedBars({
    title: 'Orphaned debits by cause over time',
    labels: buckets.map((b) => (sameDay ? b.slice(11, 16) : b.slice(5, 16))),
    series: causeTotals.map(({ c }) => ({ name: c, values: buckets.map((b) => byKey.get(`${b}|${c}`) ?? 0) })),
  }));
  s.push('</section>');
  return s;
}

/** Where: the top issuers and terminals. */
function whereSection(d: ReportData): string[] {
  const s: string[] = [];
  s.push('<section id="top-issuers"><h2>Top issuers</h2>');
  s.push('<p class="note">Orphaned debits per issuer, and per 1,000 of that issuer\'s debits: a high rate at one issuer points at that issuer (or its link), not at our terminals.</p>');
  s.push(hBars({ title: 'Orphans per 1,000 debits by issuer', items: [...d.topIssuers].sort((a, b) => b.per_1000_debits - a.per_1000_debits).map((r) => ({ label: r.issuer_id, value: r.per_1000_debits, text: `${r.per_1000_debits} ‰ (${r.orphans})` })), color: PALETTE[3] }));
  s.push(table(['issuer', 'orphans', 'open', 'debits', 'per 1,000 debits', 'main cause'], d.topIssuers.map((r) => [r.issuer_id, int(r.orphans), int(r.open), int(r.debits), r.per_1000_debits, r.main_cause]), new Set([1, 2, 3, 4])));
  s.push('</section>');
  s.push('<section id="top-terminals"><h2>Top terminals</h2>');
  s.push('<p class="note">Terminals with the most orphaned debits and fault spikes: TERMINAL_FAULT_SPIKE and TERMINAL_FAILED_AFTER_APPROVAL at one terminal call for a service visit.</p>');
  s.push(table(['terminal', 'merchant', 'orphans', 'open', 'main cause', 'fault spikes'], d.topTerminals.map((r) => [r.terminal_id, r.merchant_id, int(r.orphans), int(r.open), r.main_cause, int(r.fault_spikes)]), new Set([2, 3, 5])));
  s.push('</section>');
  return s;
}

/** Fraud patterns: by kind, the cards, terminals with fault spikes. */
function patternsSection(d: ReportData): string[] {
  const s: string[] = [];
  s.push('<section id="fraud-patterns"><h2>Fraud patterns</h2>');
  s.push('<p class="note">Card testing (many small, mostly declined authorizations across merchants), card velocity, impossible travel, and terminal fault spikes.</p>');
  s.push(d.patternsByKind.length === 0 ? '<p class="empty">No pattern anomalies.</p>' : hBars({ title: 'Pattern anomalies by kind', items: d.patternsByKind.map((r) => ({ label: r.kind, value: r.anomalies, text: `${r.anomalies} (${r.kind === 'TERMINAL_FAULT_SPIKE' ? `${r.terminals} terminals` : `${r.cards} cards`})` })), color: PALETTE[4] }));
  s.push('<h3>Cards</h3>');
  s.push(table(['card token', 'patterns', 'anomalies', 'related authorizations', 'issuer', 'last seen'], d.patternCards.map((r) => [r.card_token, r.patterns.join(', '), int(r.anomalies), int(r.related), r.issuer_id, short(r.last_seen)]), new Set([2, 3])));
  s.push('<h3>Terminals with fault spikes</h3>');
  s.push(table(['terminal', 'merchant', 'spikes', 'last spike'], d.faultTerminals.map((r) => [r.terminal_id, r.merchant_id, int(r.spikes), short(r.last_spike)]), new Set([2])));
  s.push('</section>');
  return s;
}

/** The oldest open cases with their evidence, linked to the full case when it is included. */
function openCasesSection(d: ReportData, m: ReportMeta): string[] {
  const s: string[] = [];
  s.push('<section id="open-cases"><h2>Oldest open cases</h2>');
  s.push('<p class="note">The open orphaned debits whose customers have waited longest, with the events each stream recorded (the full evidence is in ClickHouse: anomalies_current.evidence). Work them with docs/runbooks.md, "Orphaned debit: customer steps".</p>');
  if (d.orphanStatus.suppressed_open > 0) s.push(`<p class="note">${int(d.orphanStatus.suppressed_open)} open orphaned debits under an analyst's suppression are not listed (posguard suppress list; docs/analysts-tools.md).</p>`);
  if (d.orphanStatus.open_with_feed_gaps > 0) s.push(`<p class="note">${int(d.orphanStatus.open_with_feed_gaps)} open orphaned debits were decided while a feed was down (marked "feed gaps"): a stream of their partition stalled and was released, so they were decided without it. Its backlog may still retract them; check the feed (docs/runbooks.md, PosguardFeedStalled) before calling the customer.</p>`);
  s.push(table(['debit time', 'amount', 'cause', 'issuer · merchant · terminal', 'rrn', 'evidence'], d.openCases.map((r) => [
    short(r.debit_time), money(r.amount_minor, r.currency), r.feed_gaps.length === 0 ? r.cause : new Html(`${esc(r.cause)}<div class="gap">feed gaps: ${esc(r.feed_gaps.join(', '))}</div>`), `${r.issuer_id} · ${r.merchant_id} · ${r.terminal_id}`,
    m.cases?.has(r.anomaly_id) ? new Html(`<a href="#${esc(caseAnchor(r.anomaly_id))}">${esc(r.rrn)}</a>`) : r.rrn,
    new Html(['terminal', 'gateway', 'bank'].map((k) => `<div class="ev"><b>${k}</b> ${esc((r as unknown as Record<string, string>)[`${k}_events`] || '—')}</div>`).join('')),
  ]), new Set([1]), new Set([0, 1, 4])));
  s.push('</section>');
  return s;
}

/** Refused records (when there are any) and the full cases (when included). */
function refusedAndCasesSections(d: ReportData, m: ReportMeta): string[] {
  const s: string[] = [];
  if (d.deadLetters.length > 0) {
    s.push('<section id="dead-letters"><h2>Refused records</h2>');
    s.push('<p class="note">Input that broke the contract and was kept aside in dead_letters, by reason: those events are missing from detection.</p>');
    s.push(table(['reason', 'records'], d.deadLetters.map((r) => [r.reason, int(r.records)]), new Set([1])));
    s.push('</section>');
  }
  if (m.cases && m.cases.size > 0) {
    s.push('<section id="cases"><h2>Cases</h2><p class="note">Each open case above, in full: the same content as <code>posguard case &lt;rrn&gt;</code>.</p>');
    s.push(...m.cases.values());
    s.push('</section>');
  }
  return s;
}
