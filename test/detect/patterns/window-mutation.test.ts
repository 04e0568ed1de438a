/**
 * The shared pattern window (src/detect/patterns/window.ts) through the card
 * patterns: what a window keeps for late facts, events exactly on its bounds,
 * and a kind disabled by a reload. Cases the first Stryker run of window.ts
 * showed unpinned (docs/testing.md, "The pattern files"). Expectations by hand
 * from ../shared/spec/detection.md (CARD_TESTING: >= 6 small attempts, >= 4
 * declined, >= 3 merchants within 600 s; CARD_VELOCITY), docs/semantics.md
 * (windows inclusive: e.time - windowMs <= time; a fact at most
 * allowedLatenessMs behind the watermark gives the batch result) and
 * docs/rules.md ("Reloading": decisions reach back as far as the old window
 * kept; a disabled kind drops its window state at the next clean-up).
 */
import { describe, expect, it } from 'vitest';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import { buildRules, type Rules } from '../../../src/config/rules.js';
import { collector, fact, MIN, only, T0 } from './helpers.js';

const M = ['M00000000000001', 'M00000000000002', 'M00000000000003', 'M00000000000004'];
const ids = (xs: readonly { event_id: string }[]): string[] => xs.map((x) => x.event_id);

function patterns(r: () => Rules) {
  const { out, emit } = collector();
  return { out, cp: new CardPatterns(r, emit) };
}

describe('what a window keeps for late facts', () => {
  it('a fact exactly allowedLatenessMs behind the watermark still finds the attempts at the very start of its window', () => {
    const r = only('cardTesting'); // window 10 min, lateness 10 min
    const { out, cp } = patterns(() => r);
    // Five small attempts T0 .. T0 + 4 min: 3 declined, 3 merchants (5 attempts: not enough).
    const a = [0, 1, 2, 3, 4].map((m, i) => fact({ t: T0 + m * MIN, merchant: M[i % 3], approved: i >= 3 }));
    for (const f of a) cp.push(f);
    cp.advance(T0 + 20 * MIN);
    cp.push(fact({ t: T0 + 40 * MIN, merchant: M[0] })); // the card's newest attempt, far ahead
    expect(out).toEqual([]);
    // Late by exactly the lateness (watermark T0 + 20 min): its window [T0, T0 + 10 min] holds a[0..4] and itself.
    const late = fact({ t: T0 + 10 * MIN, merchant: M[1], approved: false, late: true });
    cp.push(late);
    expect(out.map((x) => [x.kind, x.rrn])).toEqual([['CARD_TESTING', late.rrn]]);
    expect(ids(out[0].evidence.bank)).toEqual(ids([...a, late]));
  });

  it('a late fact older than the newest window goes to the kept history, not into the window\'s counts', () => {
    const r = only('cardTesting');
    const { out, cp } = patterns(() => r);
    cp.push(fact({ t: T0, merchant: M[0] }));
    cp.push(fact({ t: T0 + 2 * MIN, merchant: M[0] }));
    // Six attempts T0 + 13 .. 18 min at two merchants, 3 declined: not enough declines.
    const w = [13, 14, 15, 16, 17, 18].map((m, i) => fact({ t: T0 + m * MIN, merchant: M[2 + (i % 2)], approved: i % 2 === 0 }));
    cp.push(w[0]);
    // A declined attempt at a third merchant, T0 + 1 min: its window holds 2 attempts; no later window holds it.
    cp.push(fact({ t: T0 + MIN, merchant: M[1], approved: false, late: true }));
    for (const f of w.slice(1)) cp.push(f);
    expect(out).toEqual([]);
  });
});

describe('events exactly on a window bound', () => {
  it('a late attempt exactly at the newest window\'s start, after an equal-time one, is counted while in the window and no longer after', () => {
    const r = only('cardTesting');
    const { out, cp } = patterns(() => r);
    cp.push(fact({ t: T0, merchant: M[0] })); // e1: approved
    const n = fact({ t: T0 + 10 * MIN, merchant: M[0] }); // its window starts exactly at T0
    const x = fact({ t: T0, merchant: M[1], approved: false, late: true }); // same instant as e1, greater event_id
    cp.push(n);
    cp.push(x);
    // Five attempts T0 + 11 .. 15 min: 4 declined, 3 merchants.
    const f = [11, 12, 13, 14, 15].map((m, i) => fact({ t: T0 + m * MIN, merchant: M[i % 3], approved: i === 4 }));
    for (const y of f) cp.push(y);
    // At f[4]: its window [T0 + 5, T0 + 15 min] holds n and f[0..4]: 6 attempts, 4 declined, 3 merchants. Earlier windows hold fewer.
    expect(out.map((a) => [a.kind, a.rrn])).toEqual([['CARD_TESTING', f[4].rrn]]);
    expect(ids(out[0].evidence.bank)).toEqual(ids([n, ...f]));
  });

  it('after widening a window by a reload, a kept debit exactly at the new window start counts again', () => {
    const narrow = only('cardVelocity', { minDebits: 3, windowMs: 10 * MIN });
    const wide = only('cardVelocity', { minDebits: 3, windowMs: 20 * MIN });
    let r = narrow;
    const { out, cp } = patterns(() => r);
    const d0 = fact({ t: T0 });
    const d1 = fact({ t: T0 + 11 * MIN });
    cp.push(d0);
    cp.push(d1); // d0 leaves the 10-minute window, kept as history (lateness 10 min)
    r = wide;
    const d2 = fact({ t: T0 + 20 * MIN }); // its 20-minute window starts exactly at d0
    cp.push(d2);
    expect(out.map((a) => [a.kind, a.rrn])).toEqual([['CARD_VELOCITY', d2.rrn]]);
    expect(ids(out[0].evidence.bank)).toEqual(ids([d0, d1, d2]));
  });
});

describe('a kind disabled by a reload', () => {
  it('drops its window at the next clean-up, even when the card\'s clean-up came early; re-enabled it starts from an empty window', () => {
    const on = only('cardTesting');
    const off = buildRules({ cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false } });
    let r: Rules = on;
    const { out, cp } = patterns(() => r);
    cp.push(fact({ t: T0, merchant: M[0], approved: false }));
    cp.push(fact({ t: T0 + 15 * MIN, merchant: M[2], approved: false }));
    r = off;
    // The card's clean-up is due when T0's window and lateness are over (T0 + 20 min).
    cp.advance(T0 + 21 * MIN);
    expect(cp.activeCards()).toBe(0);
    r = on;
    // Five attempts, 3 declined, 2 merchants: not enough on their own (the T0 + 15 min attempt is gone).
    for (let i = 0; i < 5; i++) cp.push(fact({ t: T0 + (16 + i) * MIN, merchant: M[i % 2], approved: i >= 3 }));
    expect(out).toEqual([]);
  });
});
