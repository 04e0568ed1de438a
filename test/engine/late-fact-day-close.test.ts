/**
 * A late card fact and the UTC day it falls on (docs/semantics.md, "Late facts
 * for card patterns": never an anomaly on a UTC day already closed). Facts are
 * handed to the card patterns at t + clock skew, so their in-order frontier is
 * W - clockSkewMs (src/engine/engine.ts, advance), and a day D is closed for
 * late facts once that frontier - allowedLatenessMs reaches the end of D. So a
 * late fact of D decided at watermark W (the frontier of the advance before its
 * release) still counts while W < end(D) + allowedLatenessMs + clockSkewMs and
 * is refused from there on: both sides of that edge, 1 ms apart (issue 17: the
 * engine's `w - clockSkewMs` was unpinned). Expectations by hand.
 */
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import { EventBuilder, MIN } from '../eval/builders.js';
import { watermarkClock } from '../support/watermark-clock.js';

type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');
const RULES = buildRules({
  orphanDebit: { enabled: false }, duplicateDebit: { enabled: false }, amountMismatch: { enabled: false }, terminalFaultSpike: { enabled: false },
  cardVelocity: { enabled: false }, impossibleTravel: { enabled: false },
});
const t = RULES.time;
/** The end of T0's UTC day (2024-03-02T00:00:00Z). */
const MIDNIGHT = Date.UTC(2024, 2, 2);
/** The first watermark at which a late fact of T0's day is refused. */
const CLOSED_AT = MIDNIGHT + t.allowedLatenessMs + t.clockSkewMs;
const M = ['MERCHANT0000001', 'MERCHANT0000002', 'MERCHANT0000003'];

/** Small declined attempt i (1-6) of card X, at MIDNIGHT - (7 - i) min, merchants 1, 2, 3, 1, 2, 3. */
function attempt(i: number): BankEvent {
  const b = new EventBuilder({ merchant_id: M[(i - 1) % 3], stan: String(i).padStart(6, '0'), rrn: `RRN00000000${i}`, card_token: 'tok_card_X', amount_minor: 100 }, { firstId: i * 10 });
  return b.bank('AUTH_DECLINED', { event_time: MIDNIGHT - (7 - i) * MIN });
}

function run(lateAt: number): Anomaly[] {
  const out: Anomaly[] = [];
  const { engine } = createPipeline(() => RULES, { anomaly: (a) => out.push(a) });
  const push = (...events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
  const clock = watermarkClock(t, push);
  const watermarkTo = (w: number) => {
    clock(w);
    expect(engine.watermark).toBe(w);
  };
  push(...[1, 2, 3, 4, 5].map(attempt));
  // Another card's fact after midnight, handed over before the sixth attempt comes: that one is then late for
  // the card patterns too (behind a fact already handed over), not only for the engine.
  const y = new EventBuilder({ stan: '000077', rrn: 'RRN000000077', card_token: 'tok_card_Y' }, { firstId: 770 });
  push(y.bank('AUTH_APPROVED', { event_time: MIDNIGHT + 5 * MIN }));
  watermarkTo(lateAt);
  // The sixth attempt arrives now, late (its time + skew is far behind W, not past the retention): held, and
  // handed over at the next advance, decided against the frontier of this one.
  push(attempt(6));
  expect(engine.counters.late.bank).toBe(1);
  watermarkTo(lateAt + 1);
  engine.end();
  return out.filter((a) => a.kind === 'CARD_TESTING');
}

describe('a late card fact of a day that closes (W = end of day + allowed lateness + clock skew)', () => {
  it('1 ms before the day closes: CARD_TESTING on card X, triggered by the late sixth attempt', () => {
    expect(run(CLOSED_AT - 1).map((a) => [a.card_token, a.rrn, a.event_time, a.version])).toEqual([['tok_card_X', 'RRN000000006', MIDNIGHT - MIN, 1]]);
  });

  it('at the close: refused, no anomaly on the closed day', () => {
    expect(run(CLOSED_AT)).toEqual([]);
  });
});
