/**
 * CARD_TESTING in the batch reference, by hand from docs/semantics.md: within
 * 600 s, >= 6 small attempts (<= 2000 minor), >= 4 declined, >= 3 merchants.
 */
import { describe, expect, it } from 'vitest';
import { anomalyId } from '../../src/events/anomaly.js';
import { checkedReference } from '../support/engine-vs-reference.js';
import { DAY, EventBuilder, HOUR, SEC, T0 } from './builders.js';
import { brief, onlyKind } from './support.js';

const CARD = 'tok_card_T';
const rules = onlyKind('CARD_TESTING');
const merchant = (n: number) => `MERCHANT${String(n).padStart(7, '0')}`;
const rrnOf = (n: number) => `RRN${String(n).padStart(9, '0')}`;

/** Small attempts on one card: [time, A(pproved)/D(eclined), merchant no., amount]. rrn i+first. */
type Try = [time: number, type: 'A' | 'D', merchant: number, amount?: number];
function tries(b: EventBuilder, list: Try[], first = 1, card = CARD) {
  return list.map(([time, type, m, amount = 500], i) => b.bank(type === 'A' ? 'AUTH_APPROVED' : 'AUTH_DECLINED', {
    event_time: time, merchant_id: merchant(m), amount_minor: amount, card_token: card, rrn: rrnOf(first + i), stan: String(first + i).padStart(6, '0'),
  }));
}

/** 6 attempts, a minute apart, 4 declined, merchants 1,2,3: fires at the 6th. */
const BURST: Try[] = [[T0, 'D', 1], [T0 + 60 * SEC, 'D', 2], [T0 + 120 * SEC, 'D', 3], [T0 + 180 * SEC, 'D', 1], [T0 + 240 * SEC, 'A', 2], [T0 + 300 * SEC, 'A', 3]];

function run(list: Try[]) {
  const b = new EventBuilder();
  tries(b, list);
  return checkedReference(b.streams(), rules);
}

describe('CARD_TESTING', () => {
  it('fires at the 6th small attempt, with the trigger\'s fields and the other 5 as related', () => {
    const all = run(BURST);
    expect(all.map(brief)).toEqual([{ kind: 'CARD_TESTING', rrn: rrnOf(6), cause: null, status: 'OPEN', related_rrns: [1, 2, 3, 4, 5].map(rrnOf) }]);
    expect(all[0]).toMatchObject({
      anomaly_id: anomalyId('CARD_TESTING', `${CARD}|2024-03-01`), event_time: T0 + 300 * SEC, card_token: CARD,
      merchant_id: merchant(3), stan: '000006', amount_minor: 500, currency: 'EUR', issuer_id: 'ISS001', terminal_id: 'TERM0001', severity: 'high',
    });
    expect(all[0].evidence.bank).toHaveLength(6);
  });

  it('5 attempts: nothing', () => {
    expect(run(BURST.slice(0, 5))).toEqual([]);
  });

  it('only 3 declined: nothing', () => {
    expect(run(BURST.map(([t, , m], i): Try => [t, i < 3 ? 'D' : 'A', m]))).toEqual([]);
  });

  it('only 2 merchants: nothing', () => {
    expect(run(BURST.map(([t, ty], i): Try => [t, ty, (i % 2) + 1]))).toEqual([]);
  });

  it('2000 minor units is small; 2001 is not', () => {
    expect(run(BURST.map(([t, ty, m]): Try => [t, ty, m, 2_000]))).toHaveLength(1);
    expect(run(BURST.map(([t, ty, m], i): Try => [t, ty, m, i === 2 ? 2_001 : 500]))).toEqual([]);
  });

  it('the window is closed at e.time - 600 s: included at exactly 600 s, not at 600.001 s', () => {
    const last = (time: number): Try[] => [...BURST.slice(0, 5), [time, 'A', 3]];
    expect(run(last(T0 + 600_000)).map((a) => a.rrn)).toEqual([rrnOf(6)]);
    expect(run(last(T0 + 600_001))).toEqual([]);
  });

  it('any txn_type counts (an approved REFUND of a small amount is an attempt)', () => {
    const b = new EventBuilder();
    const [, , , , , sixth] = tries(b, BURST);
    Object.assign(sixth, { txn_type: 'REFUND' });
    expect(checkedReference(b.streams(), rules)).toHaveLength(1);
  });

  it('attempts of two cards do not add up', () => {
    const b = new EventBuilder();
    tries(b, BURST.slice(0, 3), 1, 'tok_card_T');
    tries(b, BURST.slice(3), 4, 'tok_card_U');
    expect(checkedReference(b.streams(), rules)).toEqual([]);
  });

  it('a redelivered attempt (same event_id) counts once', () => {
    const b = new EventBuilder();
    const ev = tries(b, BURST.slice(0, 5));
    b.redeliver(ev[4]);
    expect(checkedReference(b.streams(), rules)).toEqual([]);
  });

  it('one per card and UTC day: later triggers that day add nothing; the next day fires again', () => {
    const b = new EventBuilder();
    tries(b, [...BURST, [T0 + 310 * SEC, 'D', 2]]);
    tries(b, BURST.map(([t, ty, m]): Try => [t + 2 * HOUR, ty, m]), 10);
    tries(b, BURST.map(([t, ty, m]): Try => [t + DAY, ty, m]), 20);
    expect(checkedReference(b.streams(), rules).map((a) => [a.anomaly_id, a.rrn])).toEqual([
      [anomalyId('CARD_TESTING', `${CARD}|2024-03-01`), rrnOf(6)],
      [anomalyId('CARD_TESTING', `${CARD}|2024-03-02`), rrnOf(25)],
    ]);
  });

  it('the day is the trigger\'s: a burst across midnight belongs to the day it fires', () => {
    const start = Date.UTC(2024, 2, 1, 23, 55, 0);
    const all = run(BURST.map(([t, ty, m]): Try => [t - T0 + start, ty, m])); // 6th at 00:00:00
    expect(all.map((a) => a.anomaly_id)).toEqual([anomalyId('CARD_TESTING', `${CARD}|2024-03-02`)]);
  });

  it('the thresholds come from the rules', () => {
    const b = new EventBuilder();
    tries(b, BURST.slice(0, 5));
    expect(checkedReference(b.streams(), onlyKind('CARD_TESTING', { cardTesting: { minAttempts: 5 } })).map((a) => a.rrn)).toEqual([rrnOf(5)]);
  });
});
