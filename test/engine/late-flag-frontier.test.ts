/**
 * The `late` flag of a card fact stays measured against the frontier the card
 * patterns were advanced to, not against an earlier late fact
 * (src/engine/card-facts.ts, release(): the watermark of the last release
 * is the frontier; a late fact never moves it). docs/semantics.md, "Late facts for card patterns": a late fact
 * never creates an anomaly on a UTC day already closed; card-patterns.ts closes
 * a day for late facts once its frontier - allowedLatenessMs is past the day's
 * end, i.e. (frontier = W - clockSkewMs) from W = end of day + allowedLatenessMs
 * + clockSkewMs on (late-fact-day-close.test.ts pins that edge).
 *
 * Card X has five small declined attempts before midnight; card Y's fact after
 * midnight is handed over. Then, with the day closed, two late facts arrive and
 * are handed over in one batch: card Z's (earlier) and card X's sixth attempt,
 * which would complete CARD_TESTING (detection.md: 6 small, 4 declined, 3
 * merchants within 600 s) on the closed day. Both are behind Y's fact, so both
 * are late and the sixth is refused. Were Z's fact to become the frontier, the
 * sixth would look in order and fire (issue 17: card-facts.ts's `if (!late)`
 * survivor). Control: the same input 1 ms before the day closes fires.
 * Expectations by hand.
 */
import { describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import { EventBuilder, MIN } from '../eval/builders.js';
import { attempt, CLOSED_AT, dayCloseEngine, MIDNIGHT } from './day-close-fixture.js';

function run(lateAt: number): { anomalies: Anomaly[]; lateBank: number; tooLateBank: number } {
  const { engine, out, push, watermarkTo } = dayCloseEngine();
  watermarkTo(lateAt);
  // Two late facts, held together and handed over at the next advance, Z's first (earlier event_time).
  const z = new EventBuilder({ stan: '000088', rrn: 'RRN000000088', card_token: 'tok_card_Z' }, { firstId: 880 });
  push(z.bank('AUTH_APPROVED', { event_time: MIDNIGHT - 90_000 }), attempt(6));
  watermarkTo(lateAt + 1);
  const counters = { lateBank: engine.counters.late.bank, tooLateBank: engine.counters.tooLate.bank };
  engine.end();
  return { anomalies: out, ...counters };
}

describe('a late fact handed over after another late fact, on a closed day', () => {
  it('the day closed: both facts late (not too late), the sixth attempt refused, no CARD_TESTING', () => {
    expect(run(CLOSED_AT)).toEqual({ anomalies: [], lateBank: 2, tooLateBank: 0 });
  });

  it('control, 1 ms before the day closes: CARD_TESTING on card X, triggered by the sixth attempt', () => {
    const r = run(CLOSED_AT - 1);
    expect([r.lateBank, r.tooLateBank]).toEqual([2, 0]);
    expect(r.anomalies.map((a) => [a.card_token, a.rrn, a.event_time, a.version])).toEqual([['tok_card_X', 'RRN000000006', MIDNIGHT - MIN, 1]]);
  });
});
