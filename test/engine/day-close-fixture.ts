/**
 * Shared input of the day-close tests (late-fact-day-close.test.ts,
 * late-flag-frontier.test.ts): rules with CARD_TESTING the only pattern on,
 * the UTC midnight that closes T0's day, the watermark from which a late fact
 * of that day is refused, and card X's six small declined attempts before it.
 */
import { expect } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import { EventBuilder, MIN } from '../eval/builders.js';
import { watermarkClock } from '../support/watermark-clock.js';

export type Ev = TerminalEvent | GatewayEvent | BankEvent;
export const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');
export const RULES = buildRules({
  orphanDebit: { enabled: false }, duplicateDebit: { enabled: false }, amountMismatch: { enabled: false }, terminalFaultSpike: { enabled: false },
  cardVelocity: { enabled: false }, impossibleTravel: { enabled: false },
});
/** The end of T0's UTC day (2024-03-02T00:00:00Z). */
export const MIDNIGHT = Date.UTC(2024, 2, 2);
/**
 * The first watermark at which a late fact of T0's day is refused: facts reach the card patterns at t + clock
 * skew, so their frontier is W - clockSkewMs, and a day is closed for late facts once frontier - allowedLatenessMs
 * reaches its end.
 */
export const CLOSED_AT = MIDNIGHT + RULES.time.allowedLatenessMs + RULES.time.clockSkewMs;
const M = ['MERCHANT0000001', 'MERCHANT0000002', 'MERCHANT0000003'];

/** Small declined attempt i (1-6) of card X, at MIDNIGHT - (7 - i) min, merchants 1, 2, 3, 1, 2, 3. */
export function attempt(i: number): BankEvent {
  const b = new EventBuilder({ merchant_id: M[(i - 1) % 3], stan: String(i).padStart(6, '0'), rrn: `RRN00000000${i}`, card_token: 'tok_card_X', amount_minor: 100 }, { firstId: i * 10 });
  return b.bank('AUTH_DECLINED', { event_time: MIDNIGHT - (7 - i) * MIN });
}

/**
 * An engine with CARD_TESTING anomalies collected in `out`, card X's attempts 1-5 and (`withY`, the default)
 * card Y's approval at MIDNIGHT + 5 min pushed (Y's fact is handed over before any late fact comes, so a late
 * fact of T0's day is behind it), and `watermarkTo(w)`: sets W to exactly w (checked).
 */
export function dayCloseEngine(o: { withY?: boolean } = {}) {
  const out: Anomaly[] = [];
  const { engine } = createPipeline(() => RULES, { anomaly: (a) => { if (a.kind === 'CARD_TESTING') out.push(a); } });
  const push = (...events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
  const clock = watermarkClock(RULES.time, push);
  const watermarkTo = (w: number) => {
    clock(w);
    expect(engine.watermark).toBe(w);
  };
  push(...[1, 2, 3, 4, 5].map(attempt));
  if (o.withY === false) return { engine, out, push, watermarkTo };
  const y = new EventBuilder({ stan: '000077', rrn: 'RRN000000077', card_token: 'tok_card_Y' }, { firstId: 770 });
  push(y.bank('AUTH_APPROVED', { event_time: MIDNIGHT + 5 * MIN }));
  return { engine, out, push, watermarkTo };
}
