/**
 * The decision for the kinds other than ORPHAN_DEBIT, re-derived from the
 * anomaly's stored evidence events (detection.md): each check of the kind's
 * rule, the thresholds recorded with the anomaly next to what the evidence
 * shows. Computed here, from the events alone, never by the engine, so a
 * check that fails under the recorded rules is a real disagreement.
 */
import type { Rules } from '../config/rules.js';
import type { EventRef, RuleStep, Stream } from './types.js';

/** One evidence event with the fields the rules read (from the evidence detail, else events_raw). */
export interface PatternEvent {
  readonly stream: Stream;
  readonly event_id: string;
  readonly event_type: string;
  readonly event_time: number;
  readonly rrn: string | null;
  readonly orig_rrn: string | null;
  readonly merchant_id: string | null;
  readonly amount_minor: number | null;
  readonly currency: string | null;
  readonly failure_reason: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
}

const ref = (e: PatternEvent): EventRef => ({ stream: e.stream, event_type: e.event_type, event_id: e.event_id, event_time: e.event_time });
const step = (rule: string, ok: boolean, because: string, ev: readonly PatternEvent[] = []): RuleStep => ({ rule, result: ok ? 'holds' : 'fails', because, evidence: ev.map(ref) });
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const spanOf = (ev: readonly PatternEvent[]) => (ev.length === 0 ? 0 : Math.max(...ev.map((e) => e.event_time)) - Math.min(...ev.map((e) => e.event_time)));
const AUTH = new Set(['AUTH_APPROVED', 'AUTH_DECLINED']);

function cardTesting(ev: readonly PatternEvent[], r: Rules['cardTesting']): RuleStep[] {
  const small = ev.filter((e) => AUTH.has(e.event_type) && e.amount_minor !== null && e.amount_minor <= r.maxAmountMinor);
  const declined = small.filter((e) => e.event_type === 'AUTH_DECLINED');
  const merchants = new Set(small.map((e) => e.merchant_id).filter((m) => m !== null));
  return [
    step('within the window', spanOf(small) <= r.windowMs, `first to last small attempt ${sec(spanOf(small))}, window ${sec(r.windowMs)} (bank event time)`, small),
    step('small attempts', small.length >= r.minAttempts, `${small.length} authorizations of at most ${r.maxAmountMinor} minor units; minAttempts ${r.minAttempts}`),
    step('declined', declined.length >= r.minDeclined, `${declined.length} of them declined; minDeclined ${r.minDeclined}`, declined),
    step('merchants', merchants.size >= r.minMerchants, `${merchants.size} distinct merchants (${[...merchants].join(', ')}); minMerchants ${r.minMerchants}`),
  ];
}

function cardVelocity(ev: readonly PatternEvent[], r: Rules['cardVelocity']): RuleStep[] {
  const debits = ev.filter((e) => e.event_type === 'AUTH_APPROVED');
  const sums = new Map<string, number>();
  for (const d of debits) sums.set(d.currency ?? '?', (sums.get(d.currency ?? '?') ?? 0) + (d.amount_minor ?? 0));
  const [cur, sum] = [...sums.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['?', 0];
  const byCount = debits.length >= r.minDebits;
  const bySum = sum >= r.minSumMinor;
  return [
    step('within the window', spanOf(debits) <= r.windowMs, `first to last debit ${sec(spanOf(debits))}, window ${sec(r.windowMs)} (bank event time)`, debits),
    step('count or sum', byCount || bySum, `${debits.length} debits (minDebits ${r.minDebits}: ${byCount ? 'reached' : 'not reached'}); sum ${sum} minor units ${cur} (minSumMinor ${r.minSumMinor}: ${bySum ? 'reached' : 'not reached'})`),
  ];
}

/** Great-circle distance, mean Earth radius 6371 km. */
function km(a: PatternEvent, b: PatternEvent): number | null {
  if (a.lat === null || a.lon === null || b.lat === null || b.lon === null) return null;
  const rad = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function impossibleTravel(ev: readonly PatternEvent[], r: Rules['impossibleTravel']): RuleStep[] {
  const [a, b] = ev.filter((e) => e.event_type === 'AUTH_APPROVED').sort((x, y) => x.event_time - y.event_time);
  if (!a || !b) return [step('two debits', false, 'the evidence does not hold two debits')];
  const d = km(a, b);
  const gapMs = b.event_time - a.event_time;
  const speed = d === null ? null : gapMs <= 0 ? Infinity : d / (gapMs / 3_600_000);
  return [
    step('distance', d !== null && d >= r.minDistanceKm, d === null ? 'a terminal location is missing from the evidence' : `${d.toFixed(1)} km between the two terminals; minDistanceKm ${r.minDistanceKm}`, [a, b]),
    step('implied speed', speed !== null && speed > r.maxSpeedKmh, `${sec(gapMs)} apart${speed === null ? '' : `: ${Number.isFinite(speed) ? speed.toFixed(0) : '∞'} km/h`}; maxSpeedKmh ${r.maxSpeedKmh}`),
  ];
}

function duplicateDebit(ev: readonly PatternEvent[], r: Rules['duplicateDebit'], graceMs: number): RuleStep[] {
  const [d1, d2] = ev.filter((e) => e.event_type === 'AUTH_APPROVED').sort((x, y) => x.event_time - y.event_time);
  if (!d1 || !d2) return [step('two debits', false, 'the evidence does not hold two debits')];
  const same = d1.merchant_id === d2.merchant_id && d1.amount_minor === d2.amount_minor && d1.currency === d2.currency;
  const gap = d2.event_time - d1.event_time;
  const reversedInGrace = ev.filter((e) => (e.event_type === 'REVERSAL_APPLIED' || e.event_type === 'REFUND_POSTED')
    && [d1, d2].some((d) => d.rrn !== null && e.orig_rrn === d.rrn && e.event_time - d.event_time <= graceMs));
  return [
    step('same purchase', same, `rrn ${d1.rrn}: ${d1.amount_minor} ${d1.currency} at ${d1.merchant_id}; rrn ${d2.rrn}: ${d2.amount_minor} ${d2.currency} at ${d2.merchant_id}`, [d1, d2]),
    step('within the window', gap <= r.windowMs, `${sec(gap)} between the debits, window ${sec(r.windowMs)}`),
    step('neither reversed in grace', reversedInGrace.length === 0, reversedInGrace.length === 0 ? `no reversal or refund within ${sec(graceMs)} of either debit` : `${reversedInGrace.length} reversal(s) within ${sec(graceMs)}`, reversedInGrace),
  ];
}

function amountMismatch(ev: readonly PatternEvent[]): RuleStep[] {
  const req = ev.find((e) => e.stream === 'terminal' && e.event_type === 'REQUEST_SENT');
  const debit = ev.find((e) => e.event_type === 'AUTH_APPROVED');
  if (!req || !debit) return [step('request and debit', false, 'the evidence lacks the terminal REQUEST_SENT or the debit')];
  const differs = req.amount_minor !== debit.amount_minor || req.currency !== debit.currency;
  return [step('amounts differ', differs, `terminal asked ${req.amount_minor} ${req.currency}; the bank took ${debit.amount_minor} ${debit.currency}`, [req, debit])];
}

const HARDWARE = new Set(['CARD_READ_ERROR', 'PRINTER_ERROR']);

function faultSpike(ev: readonly PatternEvent[], r: Rules['terminalFaultSpike']): RuleStep[] {
  const signals = ev.filter((e) => e.stream === 'terminal' && (e.event_type === 'DEVICE_FAULT' || (e.event_type === 'TXN_FAILED' && HARDWARE.has(e.failure_reason ?? ''))));
  return [
    step('within the window', spanOf(signals) <= r.windowMs, `first to last signal ${sec(spanOf(signals))}, window ${sec(r.windowMs)} (the terminal's own clock)`, signals),
    step('hardware signals', signals.length >= r.minSignals, `${signals.length} signals (DEVICE_FAULT, or TXN_FAILED with CARD_READ_ERROR/PRINTER_ERROR); minSignals ${r.minSignals}`),
  ];
}

/** The kind's checks, or null for ORPHAN_DEBIT (explain.ts walks its causes) and kinds this does not know. */
export function explainPattern(kind: string, ev: readonly PatternEvent[], rules: Rules): RuleStep[] | null {
  switch (kind) {
    case 'CARD_TESTING': return cardTesting(ev, rules.cardTesting);
    case 'CARD_VELOCITY': return cardVelocity(ev, rules.cardVelocity);
    case 'IMPOSSIBLE_TRAVEL': return impossibleTravel(ev, rules.impossibleTravel);
    case 'DUPLICATE_DEBIT': return duplicateDebit(ev, rules.duplicateDebit, rules.debits.reversalGraceMs);
    case 'AMOUNT_MISMATCH': return amountMismatch(ev);
    case 'TERMINAL_FAULT_SPIKE': return faultSpike(ev, rules.terminalFaultSpike);
    default: return null;
  }
}
