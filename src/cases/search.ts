/**
 * The customer-service search: "I was charged 107.78 at this shop around two
 * o'clock but the terminal said failed". Finds the card's attempts in the
 * golden records and ranks them: amount equal (50 points), merchant equal
 * (25), closeness to --around (25, falling linearly to 0 at 6 hours), then
 * the closest in time, then the newest. Each comes with its verdicts.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { PosguardError } from '../errors.js';
import { looksLikePan } from '../util/pan.js';
import { labelText, readLabels, readSuppressions, suppressionText } from './annotations.js';
import { existingColumns, lit, rows, timeLit } from './sql.js';

export interface SearchQuery {
  readonly card: string;
  readonly amountMinor: number | null;
  readonly merchant: string | null;
  readonly aroundMs: number | null;
  readonly limit: number;
}

export interface Verdict {
  readonly anomaly_id: string;
  readonly kind: string;
  readonly cause: string | null;
  readonly status: string;
  /** The latest label and the suppression the current version was written under, in words; null when none. */
  readonly label: string | null;
  readonly suppressed: string | null;
}

export interface SearchHit {
  readonly score: number;
  readonly why: string;
  readonly txn_time: string;
  readonly rrn: string | null;
  readonly terminal_id: string;
  readonly stan: string;
  readonly merchant_id: string | null;
  readonly card_token: string | null;
  readonly masked_pan: string | null;
  readonly amount_minor: number | null;
  readonly currency: string | null;
  readonly terminal_outcome: string | null;
  readonly debited: boolean;
  readonly reversed: boolean;
  /** Anomalies on the attempt, current state; empty = no anomaly. */
  readonly verdicts: readonly Verdict[];
}

const WINDOW_MS = 6 * 3_600_000;
const MASKED = /^(\d{6})[*xX•.…]+(\d{4})$/;
const TOKEN = /^[A-Za-z0-9_.:-]{4,128}$/;

/** The SQL condition for --card; a clear card number is refused without being repeated. */
export function cardCondition(card: string): string {
  const c = card.replace(/[\s-]/g, '');
  if (looksLikePan(card.replace(/[\s._/-]/g, ''))) throw new PosguardError('PG_USAGE', '--card: that looks like a clear card number; posguard never stores one: give the card token or the masked PAN (first 6 and last 4 digits, e.g. 465859******6518)');
  const m = MASKED.exec(c);
  if (m) return `masked_pan LIKE ${lit(`${m[1]}%${m[2]}`)}`;
  if (!TOKEN.test(card)) throw new PosguardError('PG_USAGE', `--card: expected a card token (4-128 letters, digits, _ . : -) or a masked PAN like 465859******6518, got ${JSON.stringify(card.slice(0, 40))}`);
  return `card_token = ${lit(card)}`;
}

/** "107.78" → 10778; two decimals at most (minor units of the usual currencies). */
export function parseAmount(s: string): number {
  const m = /^(\d{1,12})(?:[.,](\d{1,2}))?$/.exec(s.trim());
  if (!m) throw new PosguardError('PG_USAGE', `--amount: expected an amount in major units like 107.78, got ${JSON.stringify(s)}`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

interface TxnRow {
  at: string; t: string; rrn: string | null; terminal_id: string; stan: string; merchant_id: string | null;
  card_token: string | null; masked_pan: string | null; terminal_amount_minor: string | null; bank_amount_minor: string | null;
  currency: string | null; terminal_outcome: string | null; debited: boolean; reversed: boolean; anomaly_ids: string[];
}

function score(r: TxnRow, q: SearchQuery): { score: number; why: string; distMs: number } {
  const why: string[] = [];
  let s = 0;
  const amounts = [r.terminal_amount_minor, r.bank_amount_minor].filter((a) => a !== null).map(Number);
  if (q.amountMinor !== null) {
    if (amounts.includes(q.amountMinor)) { s += 50; why.push('amount ='); } else why.push('amount ≠');
  }
  if (q.merchant !== null) {
    if ((r.merchant_id ?? '').toUpperCase() === q.merchant.toUpperCase()) { s += 25; why.push('merchant ='); } else why.push('merchant ≠');
  }
  const distMs = q.aroundMs === null ? 0 : Math.abs(Number(r.t) - q.aroundMs);
  if (q.aroundMs !== null) {
    s += Math.round(25 * Math.max(0, 1 - distMs / WINDOW_MS));
    why.push(`${Math.round(distMs / 60_000)} min from --around`);
  }
  return { score: s, why: why.join(', '), distMs };
}

export async function searchCases(client: ClickHouseClient, q: SearchQuery): Promise<SearchHit[]> {
  const cond = cardCondition(q.card);
  const when = q.aroundMs === null ? '' : ` AND txn_time BETWEEN ${timeLit(q.aroundMs - 3 * 86_400_000)} AND ${timeLit(q.aroundMs + 3 * 86_400_000)}`;
  const found = await rows<TxnRow>(client, `
    SELECT toString(txn_time) AS at, toUnixTimestamp64Milli(txn_time) AS t, rrn, terminal_id, stan, merchant_id, card_token, masked_pan,
           terminal_amount_minor, bank_amount_minor, ifNull(terminal_currency, bank_currency) AS currency, terminal_outcome, debited, reversed, anomaly_ids
    FROM transactions FINAL WHERE ${cond}${when}
    ORDER BY txn_time DESC LIMIT 2000`);
  const ranked = found.map((r) => ({ r, ...score(r, q) }))
    .sort((a, b) => b.score - a.score || a.distMs - b.distMs || Number(b.r.t) - Number(a.r.t))
    .slice(0, q.limit);
  const verdicts = await readVerdicts(client, ranked.map((x) => x.r));
  return ranked.map(({ r, score: s, why }) => ({
    score: s, why, txn_time: r.at, rrn: r.rrn, terminal_id: r.terminal_id, stan: r.stan, merchant_id: r.merchant_id,
    card_token: r.card_token, masked_pan: r.masked_pan, amount_minor: r.terminal_amount_minor === null ? (r.bank_amount_minor === null ? null : Number(r.bank_amount_minor)) : Number(r.terminal_amount_minor),
    currency: r.currency, terminal_outcome: r.terminal_outcome, debited: Boolean(r.debited), reversed: Boolean(r.reversed),
    verdicts: verdicts.filter((v) => r.anomaly_ids.includes(v.anomaly_id) || (r.rrn !== null && v.rrn === r.rrn)).map(({ rrn: _r, ...v }) => v),
  }));
}

async function readVerdicts(client: ClickHouseClient, hits: readonly TxnRow[]): Promise<(Verdict & { rrn: string | null })[]> {
  const ids = [...new Set(hits.flatMap((h) => h.anomaly_ids))];
  const rrns = [...new Set(hits.map((h) => h.rrn).filter((x): x is string => x !== null))];
  if (ids.length === 0 && rrns.length === 0) return [];
  const conds = [ids.length ? `anomaly_id IN (${ids.map(lit).join(', ')})` : '', rrns.length ? `rrn IN (${rrns.map(lit).join(', ')})` : ''].filter(Boolean);
  const sup = (await existingColumns(client, 'anomalies_current', ['suppressed_by'])).size > 0 ? 'suppressed_by' : "'' AS suppressed_by";
  const found = await rows<Omit<Verdict, 'label' | 'suppressed'> & { rrn: string | null; suppressed_by: string }>(client,
    `SELECT anomaly_id, kind, cause, status, rrn, ${sup} FROM anomalies_current WHERE ${conds.join(' OR ')} ORDER BY kind, anomaly_id`);
  const labels = await readLabels(client, found.map((v) => v.anomaly_id));
  const supps = await readSuppressions(client, found.map((v) => v.suppressed_by));
  return found.map(({ suppressed_by, ...v }) => {
    const l = labels.get(v.anomaly_id);
    const s = supps.get(suppressed_by);
    return { ...v, label: l ? labelText(l) : null, suppressed: s ? suppressionText(s) : null };
  });
}

const verdictText = (v: Verdict) => `${v.kind}${v.cause ? `/${v.cause}` : ''} ${v.status}${v.label ? ` [${v.label}]` : ''}${v.suppressed ? ` [${v.suppressed}]` : ''}`;

export function renderHitsText(hits: readonly SearchHit[]): string {
  if (hits.length === 0) return 'no attempt of this card matches\n';
  const head = ['#', 'score', 'time (UTC)', 'rrn', 'attempt', 'merchant', 'amount', 'terminal', 'debited', 'verdict', 'why'];
  const body = hits.map((h, i) => [String(i + 1), String(h.score), h.txn_time, h.rrn ?? '—', `${h.terminal_id}:${h.stan}`, h.merchant_id ?? '—',
    h.amount_minor === null ? '—' : `${(h.amount_minor / 100).toFixed(2)} ${h.currency ?? ''}`, h.terminal_outcome ?? '—',
    h.debited ? (h.reversed ? 'yes, reversed' : 'yes') : 'no',
    h.verdicts.length === 0 ? 'no anomaly' : h.verdicts.map(verdictText).join('; '), h.why]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const lines = all.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd());
  return `${lines.join('\n')}\nopen one: posguard case <rrn>\n`;
}
