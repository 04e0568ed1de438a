import { describe, expect, it } from 'vitest';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import type { CardFact } from '../../../src/detect/patterns/types.js';
import { collector, DAY, fact, HOUR, MIN, only, rules, SEC, shuffled, T0 } from './helpers.js';
import { oracle, type Expected } from './oracle.js';

const CITIES: readonly (readonly [number, number] | null)[] = [
  [52.52, 13.405], // Berlin
  [52.52, 13.405],
  [48.137, 11.575], // Munich, 504 km
  [50.11, 8.682], // Frankfurt
  [40.4168, -3.7038], // Madrid
  null,
];
const AMOUNTS = [300, 900, 1500, 2000, 2001, 25_000, 900_000, 2_500_000];

/** A random but seeded day of facts for a few cards, in (event_time, event_id) order. */
function randomFacts(seed: number, n: number): CardFact[] {
  let a = seed >>> 0;
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  // Start before midnight so windows and days cross.
  let t = Date.UTC(2024, 2, 10, 22, 0, 0);
  const out: CardFact[] = [];
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() * rnd() * 4 * MIN); // bursty
    if (rnd() < 0.01) t += 3 * HOUR;
    const loc = pick(CITIES);
    out.push(fact({
      t,
      card: pick(['c1', 'c2', 'c3', 'c4']),
      merchant: pick(['M00000000000001', 'M00000000000002', 'M00000000000003', 'M00000000000004']),
      amount: pick(AMOUNTS),
      currency: rnd() < 0.85 ? 'EUR' : 'USD',
      approved: rnd() < 0.45,
      txn_type: pick(['SALE', 'SALE', 'SALE', 'PREAUTH', 'REFUND']),
      lat: loc === null ? null : loc[0],
      lon: loc === null ? null : loc[1],
    }));
  }
  return out;
}

/** Final state per anomaly_id: the highest version. */
function finals(out: readonly Anomaly[]): Map<string, Expected> {
  const best = new Map<string, Anomaly>();
  for (const a of out) {
    const cur = best.get(a.anomaly_id);
    if (cur === undefined || a.version > cur.version) best.set(a.anomaly_id, a);
  }
  const m = new Map<string, Expected>();
  for (const a of best.values()) m.set(a.anomaly_id, { anomaly_id: a.anomaly_id, kind: a.kind, rrn: a.rrn!, event_time: a.event_time, related_rrns: a.related_rrns });
  return m;
}

const sorted = (m: Map<string, Expected>): Expected[] => [...m.values()].sort((x, y) => (x.anomaly_id < y.anomaly_id ? -1 : 1));

/** Pushes in order with advance(t) before each fact, then advance(+inf). */
function runInOrder(facts: readonly CardFact[], r = rules()) {
  const { out, emit } = collector();
  const cp = new CardPatterns(() => r, emit);
  for (const f of facts) {
    cp.advance(f.event_time);
    cp.push(f);
  }
  cp.advance(Infinity);
  return { out, cp };
}

describe('CardPatterns', () => {
  it('agrees with a naive batch reading of the definitions, across seeds', () => {
    const r = rules({
      // Lower thresholds so that random data fires every kind often.
      cardTesting: { minAttempts: 4, minDeclined: 2, minMerchants: 2 },
      cardVelocity: { minDebits: 5 },
    });
    let total = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const facts = randomFacts(seed, 400);
      const { out, cp } = runInOrder(facts, r);
      expect(out.every((a) => a.version === 1)).toBe(true);
      expect(sorted(finals(out))).toEqual(sorted(oracle(facts, r)));
      expect(cp.activeCards()).toBe(0);
      total += out.length;
    }
    expect(total).toBeGreaterThan(100);
  });

  it('with late facts (at most allowedLatenessMs behind the watermark) the final versions still agree', () => {
    const r = rules({ cardTesting: { minAttempts: 4, minDeclined: 2, minMerchants: 2 }, cardVelocity: { minDebits: 5 } });
    const grace = r.time.allowedLatenessMs;
    let revised = 0;
    let lateSeen = 0;
    for (let seed = 100; seed < 130; seed++) {
      const facts = randomFacts(seed, 300);
      // Hold back every 7th fact and deliver it, flagged late, once the stream is up to grace past it.
      const held = new Set(facts.filter((_, i) => i % 7 === 3));
      const { out, emit } = collector();
      const cp = new CardPatterns(() => r, emit);
      const waiting: CardFact[] = [];
      for (const f of facts) {
        // Deliver, before the watermark moves to f, what f would leave more than 0.7 × grace behind
        // (so every late fact is at most grace behind the watermark when it arrives).
        for (let k = waiting.length - 1; k >= 0; k--) {
          const w = waiting[k];
          if (f.event_time - w.event_time > 0.7 * grace) {
            cp.push({ ...w, late: true });
            waiting.splice(k, 1);
          }
        }
        if (held.has(f)) {
          waiting.push(f);
          continue;
        }
        cp.advance(f.event_time);
        cp.push(f);
      }
      for (const w of waiting) cp.push({ ...w, late: true });
      cp.advance(Infinity);
      lateSeen += cp.counters.late;
      revised += out.filter((a) => a.version > 1).length;
      expect(sorted(finals(out))).toEqual(sorted(oracle(facts, r)));
      expect(cp.activeCards()).toBe(0);
    }
    expect(lateSeen).toBeGreaterThan(100);
    expect(revised).toBeGreaterThan(0);
  });

  it('with facts arbitrarily late: never a false anomaly, never a second version 1, versions step by one', () => {
    const r = rules({ cardTesting: { minAttempts: 4, minDeclined: 2, minMerchants: 2 }, cardVelocity: { minDebits: 5 } });
    for (let seed = 200; seed < 220; seed++) {
      const facts = randomFacts(seed, 300);
      // Any order at all: everything out of order is flagged late; the watermark follows the latest time seen.
      const arrival = shuffled(facts, seed);
      const { out, emit } = collector();
      const cp = new CardPatterns(() => r, emit);
      let wm = -Infinity;
      for (const f of arrival) {
        const late = f.event_time < wm;
        cp.push(late ? { ...f, late } : f);
        if (f.event_time > wm) cp.advance((wm = f.event_time));
      }
      cp.advance(Infinity);
      const expected = oracle(facts, r);
      const versions = new Map<string, number>();
      for (const a of out) {
        expect(expected.has(a.anomaly_id)).toBe(true);
        expect(a.version).toBe((versions.get(a.anomaly_id) ?? 0) + 1);
        versions.set(a.anomaly_id, a.version);
      }
      expect(cp.activeCards()).toBe(0);
    }
  });

  it('a late fact completing a window fires, with the later in-order attempt as trigger', () => {
    const r = only('cardTesting');
    const M = ['M00000000000001', 'M00000000000002', 'M00000000000003'];
    const a = [0, 1, 2, 4, 5].map((m, i) => fact({ t: T0 + m * MIN, merchant: M[i % 3], approved: i === 2 }));
    const late = fact({ t: T0 + 3 * MIN, merchant: M[2], approved: false, late: true });
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    for (const f of a) cp.push(f);
    cp.advance(T0 + 6 * MIN);
    expect(out).toHaveLength(0);
    cp.push(late);
    expect(out).toHaveLength(1);
    expect(out[0].rrn).toBe(a[4].rrn);
    expect(out[0].evidence.bank.map((e) => e.event_id)).toEqual([a[0], a[1], a[2], late, a[3], a[4]].map((f) => f.event_id));
    expect(cp.counters.late).toBe(1);
  });

  it('a late fact that moves the first trigger earlier emits version 2 with the new trigger', () => {
    const r = only('cardVelocity', { minDebits: 3 });
    const d = [0, 10, 20, 30].map((m) => fact({ t: T0 + m * MIN }));
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    for (const f of [d[0], d[2], d[3]]) cp.push(f);
    expect(out.map((x) => [x.rrn, x.version])).toEqual([[d[3].rrn, 1]]);
    cp.push({ ...d[1], late: true });
    expect(out.map((x) => [x.rrn, x.version])).toEqual([[d[3].rrn, 1], [d[2].rrn, 2]]);
    expect(out[1].anomaly_id).toBe(out[0].anomaly_id);
    expect(out[1].related_rrns).toEqual([d[0].rrn, d[1].rrn].sort());
  });

  it('a late fact on a day the watermark closed (beyond the allowed lateness) creates nothing', () => {
    const r = only('cardVelocity', { minSumMinor: 1000 });
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    const midnight = Date.UTC(2024, 2, 11);
    cp.advance(midnight + r.time.allowedLatenessMs + MIN);
    cp.push(fact({ t: midnight - MIN, amount: 5000, late: true }));
    expect(out).toHaveLength(0);
    // within the allowed lateness the previous day is still open
    const cp2 = new CardPatterns(() => r, emit);
    cp2.advance(midnight + r.time.allowedLatenessMs - 2 * MIN);
    cp2.push(fact({ t: midnight - MIN, amount: 5000, late: true }));
    expect(out).toHaveLength(1);
  });

  it('ignores duplicates (same event_id), in order or late', () => {
    const r = only('cardVelocity', { minDebits: 3 });
    const d = [0, 1].map((m) => fact({ t: T0 + m * MIN }));
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    cp.push(d[0]);
    cp.push(d[1]);
    cp.push(d[1]);
    cp.push({ ...d[0], late: true });
    expect(out).toHaveLength(0);
    expect(cp.counters.duplicates).toBe(2);
  });

  it('keeps no state for facts no pattern looks at', () => {
    const { cp } = runInOrder([fact({ t: T0, amount: 50_000, approved: false })]);
    expect(cp.counters.ignored).toBe(1);
    const cp2 = new CardPatterns(() => rules(), () => undefined);
    cp2.push(fact({ t: T0, amount: 50_000, approved: false }));
    expect(cp2.activeCards()).toBe(0);
  });

  it('bounded state: cards are released once every window has passed, and activeCards returns to 0', () => {
    const r = rules();
    const cp = new CardPatterns(() => r, () => undefined);
    const grace = r.time.allowedLatenessMs;
    for (let i = 0; i < 1000; i++) {
      // small declines only: CARD_TESTING state (600 s)
      cp.push(fact({ t: T0 + i * SEC, card: `small-${i}`, approved: false }));
    }
    for (let i = 0; i < 1000; i++) {
      // unlocated debits: CARD_VELOCITY state (1 h)
      cp.push(fact({ t: T0 + 1000 * SEC + i, card: `debit-${i}`, amount: 50_000 }));
    }
    expect(cp.activeCards()).toBe(2000);
    cp.advance(T0 + 1000 * SEC + 10 * MIN + grace + 1);
    expect(cp.activeCards()).toBe(1000); // the small ones are gone
    cp.advance(T0 + 2000 * SEC + HOUR + grace + 1);
    expect(cp.activeCards()).toBe(0);
  });

  it('a card that fired stays known until its UTC day (plus the allowed lateness) is over, so the id is never reused', () => {
    const r = only('cardVelocity', { minSumMinor: 1000 });
    const grace = r.time.allowedLatenessMs;
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    cp.push(fact({ t: T0, amount: 5000 }));
    expect(out).toHaveLength(1);
    cp.push(fact({ t: T0 + MIN, amount: 5000 })); // same day: nothing new
    expect(out).toHaveLength(1);
    const endOfDay = Date.UTC(2024, 2, 11);
    cp.advance(endOfDay - MIN); // every window long gone, the fired day is not
    expect(cp.activeCards()).toBe(1);
    cp.push(fact({ t: endOfDay - MIN, amount: 5000 })); // same day, after the window was released
    expect(out).toHaveLength(1);
    cp.advance(endOfDay - MIN + HOUR + grace + 1);
    expect(cp.activeCards()).toBe(0);
    cp.push(fact({ t: endOfDay + HOUR + grace + 1, amount: 5000 }));
    expect(out).toHaveLength(2);
    expect(out[1].anomaly_id).not.toBe(out[0].anomaly_id);
  });

  it('without later facts, a fired card is released right after its day plus the allowed lateness', () => {
    const r = only('cardVelocity', { minSumMinor: 1000 });
    const grace = r.time.allowedLatenessMs;
    const cp = new CardPatterns(() => r, () => undefined);
    cp.push(fact({ t: T0, amount: 5000 }));
    const endOfDay = Date.UTC(2024, 2, 11);
    // A fact at endOfDay - 1 ms is handled while wm <= endOfDay - 1 + grace; from endOfDay + grace on the day is closed.
    cp.advance(endOfDay + grace - 1);
    expect(cp.activeCards()).toBe(1);
    cp.advance(endOfDay + grace);
    expect(cp.activeCards()).toBe(0);
  });

  it('advance is cheap to call often and never releases what a later in-order fact needs', () => {
    const r = only('cardVelocity');
    const facts = Array.from({ length: 10 }, (_, i) => fact({ t: T0 + i * 6 * MIN }));
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    for (const f of facts) {
      for (let k = 0; k < 5; k++) cp.advance(f.event_time);
      cp.push(f);
    }
    expect(out).toHaveLength(1);
  });

  it('the same facts give the same ids, whatever the card interleaving', () => {
    const facts = randomFacts(7, 400);
    const r = rules({ cardTesting: { minAttempts: 4, minDeclined: 2, minMerchants: 2 }, cardVelocity: { minDebits: 5 } });
    const a = runInOrder(facts, r).out.map((x) => x.anomaly_id).sort();
    // Another interleaving of the cards that keeps each card's order: stable sort of a shuffle by card, then by time.
    const rank = new Map(shuffled(['c1', 'c2', 'c3', 'c4'], 3).map((c, i) => [c, i]));
    const byCard = [...facts].sort((x, y) => rank.get(x.card_token)! - rank.get(y.card_token)!);
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    for (const f of byCard) cp.push(f);
    cp.advance(Infinity);
    expect(out.map((x) => x.anomaly_id).sort()).toEqual(a);
    expect(a.length).toBeGreaterThan(0);
  });

  it('one fact can count for several kinds at once', () => {
    const r = rules({ cardTesting: { minAttempts: 1, minDeclined: 1, minMerchants: 1 }, cardVelocity: { minDebits: 1 } });
    const { out } = runInOrder([fact({ t: T0, approved: true, amount: 100 }), fact({ t: T0 + DAY, approved: false, amount: 100 })], r);
    expect(out.map((a) => a.kind).sort()).toEqual(['CARD_TESTING', 'CARD_VELOCITY']);
  });
});
