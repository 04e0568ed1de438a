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
import type { Anomaly } from '../../src/events/anomaly.js';
import { MIN } from '../eval/builders.js';
import { attempt, CLOSED_AT, dayCloseEngine, MIDNIGHT } from './day-close-fixture.js';

function run(lateAt: number): Anomaly[] {
  // Card Y's fact after midnight is handed over before the sixth attempt comes: that one is then late for the
  // card patterns too (behind a fact already handed over), not only for the engine.
  const { engine, out, push, watermarkTo } = dayCloseEngine();
  watermarkTo(lateAt);
  // The sixth attempt arrives now, late (its time + skew is far behind W, not past the retention): held, and
  // handed over at the next advance, decided against the frontier of this one.
  push(attempt(6));
  expect(engine.counters.late.bank).toBe(1);
  watermarkTo(lateAt + 1);
  engine.end();
  return out;
}

describe('a late card fact of a day that closes (W = end of day + allowed lateness + clock skew)', () => {
  it('1 ms before the day closes: CARD_TESTING on card X, triggered by the late sixth attempt', () => {
    expect(run(CLOSED_AT - 1).map((a) => [a.card_token, a.rrn, a.event_time, a.version])).toEqual([['tok_card_X', 'RRN000000006', MIDNIGHT - MIN, 1]]);
  });

  it('at the close: refused, no anomaly on the closed day', () => {
    expect(run(CLOSED_AT)).toEqual([]);
  });
});
