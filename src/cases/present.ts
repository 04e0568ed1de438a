/**
 * What the text screen and the HTML page both show, computed once: the
 * timeline in estimated true time, times and amounts spelled out.
 */
import type { CaseEvent, CaseView, ClockOffset } from './types.js';

export const isoMs = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** "+3m 44.0s", "−12.3s". */
export function signedDuration(ms: number): string {
  const sign = ms < 0 ? '−' : '+';
  const a = Math.abs(ms);
  const m = Math.floor(a / 60_000);
  const s = ((a % 60_000) / 1000).toFixed(1);
  return m > 0 ? `${sign}${m}m ${s}s` : `${sign}${s}s`;
}

export function money(minor: unknown, currency: unknown): string {
  if (minor === null || minor === undefined) return '—';
  return `${(Number(minor) / 100).toFixed(2)} ${String(currency ?? '')}`.trim();
}

/** The offset used to place terminal events on the gateway/bank clock: the terminal's steady drift, else this attempt's. */
export function terminalOffset(c: ClockOffset): number {
  return c.terminalMedianMs ?? c.attemptMs ?? 0;
}

export function clockLine(c: ClockOffset): string {
  const parts: string[] = [];
  parts.push(c.attemptMs === null ? 'this attempt: no terminal/gateway pair to compare' : `this attempt ${signedDuration(c.attemptMs)} (${c.attemptBasis})`);
  parts.push(c.terminalMedianMs === null ? 'terminal median: no other attempts' : `terminal median ${signedDuration(c.terminalMedianMs)} over ${c.terminalAttempts} attempts within ±12 h`);
  const worst = Math.max(Math.abs(c.attemptMs ?? 0), Math.abs(c.terminalMedianMs ?? 0));
  parts.push(worst > c.maxDriftMs ? `OUTSIDE the allowed drift ±${c.maxDriftMs / 60_000} min: terminal-time decisions may be off` : `within the allowed drift ±${c.maxDriftMs / 60_000} min`);
  return `Terminal clock vs gateway: ${parts.join('; ')}. Positive: the terminal runs fast.`;
}

export interface TimelineRow {
  readonly trueTime: string;
  readonly stream: string;
  readonly event_type: string;
  readonly ownClock: string;
  readonly detail: string;
  readonly storedAt: string;
  readonly source: string;
  readonly late: boolean;
}

function detailOf(e: CaseEvent): string {
  const d: string[] = [];
  if (e.rrn) d.push(`rrn ${e.rrn}`);
  if (e.orig_rrn) d.push(`orig_rrn ${e.orig_rrn}`);
  if (e.stream === 'terminal') d.push(`stan ${e.stan}`);
  if (e.orig_stan) d.push(`orig_stan ${e.orig_stan}`);
  if (e.response_code) d.push(`rc ${e.response_code}`);
  if (e.failure_reason) d.push(e.failure_reason);
  if (e.txn_type && (e.event_type === 'REQUEST_SENT' || e.event_type.startsWith('AUTH_') || e.event_type === 'REQUEST_RECEIVED')) d.push(`${e.txn_type} ${money(e.amount_minor, e.currency)}`);
  return d.join(' · ');
}

/** Events sorted by estimated true time: gateway and bank as stamped, terminal corrected by its offset. */
export function timelineRows(v: CaseView): TimelineRow[] {
  const off = terminalOffset(v.clock);
  const at = (e: CaseEvent) => (e.stream === 'terminal' ? e.event_time - off : e.event_time);
  return [...v.timeline].sort((a, b) => at(a) - at(b) || (a.event_id < b.event_id ? -1 : 1)).map((e) => ({
    trueTime: isoMs(at(e)).slice(0, 23) + (e.stream === 'terminal' && off !== 0 ? '≈' : ''),
    stream: e.stream,
    event_type: e.event_type,
    ownClock: isoMs(e.event_time).slice(11, 23),
    detail: detailOf(e),
    storedAt: e.inserted_at ?? '',
    source: e.source,
    late: e.late,
  }));
}

/** The golden record's non-empty fields, in table order. */
export function goldenFields(g: Readonly<Record<string, unknown>> | null): [string, string][] {
  if (g === null) return [];
  return Object.entries(g)
    .filter(([, v]) => v !== null && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]);
}

/** Why a version may not be final: the feeds it was decided without (empty string when complete). */
export function feedGapsText(feedGaps: readonly string[]): string {
  if (feedGaps.length === 0) return '';
  return `decided with feed gaps: ${feedGaps.join(', ')} (released after stalling: decided without that feed; its backlog may still change or retract it)`;
}

export function verdictLine(v: CaseView): string {
  const e = v.explanation;
  const derived = e.orphan ? `ORPHAN_DEBIT ${e.cause} ${e.status}` : 'no orphaned debit';
  const stored = v.stored_status === null ? 'none stored' : `${v.stored_cause ?? '—'} ${v.stored_status}`;
  const agree = v.agrees ? 'agrees with the stored anomaly' : 'DIFFERS from the stored anomaly';
  return `Rule walk: ${derived}; stored ORPHAN_DEBIT: ${stored}; ${v.stored_status === null && !e.orphan ? 'consistent' : agree}.`;
}
