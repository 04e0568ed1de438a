/**
 * Where a late fact's re-evaluation must stop, for CARD_TESTING and
 * CARD_VELOCITY: a held event exactly windowMs after the late fact still has
 * it in its (inclusive) window; a held event further on does not, and its
 * anomaly is unchanged, so it gets no new version. Expectations by hand from
 * docs/semantics.md ("Fraud-like patterns": e.time - windowMs <= time) and
 * docs/rules.md (a changed anomaly gets a new version).
 */
import { describe, expect, it } from 'vitest';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import { buildRules, type Rules } from '../../../src/config/rules.js';
import { collector, fact, MIN, only, T0 } from './helpers.js';

const M = ['M00000000000001', 'M00000000000002', 'M00000000000003'];
const ids = (xs: readonly { event_id: string }[]): string[] => xs.map((x) => x.event_id);

function patterns(r: Rules) {
  const { out, emit } = collector();
  return { out, cp: new CardPatterns(() => r, emit) };
}

describe('CARD_TESTING: a late attempt and the end of its window', () => {
  it('completes the window of a held attempt exactly 600 s after it', () => {
    const { out, cp } = patterns(only('cardTesting'));
    // Five attempts T0 + 2 .. 10 min, 3 declined, 3 merchants: not enough.
    const a = [2, 4, 6, 8, 10].map((m, i) => fact({ t: T0 + m * MIN, merchant: M[i % 3], approved: i >= 3 }));
    for (const f of a) cp.push(f);
    const late = fact({ t: T0, merchant: M[2], approved: false, late: true });
    cp.push(late);
    // a[4]'s window [T0, T0 + 10 min] now holds 6 attempts, 4 declined, 3 merchants; no earlier one does.
    expect(out.map((x) => [x.rrn, x.version])).toEqual([[a[4].rrn, 1]]);
    expect(ids(out[0].evidence.bank)).toEqual(ids([late, ...a]));
  });

  it('a late attempt in no held attempt\'s window leaves their anomaly unchanged: no new version', () => {
    const base = only('cardTesting');
    const r = buildRules({ ...base, time: { ...base.time, allowedLatenessMs: 30 * MIN } });
    const { out, cp } = patterns(r);
    for (let i = 0; i < 6; i++) cp.push(fact({ t: T0 + i * MIN, merchant: M[i % 3], approved: i >= 4 }));
    expect(out).toHaveLength(1);
    cp.advance(T0 + 6 * MIN);
    cp.push(fact({ t: T0 - 20 * MIN, approved: false, late: true })); // 20 min before the first: in none of their windows
    expect(out).toHaveLength(1);
  });
});

describe('CARD_VELOCITY: a late debit and the end of its window', () => {
  it('completes the window of a held debit exactly 1 h after it', () => {
    const { out, cp } = patterns(only('cardVelocity', { minDebits: 3 }));
    const d1 = fact({ t: T0 + 30 * MIN });
    const d2 = fact({ t: T0 + 60 * MIN });
    cp.push(d1);
    cp.push(d2);
    const d0 = fact({ t: T0, late: true });
    cp.push(d0);
    expect(out.map((x) => [x.rrn, x.version])).toEqual([[d2.rrn, 1]]);
    expect(ids(out[0].evidence.bank)).toEqual(ids([d0, d1, d2]));
  });
});
