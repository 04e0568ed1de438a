/** The per-scenario rule evaluators that write exact labels. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES as R } from '../../src/config/rules.js';
import { cardTestingTriggers, duplicates, faultSpikeTriggers, orphanStatus, travelTriggers, velocityTriggers } from '../../src/sim/expect.js';

const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const MIN = 60_000;

describe('pattern evaluators', () => {
  it('card testing: 6 small attempts, 4 declined, 3 merchants within 10 minutes, and not one fewer', () => {
    const mk = (n: number, declined: number, merchants: number) =>
      Array.from({ length: n }, (_, i) => ({ t: T0 + i * 30_000, id: `e${i}`, rrn: `r${i}`, amount: 500 + i, declined: i < declined, merchant: `m${i % merchants}` }));
    expect(cardTestingTriggers(mk(6, 4, 3), R).map((h) => h.trigger.rrn)).toEqual(['r5']);
    expect(cardTestingTriggers(mk(5, 4, 3), R)).toEqual([]);
    expect(cardTestingTriggers(mk(6, 3, 3), R)).toEqual([]);
    expect(cardTestingTriggers(mk(6, 4, 2), R)).toEqual([]);
    const big = mk(6, 4, 3).map((x, i) => (i === 0 ? { ...x, amount: R.cardTesting.maxAmountMinor + 1 } : x));
    expect(cardTestingTriggers(big, R)).toEqual([]);
  });

  it('velocity: the 10th debit in an hour, or the sum reaching 5,000,000 in one currency', () => {
    const debits = Array.from({ length: 10 }, (_, i) => ({ t: T0 + i * 5 * MIN, id: `e${i}`, rrn: `r${i}`, amount: 1000, currency: 'EUR' }));
    expect(velocityTriggers(debits, R).map((h) => h.trigger.rrn)).toEqual(['r9']);
    expect(velocityTriggers(debits.slice(0, 9), R)).toEqual([]);
    const sums = [2_000_000, 2_000_000, 1_000_000].map((amount, i) => ({ t: T0 + i * MIN, id: `e${i}`, rrn: `r${i}`, amount, currency: 'EUR' }));
    expect(velocityTriggers(sums, R).map((h) => h.trigger.rrn)).toEqual(['r2']);
    expect(velocityTriggers(sums.map((d, i) => (i === 2 ? { ...d, currency: 'USD' } : d)), R)).toEqual([]);
  });

  it('a burst straddling midnight fires once per UTC day', () => {
    const mid = Date.UTC(2026, 2, 3);
    // r9 at 23:56 fires; r10 at 00:00 still has 11 debits in its hour: a new day, a new anomaly; r11 does not.
    const debits = Array.from({ length: 12 }, (_, i) => ({ t: mid - 40 * MIN + i * 4 * MIN, id: `e${i}`, rrn: `r${i}`, amount: 1000, currency: 'EUR' }));
    expect(velocityTriggers(debits, R).map((h) => h.trigger.rrn)).toEqual(['r9', 'r10']);
  });

  it('travel: 300+ km faster than 900 km/h fires; slower or nearer does not', () => {
    const paris = { lat: 48.8566, lon: 2.3522 };
    const lyon = { lat: 45.764, lon: 4.8357 }; // ~391 km: ~26 minutes at 900 km/h
    const brussels = { lat: 50.8503, lon: 4.3517 }; // ~264 km
    const d = (i: number, t: number, p: { lat: number; lon: number }) => ({ t, id: `e${i}`, rrn: `r${i}`, ...p });
    expect(travelTriggers([d(0, T0, paris), d(1, T0 + 20 * MIN, lyon)], R).map((h) => h.related.map((x) => x.rrn))).toEqual([['r0']]);
    expect(travelTriggers([d(0, T0, paris), d(1, T0 + 30 * MIN, lyon)], R)).toEqual([]);
    expect(travelTriggers([d(0, T0, paris), d(1, T0 + 5 * MIN, brussels)], R)).toEqual([]);
  });

  it('fault spike: 3 signals within 15 minutes of the terminal clock', () => {
    const s = (i: number, t: number) => ({ t, id: `e${i}`, stan: '000001' });
    expect(faultSpikeTriggers([s(0, T0), s(1, T0 + 7 * MIN), s(2, T0 + 15 * MIN)], R).length).toBe(1);
    expect(faultSpikeTriggers([s(0, T0), s(1, T0 + 7 * MIN), s(2, T0 + 15 * MIN + 1)], R)).toEqual([]);
    expect(faultSpikeTriggers([s(0, T0), s(1, T0 + 7 * MIN)], R)).toEqual([]);
  });
});

describe('debit evaluators', () => {
  it('orphan status: none within the grace, AUTO_RESOLVED within the horizon, else OPEN', () => {
    expect(orphanStatus(T0, [T0 + 300_000], R)).toBeNull();
    expect(orphanStatus(T0, [T0 - 1_000], R)).toBeNull();
    expect(orphanStatus(T0, [T0 + 300_001], R)).toBe('AUTO_RESOLVED');
    expect(orphanStatus(T0, [T0 + 86_400_001], R)).toBe('OPEN');
    expect(orphanStatus(T0, [], R)).toBe('OPEN');
  });

  it('duplicates: every earlier debit within the window, unless one was reversed in time', () => {
    const d = (rrn: string, t: number, reversals: number[] = []) => ({ rrn, t, reversals });
    expect(duplicates([d('a', T0), d('b', T0 + 2 * MIN), d('c', T0 + 4 * MIN)], R)).toEqual([
      { rrn: 'b', t: T0 + 2 * MIN, related: ['a'], status: 'OPEN' },
      { rrn: 'c', t: T0 + 4 * MIN, related: ['a', 'b'], status: 'OPEN' },
    ]);
    expect(duplicates([d('a', T0, [T0 + MIN]), d('b', T0 + 2 * MIN)], R)).toEqual([]);
    expect(duplicates([d('a', T0), d('b', T0 + 11 * MIN)], R)).toEqual([]);
    expect(duplicates([d('a', T0, [T0 + 10 * MIN]), d('b', T0 + 2 * MIN)], R)[0].status).toBe('AUTO_RESOLVED');
    expect(duplicates([d('b', T0), d('a', T0)], R).map((x) => x.rrn)).toEqual(['b']);
  });
});
