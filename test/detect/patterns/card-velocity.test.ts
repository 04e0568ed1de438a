import { describe, expect, it } from 'vitest';
import { anomalyId, utcDay } from '../../../src/events/anomaly.js';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import type { CardFact } from '../../../src/detect/patterns/types.js';
import { collector, DAY, fact, HOUR, MIN, only, T0 } from './helpers.js';
import { expectPipelineAgreesOnFacts } from './through-engine.js';

/** n debits of `amount`, `gap` apart. */
function debits(start: number, n: number, amount = 10_000, gap = 5 * MIN, currency = 'EUR'): CardFact[] {
  return Array.from({ length: n }, (_, i) => fact({ t: start + i * gap, amount, currency }));
}

function run(facts: readonly CardFact[], rules = only('cardVelocity')) {
  expectPipelineAgreesOnFacts(facts, rules);
  const { out, emit } = collector();
  const cp = new CardPatterns(() => rules, emit);
  for (const f of facts) cp.push(f);
  return { out, cp };
}

describe('CARD_VELOCITY', () => {
  it('fires at the 10th debit within 3600 s; 9 debits do not', () => {
    const ten = debits(T0, 10);
    const { out } = run(ten);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      kind: 'CARD_VELOCITY', severity: 'warning', status: 'OPEN', version: 1, rrn: ten[9].rrn, event_time: ten[9].event_time,
      anomaly_id: anomalyId('CARD_VELOCITY', `card-A|${utcDay(T0)}`),
    });
    expect(out[0].related_rrns).toEqual(ten.slice(0, 9).map((f) => f.rrn).sort());
    expect(out[0].evidence.bank.map((e) => e.event_id)).toEqual(ten.map((f) => f.event_id));
    expect(run(debits(T0, 9)).out).toHaveLength(0);
  });

  it('counts debits only: declines and approved refunds are not debits', () => {
    const facts = [
      ...debits(T0, 9),
      fact({ t: T0 + 50 * MIN, approved: false }),
      fact({ t: T0 + 51 * MIN, txn_type: 'REFUND' }),
    ];
    expect(run(facts).out).toHaveLength(0);
    // PREAUTH is a debit
    expect(run([...debits(T0, 9), fact({ t: T0 + 52 * MIN, txn_type: 'PREAUTH' })]).out).toHaveLength(1);
  });

  it('window boundary: the 1st and 10th exactly 3600 s apart count, +1 ms does not', () => {
    const inside = debits(T0, 10, 10_000, 400 * 1000); // 9 gaps of 400 s = 3600 s
    expect(inside[9].event_time - inside[0].event_time).toBe(HOUR);
    expect(run(inside).out).toHaveLength(1);
    const outside = [...inside.slice(0, 9), { ...inside[9], event_time: inside[9].event_time + 1 }];
    expect(run(outside).out).toHaveLength(0);
  });

  it('sum in one currency: 5,000,000 fires, 4,999,999 does not', () => {
    const at = [fact({ t: T0, amount: 2_500_000 }), fact({ t: T0 + MIN, amount: 2_500_000 })];
    const { out } = run(at);
    expect(out).toHaveLength(1);
    expect(out[0].rrn).toBe(at[1].rrn);
    expect(out[0].related_rrns).toEqual([at[0].rrn]);
    expect(run([fact({ t: T0, amount: 2_499_999 }), fact({ t: T0 + MIN, amount: 2_500_000 })]).out).toHaveLength(0);
    // a single debit of the whole amount is enough
    expect(run([fact({ t: T0, amount: 5_000_000 })]).out).toHaveLength(1);
  });

  it('sums per currency: 3,000,000 EUR + 3,000,000 USD does not fire; evidence is the trigger currency', () => {
    expect(run([fact({ t: T0, amount: 3_000_000 }), fact({ t: T0 + MIN, amount: 3_000_000, currency: 'USD' })]).out).toHaveLength(0);
    const mixed = [
      fact({ t: T0, amount: 3_000_000 }),
      fact({ t: T0 + MIN, amount: 100, currency: 'USD' }),
      fact({ t: T0 + 2 * MIN, amount: 2_000_000 }),
    ];
    const { out } = run(mixed);
    expect(out).toHaveLength(1);
    expect(out[0].related_rrns).toEqual([mixed[0].rrn]);
    expect(out[0].evidence.bank.map((e) => e.event_id)).toEqual([mixed[0].event_id, mixed[2].event_id]);
  });

  it('sum boundary: a debit exactly 3600 s old still counts', () => {
    expect(run([fact({ t: T0, amount: 2_500_000 }), fact({ t: T0 + HOUR, amount: 2_500_000 })]).out).toHaveLength(1);
    expect(run([fact({ t: T0, amount: 2_500_000 }), fact({ t: T0 + HOUR + 1, amount: 2_500_000 })]).out).toHaveLength(0);
  });

  it('one per card and day: a spree later the same day gives nothing, the next day a new id', () => {
    const facts = [...debits(T0, 10), ...debits(T0 + 3 * HOUR, 10), ...debits(T0 + DAY, 10)];
    const { out } = run(facts);
    expect(out).toHaveLength(2);
    expect(out[0].anomaly_id).toBe(anomalyId('CARD_VELOCITY', `card-A|${utcDay(T0)}`));
    expect(out[1].anomaly_id).toBe(anomalyId('CARD_VELOCITY', `card-A|${utcDay(T0 + DAY)}`));
    expect(out[1].event_time).toBe(facts[29].event_time);
  });

  it('the same input gives the same ids and content in another run', () => {
    const facts = [...debits(T0, 12), ...debits(T0 + DAY, 10)];
    const a = run(facts).out.map(({ detected_at: _d, ...x }) => x);
    const b = run(facts).out.map(({ detected_at: _d, ...x }) => x);
    expect(a).toEqual(b);
    expect(a).toHaveLength(2);
  });
});
