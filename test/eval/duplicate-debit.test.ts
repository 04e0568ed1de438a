/**
 * DUPLICATE_DEBIT in the batch reference, by hand from docs/semantics.md:
 * duplicate_window 600 s, reversal_grace 300 s, horizon 24 h. Every attempt
 * completes at the terminal (no orphans): duplicates do not depend on it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { anomalyId } from '../../src/events/anomaly.js';
import { checkedReference } from '../support/engine-vs-reference.js';
import { DAY, EventBuilder, MIN, T0, type AttemptOptions } from './builders.js';
import { brief, onlyKind } from './support.js';

const R1 = 'RRN000000001';
const R2 = 'RRN000000002';
const R3 = 'RRN000000003';

/** One completed sale per entry; same card, merchant, amount and currency unless overridden. */
function sales(...attempts: (Partial<AttemptOptions> & { t: number; rrn: string })[]): EventBuilder {
  const b = new EventBuilder();
  attempts.forEach((a, i) => b.attempt({ stan: String(i + 1).padStart(6, '0'), ...a }));
  return b;
}
const dup = (rrn: string, related: string[], status = 'OPEN') => ({ kind: 'DUPLICATE_DEBIT', rrn, cause: null, status, related_rrns: related });

describe('DUPLICATE_DEBIT', () => {
  it('two equal debits 600 s apart: D2 is a duplicate of D1, keyed by R2 (and nothing else fires)', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + 10 * MIN, rrn: R2 });
    const all = checkedReference(b.streams(), DEFAULT_RULES);
    expect(all.map(brief)).toEqual([dup(R2, [R1])]);
    expect(all[0]).toMatchObject({ anomaly_id: anomalyId('DUPLICATE_DEBIT', R2), event_time: T0 + 10 * MIN, stan: '000002', severity: 'high', version: 1 });
    expect(all[0].evidence.bank.map((e) => e.detail?.rrn)).toEqual([R1, R2]);
  });

  it('600.001 s apart is outside the window', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + 10 * MIN + 1, rrn: R2 });
    expect(checkedReference(b.streams(), DEFAULT_RULES)).toEqual([]);
  });

  it('equal times: the smaller rrn is D1', () => {
    const b = sales({ t: T0, rrn: R2 }, { t: T0, rrn: R1 });
    expect(checkedReference(b.streams(), DEFAULT_RULES).map(brief)).toEqual([dup(R2, [R1])]);
  });

  it('order in time, not in the files: the later debit is D2 whichever was read first', () => {
    const b = sales({ t: T0 + MIN, rrn: R1 }, { t: T0, rrn: R2 });
    expect(checkedReference(b.streams(), DEFAULT_RULES).map(brief)).toEqual([dup(R1, [R2])]);
  });

  it.each([
    ['card_token', { card_token: 'tok_card_B' }],
    ['merchant_id', { merchant_id: 'MERCHANT0000002' }],
    ['amount_minor', { amount_minor: 1_501 }],
    ['currency', { currency: 'USD' }],
  ])('a different %s is not a duplicate', (_field, diff) => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + MIN, rrn: R2, ...diff });
    expect(checkedReference(b.streams(), DEFAULT_RULES)).toEqual([]);
  });

  it('a different terminal (same merchant) is still a duplicate', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + MIN, rrn: R2, terminal_id: 'TERM0002' });
    expect(checkedReference(b.streams(), DEFAULT_RULES).map(brief)).toEqual([dup(R2, [R1])]);
  });

  it('a reversed D1 (within its grace) cancels it', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + MIN, rrn: R2 });
    b.bank('REVERSAL_APPLIED', { orig_rrn: R1, event_time: T0 + 5 * MIN });
    expect(checkedReference(b.streams(), DEFAULT_RULES)).toEqual([]);
  });

  it('a reversed D2 (within its grace) cancels it', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + MIN, rrn: R2 });
    b.bank('REFUND_POSTED', { orig_rrn: R2, event_time: T0 + MIN + 5 * MIN });
    expect(checkedReference(b.streams(), DEFAULT_RULES)).toEqual([]);
  });

  it('D1 reversed after its grace: still a duplicate, AUTO_RESOLVED', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + MIN, rrn: R2 });
    b.bank('REVERSAL_APPLIED', { orig_rrn: R1, event_time: T0 + 5 * MIN + 1 });
    expect(checkedReference(b.streams(), DEFAULT_RULES).map(brief)).toEqual([dup(R2, [R1], 'AUTO_RESOLVED')]);
  });

  it('D2 reversed at its t + 24 h: AUTO_RESOLVED; one ms later: OPEN', () => {
    const at = (time: number) => {
      const b = sales({ t: T0, rrn: R1 }, { t: T0 + MIN, rrn: R2 });
      b.bank('REVERSAL_APPLIED', { orig_rrn: R2, event_time: time });
      return checkedReference(b.streams(), DEFAULT_RULES).map(brief);
    };
    expect(at(T0 + MIN + DAY)).toEqual([dup(R2, [R1], 'AUTO_RESOLVED')]);
    expect(at(T0 + MIN + DAY + 1)).toEqual([dup(R2, [R1], 'OPEN')]);
  });

  it('three debits within the window: D2 relates R1, D3 relates R1 and R2', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + 5 * MIN, rrn: R2 }, { t: T0 + 10 * MIN, rrn: R3 });
    expect(checkedReference(b.streams(), DEFAULT_RULES).map(brief)).toEqual([dup(R2, [R1]), dup(R3, [R1, R2])]);
  });

  it('three debits, the first out of the third\'s window: D3 relates R2 only', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + 5 * MIN, rrn: R2 }, { t: T0 + 10 * MIN + 1, rrn: R3 });
    expect(checkedReference(b.streams(), DEFAULT_RULES).map(brief)).toEqual([dup(R2, [R1]), dup(R3, [R2])]);
  });

  it('three debits, D1 reversed in grace: only D3 is a duplicate, of D2', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + 5 * MIN, rrn: R2 }, { t: T0 + 10 * MIN, rrn: R3 });
    b.bank('REVERSAL_APPLIED', { orig_rrn: R1, event_time: T0 + MIN });
    expect(checkedReference(b.streams(), DEFAULT_RULES).map(brief)).toEqual([dup(R3, [R2])]);
  });

  it('status: AUTO_RESOLVED when any related R1 went back after its grace', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + 5 * MIN, rrn: R2 }, { t: T0 + 10 * MIN, rrn: R3 });
    b.bank('REVERSAL_APPLIED', { orig_rrn: R1, event_time: T0 + 60 * MIN + 1 });
    expect(checkedReference(b.streams(), DEFAULT_RULES).map(brief)).toEqual([dup(R2, [R1], 'AUTO_RESOLVED'), dup(R3, [R1, R2], 'AUTO_RESOLVED')]);
  });

  it('an AUTH_DECLINED or a REFUND approval is not a debit', () => {
    const b = sales({ t: T0, rrn: R1 });
    b.bank('AUTH_DECLINED', { rrn: R2, stan: '000002', event_time: T0 + MIN });
    b.bank('AUTH_APPROVED', { rrn: R3, stan: '000003', event_time: T0 + 2 * MIN, txn_type: 'REFUND' });
    expect(checkedReference(b.streams(), DEFAULT_RULES)).toEqual([]);
  });

  it('the window comes from the rules; disabled means not evaluated', () => {
    const b = sales({ t: T0, rrn: R1 }, { t: T0 + 2 * MIN, rrn: R2 });
    expect(checkedReference(b.streams(), onlyKind('DUPLICATE_DEBIT', { duplicateDebit: { windowMs: 119_999 } }))).toEqual([]);
    expect(checkedReference(b.streams(), onlyKind('DUPLICATE_DEBIT', { duplicateDebit: { windowMs: 120_000 } })).map(brief)).toEqual([dup(R2, [R1])]);
    expect(checkedReference(b.streams(), onlyKind('ORPHAN_DEBIT'))).toEqual([]);
  });
});
