/**
 * Pattern cases the mutation runs showed unpinned (docs/testing.md, "Surviving
 * mutants"). Expectations from detection.md / docs/semantics.md by hand.
 */
import { describe, expect, it } from 'vitest';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import { buildRules, type Rules } from '../../../src/config/rules.js';
import { collector, DAY, fact, MIN, only, T0 } from './helpers.js';

const M = ['M00000000000001', 'M00000000000002', 'M00000000000003'];

describe('CARD_TESTING after the kind was disabled and enabled again', () => {
  it('the declined count starts again from zero: the events dropped while disabled no longer count', () => {
    const on = only('cardTesting');
    const off = buildRules({ cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false } });
    let r: Rules = on;
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    // Day D: 6 small attempts, 4 declined, 3 merchants within 10 minutes: fires.
    for (let i = 0; i < 6; i++) cp.push(fact({ t: T0 + i * MIN, merchant: M[i % 3], approved: i >= 4 }));
    expect(out).toHaveLength(1);
    // Disabled, and the watermark passes the window plus the lateness: the events are dropped,
    // the fired day is kept (the card stays known until the day is over).
    r = off;
    cp.advance(T0 + 5 * MIN + on.cardTesting.windowMs + on.time.allowedLatenessMs + MIN);
    expect(cp.activeCards()).toBe(1);
    // Enabled again; the next day 6 small approved attempts at 3 merchants: no decline at all, nothing fires.
    r = on;
    const next = T0 + DAY;
    for (let i = 0; i < 6; i++) cp.push(fact({ t: next + i * MIN, merchant: M[i % 3], approved: true }));
    expect(out).toHaveLength(1);
    // Four declines that day do fire (the count works again).
    for (let i = 0; i < 4; i++) cp.push(fact({ t: next + (6 + i) * MIN, merchant: M[i % 3], approved: false }));
    expect(out).toHaveLength(2);
  });
});

describe('IMPOSSIBLE_TRAVEL: a debit with one coordinate has no location', () => {
  it('lat without lon, or lon without lat, is ignored like a debit without a location', () => {
    const r = only('impossibleTravel');
    for (const half of [{ lat: 0, lon: null }, { lat: null, lon: 0 }]) {
      const { out, emit } = collector();
      const cp = new CardPatterns(() => r, emit);
      // Warsaw, then (0, 0) in the Gulf of Guinea (thousands of km away) one minute later would be travel.
      cp.push(fact({ t: T0, lat: 52.23, lon: 21.01 }));
      cp.push(fact({ t: T0 + MIN, ...half }));
      cp.advance(Infinity);
      expect(out).toEqual([]);
    }
  });
});

describe('a rules reload that widens a window', () => {
  it('brings back the events the grace still held: the widened window counts them', () => {
    const narrow = only('cardVelocity', { minDebits: 3, windowMs: 10 * MIN });
    const wide = only('cardVelocity', { minDebits: 3, windowMs: 20 * MIN });
    let r = narrow;
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    // T0 and T0 + 11 min: 11 minutes apart, T0 leaves the 10-minute window (kept as grace: allowedLatenessMs is 10 min).
    cp.push(fact({ t: T0 }));
    cp.push(fact({ t: T0 + 11 * MIN }));
    expect(out).toEqual([]);
    // With a 20-minute window, T0, T0 + 11 and T0 + 12 min are 3 debits within 20 minutes: fires.
    r = wide;
    const third = fact({ t: T0 + 12 * MIN });
    cp.push(third);
    expect(out.map((a) => [a.kind, a.rrn, a.related_rrns.length])).toEqual([['CARD_VELOCITY', third.rrn, 2]]);
  });

  it('a narrower window after the reload drops them again', () => {
    const wide = only('cardVelocity', { minDebits: 3, windowMs: 20 * MIN });
    const narrow = only('cardVelocity', { minDebits: 3, windowMs: 10 * MIN });
    let r = wide;
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    cp.push(fact({ t: T0 }));
    cp.push(fact({ t: T0 + 11 * MIN }));
    r = narrow;
    cp.push(fact({ t: T0 + 12 * MIN }));
    expect(out).toEqual([]);
  });
});

describe('facts flagged late on a day the watermark closed (beyond the allowed lateness) create nothing', () => {
  const midnight = Date.UTC(2024, 2, 11);

  it('IMPOSSIBLE_TRAVEL: two located debits of the closed day, in order for their card', () => {
    const r = only('impossibleTravel');
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    cp.advance(midnight + r.time.allowedLatenessMs + MIN);
    cp.push(fact({ t: midnight - 10 * MIN, lat: 52.23, lon: 21.01, late: true }));
    cp.push(fact({ t: midnight - 5 * MIN, lat: 48.86, lon: 2.35, late: true }));
    expect(out).toEqual([]);
  });

  it('CARD_TESTING: six small attempts of the closed day, in order for their card', () => {
    const r = only('cardTesting');
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    cp.advance(midnight + r.time.allowedLatenessMs + MIN);
    for (let i = 0; i < 6; i++) cp.push(fact({ t: midnight - (10 - i) * MIN, merchant: M[i % 3], approved: i >= 4, late: true }));
    expect(out).toEqual([]);
  });
});
