import { describe, expect, it } from 'vitest';
import { anomalyId, utcDay } from '../../../src/events/anomaly.js';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import type { CardFact } from '../../../src/detect/patterns/types.js';
import { collector, DAY, fact, HOUR, MIN, only, rules, T0 } from './helpers.js';
import { expectPipelineAgreesOnFacts } from './through-engine.js';

const M = ['M00000000000001', 'M00000000000002', 'M00000000000003'];

/** n small attempts one minute apart; `declined[i]` and merchant i % merchants. */
function burst(start: number, n: number, opts: { declined?: boolean[]; merchants?: number; amount?: number; card?: string } = {}): CardFact[] {
  const declined = opts.declined ?? [true, true, false, true, false, true];
  const merchants = opts.merchants ?? 3;
  return Array.from({ length: n }, (_, i) => fact({
    t: start + i * MIN,
    card: opts.card,
    merchant: M[i % merchants],
    approved: !declined[i % declined.length],
    amount: opts.amount ?? 500,
  }));
}

function run(facts: readonly CardFact[], rules = only('cardTesting')) {
  expectPipelineAgreesOnFacts(facts, rules);
  const { out, emit } = collector();
  const cp = new CardPatterns(() => rules, emit);
  for (const f of facts) cp.push(f);
  return { out, cp };
}

describe('CARD_TESTING', () => {
  it('fires at the 6th small attempt: 4 declined, 3 merchants, within 600 s', () => {
    const facts = burst(T0, 6);
    const { out } = run(facts);
    expect(out).toHaveLength(1);
    const a = out[0];
    const trigger = facts[5];
    expect(a.kind).toBe('CARD_TESTING');
    expect(a.anomaly_id).toBe(anomalyId('CARD_TESTING', `card-A|${utcDay(T0)}`));
    expect(a).toMatchObject({
      status: 'OPEN', version: 1, severity: 'high', cause: null, event_time: trigger.event_time,
      rrn: trigger.rrn, card_token: 'card-A', merchant_id: trigger.merchant_id, stan: trigger.stan,
      amount_minor: 500, currency: 'EUR',
    });
    expect(a.related_rrns).toEqual(facts.slice(0, 5).map((f) => f.rrn).sort());
    expect(a.evidence.bank.map((e) => e.event_id)).toEqual(facts.map((f) => f.event_id));
    expect(a.evidence.bank[0]).toMatchObject({ event_type: 'AUTH_DECLINED', event_time: T0, detail: { merchant_id: M[0], amount_minor: 500, currency: 'EUR' } });
    expect(a.evidence.bank[2].event_type).toBe('AUTH_APPROVED');
    expect(a.evidence.terminal).toEqual([]);
  });

  it('near misses: 5 attempts, 3 declined, 2 merchants', () => {
    expect(run(burst(T0, 5)).out).toHaveLength(0);
    expect(run(burst(T0, 6, { declined: [true, true, true, false, false, false] })).out).toHaveLength(0);
    expect(run(burst(T0, 6, { merchants: 2 })).out).toHaveLength(0);
  });

  it('an attempt is small at exactly maxAmountMinor, not one above', () => {
    const atLimit = burst(T0, 6, { amount: 2000 });
    expect(run(atLimit).out).toHaveLength(1);
    const over = burst(T0, 6, { amount: 2000 });
    over[5] = { ...over[5], amount_minor: 2001 };
    expect(run(over).out).toHaveLength(0);
  });

  it('counts any txn_type, approved or declined (a small approved REFUND is an attempt)', () => {
    const facts = burst(T0, 6);
    facts[2] = { ...facts[2], txn_type: 'REFUND', debit: false };
    expect(run(facts).out).toHaveLength(1);
  });

  it('window boundary: exactly 600 s apart counts, 600 s + 1 ms does not', () => {
    const inside = burst(T0, 6);
    inside[5] = { ...inside[5], event_time: T0 + 10 * MIN };
    const r1 = run(inside);
    expect(r1.out).toHaveLength(1);
    expect(r1.out[0].evidence.bank).toHaveLength(6);
    const outside = burst(T0, 6);
    outside[5] = { ...outside[5], event_time: T0 + 10 * MIN + 1 };
    expect(run(outside).out).toHaveLength(0);
  });

  it('one per card and UTC day: a second burst the same day gives nothing, the next day a new anomaly', () => {
    const day1a = burst(T0, 6);
    const day1b = burst(T0 + 3 * HOUR, 6);
    const day2 = burst(T0 + DAY, 6);
    const { out } = run([...day1a, ...day1b, ...day2]);
    expect(out).toHaveLength(2);
    expect(out[0].event_time).toBe(day1a[5].event_time);
    expect(out[1].event_time).toBe(day2[5].event_time);
    expect(out[1].anomaly_id).toBe(anomalyId('CARD_TESTING', `card-A|${utcDay(T0 + DAY)}`));
    expect(out[1].anomaly_id).not.toBe(out[0].anomaly_id);
  });

  it('a window across midnight fires again at the first attempt of the new day', () => {
    const midnight = Date.UTC(2024, 2, 11);
    const facts = burst(midnight - 6 * MIN, 7); // 23:54 .. 00:00
    const { out } = run(facts);
    expect(out.map((a) => a.event_time)).toEqual([facts[5].event_time, facts[6].event_time]);
    expect(out.map((a) => utcDay(a.event_time))).toEqual(['2024-03-10', '2024-03-11']);
    expect(out[1].evidence.bank).toHaveLength(7);
  });

  it('cards are independent', () => {
    const a = burst(T0, 5, { card: 'card-A' });
    const b = burst(T0, 1, { card: 'card-B' });
    expect(run([...a, ...b]).out).toHaveLength(0);
  });

  it('thresholds come from the rules', () => {
    const loose = only('cardTesting', { minAttempts: 5, minDeclined: 3, minMerchants: 2, severity: 'critical' });
    const { out } = run(burst(T0, 5), loose);
    expect(out).toHaveLength(1);
    expect(out[0].severity).toBe('critical');
  });

  it('disabled: nothing is emitted, and a card no enabled pattern needs keeps no state', () => {
    const velocityOnly = only('cardVelocity', { minDebits: 1000 });
    const r1 = run(burst(T0, 6), velocityOnly);
    expect(r1.out).toHaveLength(0);
    expect(r1.cp.activeCards()).toBe(1); // its approved attempts are debits, which CARD_VELOCITY still tracks
    const allOff = rules({ cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false } });
    const r2 = run(burst(T0, 6), allOff);
    expect(r2.out).toHaveLength(0);
    expect(r2.cp.activeCards()).toBe(0);
  });
});
