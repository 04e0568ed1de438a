/** AMOUNT_MISMATCH in the batch reference, by hand from docs/semantics.md. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { anomalyId } from '../../src/events/anomaly.js';
import { checkedReference } from '../support/engine-vs-reference.js';
import { DAY, EventBuilder, T0 } from './builders.js';
import { brief } from './support.js';

const R = 'RRN000000001';
const mismatch = (status = 'OPEN') => ({ kind: 'AMOUNT_MISMATCH', rrn: R, cause: null, status, related_rrns: [] });

/** A completed sale whose bank debit carries `debit` instead of the terminal's amount/currency. */
function saleWithDebit(debit: { amount_minor?: number; currency?: string }, omit: ('REQUEST_SENT' | 'TXN_COMPLETED')[] = []): EventBuilder {
  const b = new EventBuilder();
  b.attempt({ t: T0, omit: ['AUTH_APPROVED', ...omit] });
  b.bank('AUTH_APPROVED', { event_time: T0, ...debit });
  return b;
}

describe('AMOUNT_MISMATCH', () => {
  it('the bank took 1600 where the terminal asked 1500: OPEN, keyed by rrn, warning', () => {
    const all = checkedReference(saleWithDebit({ amount_minor: 1_600 }).streams(), DEFAULT_RULES);
    expect(all.map(brief)).toEqual([mismatch()]);
    expect(all[0]).toMatchObject({ anomaly_id: anomalyId('AMOUNT_MISMATCH', R), amount_minor: 1_600, currency: 'EUR', severity: 'warning', event_time: T0 });
  });

  it('a different currency is a mismatch too', () => {
    expect(checkedReference(saleWithDebit({ currency: 'USD' }).streams(), DEFAULT_RULES).map(brief)).toEqual([mismatch()]);
  });

  it('equal amount and currency: nothing', () => {
    expect(checkedReference(saleWithDebit({}).streams(), DEFAULT_RULES)).toEqual([]);
  });

  it('no REQUEST_SENT for the attempt: not evaluated', () => {
    expect(checkedReference(saleWithDebit({ amount_minor: 1_600 }, ['REQUEST_SENT']).streams(), DEFAULT_RULES)).toEqual([]);
  });

  it('several REQUEST_SENT: the earliest by terminal time decides', () => {
    const b = saleWithDebit({ amount_minor: 1_600 }, ['REQUEST_SENT']);
    b.terminal('REQUEST_SENT', { event_time: T0 - 2_000, amount_minor: 1_500 });
    b.terminal('REQUEST_SENT', { event_time: T0 - 3_000, amount_minor: 1_600 }); // earliest, matches
    expect(checkedReference(b.streams(), DEFAULT_RULES)).toEqual([]);

    const c = saleWithDebit({ amount_minor: 1_600 }, ['REQUEST_SENT']);
    c.terminal('REQUEST_SENT', { event_time: T0 - 2_000, amount_minor: 1_600 });
    c.terminal('REQUEST_SENT', { event_time: T0 - 3_000, amount_minor: 1_500 }); // earliest, differs
    expect(checkedReference(c.streams(), DEFAULT_RULES).map(brief)).toEqual([mismatch()]);
  });

  it('a REQUEST_SENT of another attempt does not count', () => {
    const b = saleWithDebit({ amount_minor: 1_600 }, ['REQUEST_SENT']);
    b.terminal('REQUEST_SENT', { event_time: T0 - 2_000, stan: '000002' });
    expect(checkedReference(b.streams(), DEFAULT_RULES)).toEqual([]);
  });

  it('reversals do not cancel it: reversed within the grace -> AUTO_RESOLVED', () => {
    const b = saleWithDebit({ amount_minor: 1_600 });
    b.bank('REVERSAL_APPLIED', { event_time: T0 + 1_000 });
    expect(checkedReference(b.streams(), DEFAULT_RULES).map(brief)).toEqual([mismatch('AUTO_RESOLVED')]);
  });

  it('a reversal at t + 24 h auto-resolves, at t + 24 h + 1 ms it does not; one stamped before t does', () => {
    const at = (time: number) => {
      const b = saleWithDebit({ amount_minor: 1_600 });
      b.bank('REVERSAL_APPLIED', { event_time: time });
      return checkedReference(b.streams(), DEFAULT_RULES).map(brief);
    };
    expect(at(T0 + DAY)).toEqual([mismatch('AUTO_RESOLVED')]);
    expect(at(T0 + DAY + 1)).toEqual([mismatch('OPEN')]);
    expect(at(T0 - 1_000)).toEqual([mismatch('AUTO_RESOLVED')]);
  });

  it('comes with an orphan when the terminal did not finish either', () => {
    const b = saleWithDebit({ amount_minor: 1_600 }, ['TXN_COMPLETED']);
    expect(checkedReference(b.streams(), DEFAULT_RULES).map((a) => [a.kind, a.rrn])).toEqual([['ORPHAN_DEBIT', R], ['AMOUNT_MISMATCH', R]]);
  });
});
