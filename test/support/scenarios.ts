/**
 * Random debit scenarios for engine-vs-reference tests: attempts with random
 * missing steps, failures, reversals (in and out of the grace), retries that
 * duplicate, keyed-in amounts, terminal clock drift and redeliveries; plus an
 * arrival order (true time + a delay up to max_delay) for streaming.
 */
import { ATTEMPT_STEPS, EventBuilder, MIN, SEC, STEP_OFFSET_MS, T0, type AttemptStep } from '../eval/builders.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { DEFAULT_RULES, type Rules } from '../../src/config/rules.js';

/**
 * Boundary share: the fraction of attempts bent onto a window edge, each
 * exactly on it or 1 ms either side (`edge`). 0 (the default) leaves every
 * scenario exactly as before. The edges, all from the rules in force:
 * - reversal grace: a reversal/refund at t + reversalGraceMs + d;
 * - resolution horizon: a refund at t + resolutionHorizonMs + d;
 * - duplicate window: a retry of an earlier attempt (same card, merchant,
 *   amount) whose debit is at t1 + duplicate windowMs + d, or at t1 exactly
 *   (equal time: the rrn order decides);
 * - equal-time terminal events: TXN_FAILED at the terminal time of the
 *   RESPONSE_RECEIVED 00 + d;
 * - max_delay: events arriving exactly maxDelayMs + d after they happen.
 */
export interface BoundaryOptions {
  boundaryShare?: number;
  rules?: Rules;
}

export const EDGE_OFFSETS = [-1, 0, 1] as const;

export function rng(seed: number): () => number {
  let a = seed >>> 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Arrival {
  stream: Stream;
  event: TerminalEvent | GatewayEvent | BankEvent;
  arrivalMs: number;
}

export function randomScenario(seed: number, attempts = 40, opts: BoundaryOptions = {}): { builder: EventBuilder; arrivals: Arrival[] } {
  const r = rng(seed);
  const share = opts.boundaryShare ?? 0;
  const rules = opts.rules ?? DEFAULT_RULES;
  // Boundary choices draw from their own generator: the share changes only the bent attempts.
  const rb = rng(seed ^ 0x5bd1e995);
  const bent = () => share > 0 && rb() < share;
  const edge = () => EDGE_OFFSETS[Math.floor(rb() * EDGE_OFFSETS.length)];
  const debits: { t: number; card_token: string; amount_minor: number; merchant_id: string }[] = [];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const b = new EventBuilder({}, { firstId: seed * 100_000 + 1 });
  const skew = new Map<string, number>();
  const terminals = ['TERM0001', 'TERM0002', 'TERM0003'];
  for (const t of terminals) skew.set(t, Math.round((r() * 2 - 1) * 5 * MIN));
  const truth = new Map<string, number>(); // event_id -> true time
  for (let i = 0; i < attempts; i++) {
    const terminal_id = pick(terminals);
    const stan = String(100 + i).padStart(6, '0');
    const rrn = `RRN${String(1000 + i).padStart(9, '0')}`;
    let t = T0 + Math.floor(r() * 40 * MIN);
    const omit: AttemptStep[] = ATTEMPT_STEPS.filter(() => r() < 0.12);
    if (r() < 0.1) omit.push('REQUEST_RECEIVED', 'FORWARDED_TO_ISSUER', 'ISSUER_RESPONSE', 'RESPONSE_SENT');
    let purchase = {
      card_token: pick(['tok_a', 'tok_b', 'tok_c']), amount_minor: pick([1000, 1000, 2500]),
      merchant_id: pick(['MERCHANT0000001', 'MERCHANT0000002']),
    };
    if (debits.length > 0 && bent()) {
      // A retry on the duplicate window's edge, or at the same instant, of an earlier debit.
      const first = debits[Math.floor(rb() * debits.length)];
      t = first.t + (rb() < 0.25 ? 0 : rules.duplicateDebit.windowMs + edge());
      purchase = { card_token: first.card_token, amount_minor: first.amount_minor, merchant_id: first.merchant_id };
      if (rb() < 0.5) omit.push('TXN_COMPLETED');
    }
    // Equal-time terminal events: the sale fails at the very time its 00 response arrived (+-1 ms).
    const failAtResponse = bent() ? edge() : null;
    if (failAtResponse !== null) {
      omit.push('TXN_COMPLETED');
      omit.splice(0, omit.length, ...omit.filter((s) => s !== 'RESPONSE_RECEIVED'));
    }
    if (!omit.includes('AUTH_APPROVED')) debits.push({ t, ...purchase });
    const ctx = { t, terminal_id, stan, rrn, terminalSkewMs: skew.get(terminal_id)!, ...purchase, lat: 48.85, lon: 2.35 };
    const ev = b.attempt({ ...ctx, omit });
    const c = { ...b.ctx, ...ctx };
    const sk = skew.get(terminal_id)!;
    const term = (type: TerminalEvent['event_type'], at: number, o: Partial<TerminalEvent> = {}) =>
      (b as unknown as { terminalIn: (c: unknown, t: string, o: unknown) => TerminalEvent }).terminalIn(c, type, { event_time: at + sk, ...o });
    const gw = (type: GatewayEvent['event_type'], at: number, o: Partial<GatewayEvent> = {}) =>
      (b as unknown as { gatewayIn: (c: unknown, t: string, o: unknown) => GatewayEvent }).gatewayIn(c, type, { event_time: at, ...o });
    const bank = (type: BankEvent['event_type'], at: number, o: Partial<BankEvent> = {}) =>
      (b as unknown as { bankIn: (c: unknown, t: string, o: unknown) => BankEvent }).bankIn(c, type, { event_time: at, ...o });
    if (!ev.TXN_COMPLETED && r() < 0.6) term('TXN_FAILED', t + 3 * SEC, { failure_reason: pick(['TIMEOUT', 'PRINTER_ERROR', 'APP_ERROR', 'CARD_READ_ERROR']), response_code: r() < 0.5 ? '68' : null });
    if (r() < 0.1) gw('ISSUER_TIMEOUT', t - 500);
    if (r() < 0.08) gw('RESPONSE_SENT', t + 1200, { response_code: '68' });
    if (r() < 0.15) term('REQUEST_SENT', t - 2400, { amount_minor: 9999 });
    if (r() < 0.2) term('REVERSAL_SENT', t + 20 * SEC);
    if (r() < 0.15) gw('REVERSAL_RECEIVED', t + 21 * SEC);
    const rv = r();
    if (rv < 0.15) bank('REVERSAL_APPLIED', t + Math.floor(r() * 10 * MIN));
    else if (rv < 0.2) bank('REFUND_POSTED', t + Math.floor(r() * 30 * MIN));
    else if (rv < 0.25) bank('REVERSAL_REJECTED', t + 30 * SEC);
    if (bent()) bank(rb() < 0.5 ? 'REVERSAL_APPLIED' : 'REFUND_POSTED', t + rules.debits.reversalGraceMs + edge());
    if (bent()) bank('REFUND_POSTED', t + rules.debits.resolutionHorizonMs + edge());
    if (failAtResponse !== null) term('TXN_FAILED', t + STEP_OFFSET_MS.RESPONSE_RECEIVED + failAtResponse, { failure_reason: 'PRINTER_ERROR' });
    if (r() < 0.05) bank('AUTH_DECLINED', t + 5 * SEC, { rrn: `DEC${String(1000 + i).padStart(9, '0')}`, stan: String(900 + i).padStart(6, '0'), response_code: '05' });
    if (r() < 0.05) term('DEVICE_FAULT', t + 7 * SEC);
  }
  const s = b.streams();
  const arrivals: Arrival[] = [];
  const push = (stream: Stream, event: TerminalEvent | GatewayEvent | BankEvent, trueTime: number) => {
    truth.set(event.event_id, trueTime);
    const delay = Math.floor(r() * 60 * SEC);
    arrivals.push({ stream, event, arrivalMs: trueTime + (bent() ? rules.time.maxDelayMs + edge() : delay) });
  };
  for (const e of s.terminal) push('terminal', e, e.event_time - skew.get(e.terminal_id)!);
  for (const e of s.gateway) push('gateway', e, e.event_time);
  for (const e of s.bank) push('bank', e, e.event_time);
  // Redeliveries: same event again, later.
  for (const a of [...arrivals]) if (r() < 0.03) arrivals.push({ ...a, arrivalMs: a.arrivalMs + Math.floor(r() * 50 * SEC) });
  arrivals.sort((x, y) => x.arrivalMs - y.arrivalMs);
  return { builder: b, arrivals };
}
