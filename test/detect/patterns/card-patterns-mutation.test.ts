/**
 * Card-pattern cases the first Stryker run of card-patterns.ts showed unpinned
 * (docs/testing.md, "The pattern files"): counters, equal-time facts, duplicates
 * per window, and a watermark that never moves back. Expectations by hand from
 * ../shared/spec/detection.md and docs/semantics.md ("Fraud-like patterns":
 * one per kind, card and UTC day; a redelivered event_id is the same event;
 * late facts never create an anomaly on a day closed since).
 */
import { describe, expect, it } from 'vitest';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import type { Rules } from '../../../src/config/rules.js';
import { collector, fact, HOUR, MIN, only, rules, T0 } from './helpers.js';

/** 2024-03-11T00:00:00Z: the midnight after T0. */
const MIDNIGHT = Date.UTC(2024, 2, 11);

function patterns(r: Rules) {
  const { out, emit } = collector();
  return { out, cp: new CardPatterns(() => r, emit) };
}

const ids = (xs: readonly { event_id: string }[]): string[] => xs.map((x) => x.event_id);

describe('CardPatterns bookkeeping', () => {
  it('counts every fact pushed, ignored ones included', () => {
    const { cp } = patterns(rules());
    cp.push(fact({ t: T0 }));
    cp.push(fact({ t: T0 + MIN, amount: 50_000, approved: false })); // no pattern looks at a large decline
    cp.push(fact({ t: T0 + 2 * MIN }));
    expect(cp.counters).toMatchObject({ facts: 3, ignored: 1 });
  });

  it('facts at the same instant, pushed in event_id order, are in order: none is late', () => {
    const { out, cp } = patterns(only('cardVelocity', { minDebits: 3 }));
    const d = [fact({ t: T0 }), fact({ t: T0 }), fact({ t: T0 })]; // ids increase in creation order
    for (const f of d) cp.push(f);
    expect(out.map((a) => [a.kind, a.rrn])).toEqual([['CARD_VELOCITY', d[2].rrn]]);
    expect(cp.counters).toMatchObject({ late: 0, duplicates: 0 });
  });
});

describe('CardPatterns duplicates (same event_id) and late facts at the last instant', () => {
  it('a redelivered copy of the last fact, after its window let it go, is a duplicate (the card is kept for its fired day)', () => {
    const r = only('cardVelocity', { minSumMinor: 1000 });
    const { out, cp } = patterns(r);
    // A first debit too small to fire: the card's clean-up is due when its window and the lateness are over.
    cp.push(fact({ t: T0, amount: 100 }));
    const f = fact({ t: T0 + MIN, amount: 5000 });
    cp.push(f);
    expect(out).toHaveLength(1);
    cp.advance(f.event_time + HOUR + r.time.allowedLatenessMs + MIN); // both debits' window and lateness are over, the day is not
    expect(cp.activeCards()).toBe(1);
    cp.push(f);
    expect(out).toHaveLength(1);
    expect(cp.counters).toMatchObject({ duplicates: 1, late: 0 });
  });

  it('a late fact at the same instant as the card\'s last, with a smaller event_id, is a new fact, not a duplicate', () => {
    const { out, cp } = patterns(only('cardVelocity', { minDebits: 3 }));
    const d1 = fact({ t: T0 });
    const d2 = fact({ t: T0 + 4 * MIN });
    const d3 = fact({ t: T0 + 4 * MIN }); // same instant as d2, greater id
    cp.push(d1);
    cp.push(d3);
    cp.push({ ...d2, late: true });
    // In (time, id) order d1, d2, d3: the count reaches 3 at d3.
    expect(out.map((a) => [a.rrn, a.version])).toEqual([[d3.rrn, 1]]);
    expect(ids(out[0].evidence.bank)).toEqual(ids([d1, d2, d3]));
    expect(cp.counters).toMatchObject({ late: 1, duplicates: 0 });
  });

  const kinds: readonly [string, Rules, (t: number) => ReturnType<typeof fact>][] = [
    ['CARD_TESTING (small declines)', only('cardTesting'), (t) => fact({ t, amount: 500, approved: false })],
    ['CARD_VELOCITY (large debits)', only('cardVelocity'), (t) => fact({ t, amount: 50_000 })],
    ['IMPOSSIBLE_TRAVEL (located debits)', only('impossibleTravel'), (t) => fact({ t, amount: 50_000, lat: 52.52, lon: 13.405 })],
  ];
  it.each(kinds)('%s: a redelivered copy of a held fact that is not the last is a duplicate, not a late fact', (_name, r, make) => {
    const { out, cp } = patterns(r);
    const a = make(T0);
    cp.push(a);
    cp.push(make(T0 + MIN));
    cp.push(a);
    expect(out).toEqual([]);
    expect(cp.counters).toMatchObject({ duplicates: 1, late: 0 });
  });
  it('the list of kinds above is not empty', () => expect(kinds.length).toBe(3));
});

describe('CardPatterns watermark', () => {
  it('advance with an older frontier does not move it back: a late fact of a closed day still creates nothing', () => {
    const r = only('cardVelocity', { minSumMinor: 1000 });
    const { out, cp } = patterns(r);
    cp.advance(MIDNIGHT + r.time.allowedLatenessMs + MIN); // the day before MIDNIGHT is closed
    cp.advance(T0);
    cp.push(fact({ t: MIDNIGHT - MIN, amount: 5000, late: true }));
    expect(out).toEqual([]);
  });
});
