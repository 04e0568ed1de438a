/**
 * CARD_VELOCITY in the batch reference, by hand from docs/semantics.md: within
 * 3600 s, >= 10 debits, or debits summing to >= 5,000,000 in one currency.
 */
import { describe, expect, it } from 'vitest';
import { anomalyId } from '../../src/events/anomaly.js';
import { checkedReference } from '../support/engine-vs-reference.js';
import { DAY, EventBuilder, MIN, T0 } from './builders.js';
import { onlyKind } from './support.js';

const CARD = 'tok_card_V';
const rules = onlyKind('CARD_VELOCITY');
const rrnOf = (n: number) => `RRN${String(n).padStart(9, '0')}`;

/** Debits on one card: [time, amount, currency]; rrn i+first. */
type Debit = [time: number, amount?: number, currency?: string];
function debits(b: EventBuilder, list: Debit[], first = 1) {
  return list.map(([time, amount = 1_000, currency = 'EUR'], i) => b.bank('AUTH_APPROVED', {
    event_time: time, amount_minor: amount, currency, card_token: CARD, rrn: rrnOf(first + i), stan: String(first + i).padStart(6, '0'),
  }));
}
const every5min = (n: number): Debit[] => Array.from({ length: n }, (_, i): Debit => [T0 + i * 5 * MIN]);

function run(list: Debit[], extra?: (b: EventBuilder) => void) {
  const b = new EventBuilder();
  debits(b, list);
  extra?.(b);
  return checkedReference(b.streams(), rules);
}

describe('CARD_VELOCITY', () => {
  it('10 debits within the hour: fires at the 10th, the other 9 related', () => {
    const all = run(every5min(10));
    expect(all.map((a) => [a.anomaly_id, a.kind, a.rrn, a.status, a.event_time])).toEqual([
      [anomalyId('CARD_VELOCITY', `${CARD}|2024-03-01`), 'CARD_VELOCITY', rrnOf(10), 'OPEN', T0 + 45 * MIN],
    ]);
    expect(all[0].related_rrns).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map(rrnOf));
    expect(all[0]).toMatchObject({ card_token: CARD, severity: 'warning', amount_minor: 1_000, currency: 'EUR' });
  });

  it('9 debits: nothing', () => {
    expect(run(every5min(9))).toEqual([]);
  });

  it('window boundary: the 10th exactly 3600 s after the 1st fires; 3600.001 s does not', () => {
    expect(run([...every5min(9), [T0 + 60 * MIN]]).map((a) => a.rrn)).toEqual([rrnOf(10)]);
    expect(run([...every5min(9), [T0 + 60 * MIN + 1]])).toEqual([]);
  });

  it('sum: 2 x 2,500,000 EUR fires at the second, relating the first', () => {
    const all = run([[T0, 2_500_000], [T0 + 10 * MIN, 2_500_000]]);
    expect(all.map((a) => [a.rrn, a.related_rrns])).toEqual([[rrnOf(2), [rrnOf(1)]]]);
  });

  it('sum: 4,999,999 does not fire', () => {
    expect(run([[T0, 2_500_000], [T0 + 10 * MIN, 2_499_999]])).toEqual([]);
  });

  it('sum is per currency: 2,500,000 EUR + 2,500,000 USD does not fire', () => {
    expect(run([[T0, 2_500_000, 'EUR'], [T0 + 10 * MIN, 2_500_000, 'USD']])).toEqual([]);
  });

  it('sum is in the trigger\'s currency; only those debits are related', () => {
    const all = run([[T0, 2_500_000, 'EUR'], [T0 + MIN, 3_000_000, 'USD'], [T0 + 2 * MIN, 2_500_000, 'EUR']]);
    expect(all.map((a) => [a.rrn, a.related_rrns])).toEqual([[rrnOf(3), [rrnOf(1)]]]);
  });

  it('reversed debits still count', () => {
    const all = run([[T0, 2_500_000], [T0 + 10 * MIN, 2_500_000]], (b) => {
      b.bank('REVERSAL_APPLIED', { orig_rrn: rrnOf(1), event_time: T0 + 1_000 });
    });
    expect(all.map((a) => a.rrn)).toEqual([rrnOf(2)]);
  });

  it('declines, refunds and repeated AUTH_APPROVED of one rrn are not extra debits', () => {
    const all = run(every5min(9), (b) => {
      b.bank('AUTH_DECLINED', { card_token: CARD, rrn: rrnOf(50), event_time: T0 + 46 * MIN });
      b.bank('AUTH_APPROVED', { card_token: CARD, rrn: rrnOf(51), event_time: T0 + 47 * MIN, txn_type: 'REFUND' });
      b.bank('AUTH_APPROVED', { card_token: CARD, rrn: rrnOf(9), event_time: T0 + 48 * MIN, amount_minor: 1_000 });
    });
    expect(all).toEqual([]);
  });

  it('one per card and UTC day; the next day fires again', () => {
    const b = new EventBuilder();
    debits(b, every5min(12));
    debits(b, every5min(10).map(([t]): Debit => [t + DAY]), 20);
    expect(checkedReference(b.streams(), rules).map((a) => [a.anomaly_id, a.rrn])).toEqual([
      [anomalyId('CARD_VELOCITY', `${CARD}|2024-03-01`), rrnOf(10)],
      [anomalyId('CARD_VELOCITY', `${CARD}|2024-03-02`), rrnOf(29)],
    ]);
  });
});
