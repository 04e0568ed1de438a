/**
 * When a card fact reaches the card patterns (src/engine/card-facts.ts,
 * release) and whether it is late for them — two defects found by mutation
 * testing (issue 17, card-facts.ts survivors), pinned here with
 * expectations by hand:
 *
 * 1. A bank event at t is on time until W passes t + clockSkewMs (the engine's
 *    lateness). Its fact was handed over at W = t + clockSkewMs already, so an
 *    on-time fact of equal time and lower event_id arriving at that W came
 *    after it: CARD_TESTING fired on the wrong attempt first and then again
 *    (two versions), where any other arrival order gives one. detection.md:
 *    results never depend on arrival order.
 * 2. A fact late for the engine was flagged late for the card patterns only
 *    when a later fact had already been handed over. With none, a late fact
 *    of a day the card patterns had closed (their frontier W − clockSkewMs
 *    past the day's end + allowedLatenessMs) passed as in order and created
 *    an anomaly on that closed day (docs/semantics.md, "Late facts for card
 *    patterns": never).
 */
import { describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import type { BankEvent } from '../../src/events/index.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import { EventBuilder, MIN, T0 } from '../eval/builders.js';
import { watermarkClock } from '../support/watermark-clock.js';
import { attempt as dayAttempt, CLOSED_AT, dayCloseEngine, MIDNIGHT, RULES as DAY_RULES, streamOf, type Ev } from './day-close-fixture.js';

const RULES = DAY_RULES;
const M = ['MERCHANT0000001', 'MERCHANT0000002', 'MERCHANT0000003'];

/** Small declined attempt i (1-8) of one card, all at T0, event ids in attempt order, merchants 1, 2, 3, 1, … */
function attempt(i: number): BankEvent {
  const b = new EventBuilder({ merchant_id: M[(i - 1) % 3], stan: String(i).padStart(6, '0'), rrn: `RRN00000000${i}`, card_token: 'tok_card_X', amount_minor: 100 }, { firstId: i * 10 });
  return b.bank('AUTH_DECLINED', { event_time: T0 });
}

/** Attempts 2-8, then W set to `firstAt`, then attempt 1; the CARD_TESTING versions (version, trigger rrn, related), facts late for the engine and for the card patterns. */
function run(firstAt: number): { versions: [number, string | null, readonly string[]][]; lateBank: number; latePatterns: number } {
  const out: Anomaly[] = [];
  const { engine, cardPatterns } = createPipeline(() => RULES, { anomaly: (a) => { if (a.kind === 'CARD_TESTING') out.push(a); } });
  const push = (...events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
  const clock = watermarkClock(RULES.time, push);
  push(...[2, 3, 4, 5, 6, 7, 8].map(attempt));
  clock(firstAt);
  expect(engine.watermark).toBe(firstAt);
  push(attempt(1));
  const lateBank = engine.counters.late.bank;
  engine.end();
  return { versions: out.map((a) => [a.version, a.rrn, a.related_rrns]), lateBank, latePatterns: cardPatterns!.counters.late };
}

describe('a card fact is handed over once the watermark has passed t + clockSkewMs, not at it', () => {
  // detection.md CARD_TESTING: 6 small attempts (4 declined) at 3 merchants within 600 s; in (event_time, event_id)
  // order the sixth, RRN000000006, completes it, related to the five before it.
  const once: [number, string, string[]][] = [[1, 'RRN000000006', ['RRN000000001', 'RRN000000002', 'RRN000000003', 'RRN000000004', 'RRN000000005']]];

  it('attempt 1 arriving at W = T0 + clockSkewMs is on time, and the result is the in-order one: one version', () => {
    expect(run(T0 + RULES.time.clockSkewMs)).toEqual({ versions: once, lateBank: 0, latePatterns: 0 });
  });

  it('the same with attempt 1 arriving 1 ms earlier (control)', () => {
    expect(run(T0 + RULES.time.clockSkewMs - 1)).toEqual({ versions: once, lateBank: 0, latePatterns: 0 });
  });
});

describe('a fact late for the engine is late for the card patterns even when no later fact was handed over', () => {
  function late(lateAt: number): Anomaly[] {
    const { engine, out, push, watermarkTo } = dayCloseEngine({ withY: false });
    watermarkTo(lateAt);
    push(dayAttempt(6));
    expect(engine.counters.late.bank).toBe(1);
    watermarkTo(lateAt + 1);
    engine.end();
    return out;
  }

  it('the day closed (W = end of day + allowedLatenessMs + clockSkewMs): refused, no anomaly on the closed day', () => {
    expect(late(CLOSED_AT)).toEqual([]);
  });

  it('1 ms before the day closes: CARD_TESTING on card X, triggered by the late sixth attempt', () => {
    expect(late(CLOSED_AT - 1).map((a) => [a.card_token, a.rrn, a.event_time, a.version])).toEqual([['tok_card_X', 'RRN000000006', MIDNIGHT - MIN, 1]]);
  });
});
