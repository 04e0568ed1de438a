/** The backtest diff: final states by anomaly_id, RETRACTED counts as absent, only the period counts. */
import { describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import { diffStates, FinalStates } from '../../src/backtest/diff.js';

const T0 = Date.UTC(2026, 10, 1, 12);
const base: Anomaly = {
  anomaly_id: 'a', kind: 'ORPHAN_DEBIT', cause: 'REVERSAL_LOST', status: 'OPEN', severity: 'high', version: 1, event_time: T0, detected_at: 0,
  terminal_id: 'TRM00001', merchant_id: 'MRC000000000001', card_token: 'tok_1', rrn: '000000000001', stan: '000001', issuer_id: 'BNK1',
  amount_minor: 100, currency: 'EUR', related_rrns: [], evidence: { terminal: [], gateway: [], bank: [] },
};
const a = (over: Partial<Anomaly>): Anomaly => ({ ...base, ...over });

function states(label: string, xs: Anomaly[]): FinalStates {
  const s = new FinalStates(label);
  for (const x of xs) s.add(x);
  return s;
}

describe('diffStates', () => {
  it('added, removed, changed by final version; RETRACTED and out-of-period count as absent', () => {
    const b = states('baseline', [
      a({ anomaly_id: 'same' }),
      a({ anomaly_id: 'gone' }),
      a({ anomaly_id: 'recaused' }),
      a({ anomaly_id: 'retracted-later' }), a({ anomaly_id: 'retracted-later', version: 2, status: 'RETRACTED' }),
      a({ anomaly_id: 'outside', event_time: T0 - 3_600_000 }),
    ]);
    const c = states('candidate', [
      a({ anomaly_id: 'same' }),
      a({ anomaly_id: 'recaused', cause: 'UNEXPLAINED', version: 2 }), a({ anomaly_id: 'recaused', version: 1 }), // an older version given last changes nothing
      a({ anomaly_id: 'retracted-later', status: 'AUTO_RESOLVED' }),
      a({ anomaly_id: 'new', kind: 'CARD_TESTING', cause: null, event_time: T0 + 1 }),
      a({ anomaly_id: 'outside', event_time: T0 - 3_600_000, status: 'AUTO_RESOLVED' }),
    ]);
    const d = diffStates(b.byId, c.byId, T0 - 60_000, T0 + 60_000);
    expect(d.map((e) => [e.change, e.anomaly_id, e.fields])).toEqual([
      ['removed', 'gone', []],
      ['changed', 'recaused', ['cause']],
      ['added', 'retracted-later', []],
      ['added', 'new', []],
    ]);
  });

  it('stops with one clear line past its bound instead of growing without limit', () => {
    const s = new FinalStates('candidate', 2);
    s.add(a({ anomaly_id: 'x' }));
    s.add(a({ anomaly_id: 'y' }));
    s.add(a({ anomaly_id: 'y', version: 2 }));
    expect(() => s.add(a({ anomaly_id: 'z' }))).toThrow('backtest: more than 2 anomalies under the candidate rules; narrow the period (--from/--to)');
  });
});
