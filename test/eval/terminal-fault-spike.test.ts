/**
 * TERMINAL_FAULT_SPIKE in the batch reference, by hand from docs/semantics.md:
 * within 900 s of the terminal's own clock, >= 3 hardware signals.
 */
import { describe, expect, it } from 'vitest';
import { anomalyId } from '../../src/events/anomaly.js';
import { checkedReference } from '../support/engine-vs-reference.js';
import type { FailureReason } from '../../src/events/index.js';
import { DAY, EventBuilder, MIN, T0 } from './builders.js';
import { onlyKind } from './support.js';

const TERM = 'TERM0001';
const rules = onlyKind('TERMINAL_FAULT_SPIKE');

/** Terminal signals: [terminal time, 'FAULT' or a TXN_FAILED failure_reason]; stan i+1. */
type Signal = [time: number, what: 'FAULT' | FailureReason];
function signals(b: EventBuilder, list: Signal[], terminal_id = TERM) {
  return list.map(([event_time, what], i) => {
    const stan = String(i + 1).padStart(6, '0');
    return what === 'FAULT'
      ? b.terminal('DEVICE_FAULT', { event_time, stan, terminal_id })
      : b.terminal('TXN_FAILED', { event_time, stan, terminal_id, failure_reason: what });
  });
}
function run(list: Signal[]) {
  const b = new EventBuilder();
  signals(b, list);
  return checkedReference(b.streams(), rules);
}
const SPIKE: Signal[] = [[T0, 'FAULT'], [T0 + 5 * MIN, 'CARD_READ_ERROR'], [T0 + 15 * MIN, 'FAULT']];

describe('TERMINAL_FAULT_SPIKE', () => {
  it('3 signals within 900 s (inclusive): fires at the 3rd; rrn null, stan the trigger\'s', () => {
    const b = new EventBuilder();
    const ev = signals(b, SPIKE);
    const all = checkedReference(b.streams(), rules);
    expect(all).toEqual([{
      anomaly_id: anomalyId('TERMINAL_FAULT_SPIKE', `${TERM}|2024-03-01`),
      kind: 'TERMINAL_FAULT_SPIKE', cause: null, status: 'OPEN', severity: 'warning', version: 1,
      event_time: T0 + 15 * MIN, detected_at: 0,
      terminal_id: TERM, merchant_id: 'MERCHANT0000001', card_token: null, rrn: null, stan: '000003', issuer_id: null,
      amount_minor: null, currency: null, related_rrns: [],
      evidence: { terminal: expect.any(Array), gateway: [], bank: [] },
    }]);
    expect(all[0].evidence.terminal.map((e) => e.event_id)).toEqual(ev.map((e) => e.event_id));
  });

  it('a TXN_FAILED trigger carries its amount and currency', () => {
    const all = run([[T0, 'FAULT'], [T0 + MIN, 'FAULT'], [T0 + 2 * MIN, 'PRINTER_ERROR']]);
    expect(all.map((a) => [a.stan, a.amount_minor, a.currency])).toEqual([['000003', 1_500, 'EUR']]);
  });

  it('the 3rd at 900.001 s after the 1st: nothing', () => {
    expect(run([[T0, 'FAULT'], [T0 + 5 * MIN, 'FAULT'], [T0 + 15 * MIN + 1, 'FAULT']])).toEqual([]);
  });

  it('only CARD_READ_ERROR and PRINTER_ERROR failures are hardware signals', () => {
    expect(run([[T0, 'FAULT'], [T0 + MIN, 'TIMEOUT'], [T0 + 2 * MIN, 'APP_ERROR'], [T0 + 3 * MIN, 'FAULT']])).toEqual([]);
  });

  it('signals of another terminal do not count', () => {
    const b = new EventBuilder();
    signals(b, SPIKE.slice(0, 2));
    signals(b, SPIKE.slice(2), 'TERM0002');
    expect(checkedReference(b.streams(), rules)).toEqual([]);
  });

  it('a redelivered fault (same event_id) counts once', () => {
    const b = new EventBuilder();
    const [f] = signals(b, SPIKE.slice(0, 2));
    b.redeliver(f);
    expect(checkedReference(b.streams(), rules)).toEqual([]);
  });

  it('one per terminal and UTC day (of the terminal clock); the next day fires again', () => {
    const all = run([...SPIKE, [T0 + 16 * MIN, 'FAULT'], ...SPIKE.map(([t, w]): Signal => [t + DAY, w])]);
    expect(all.map((a) => [a.anomaly_id, a.event_time])).toEqual([
      [anomalyId('TERMINAL_FAULT_SPIKE', `${TERM}|2024-03-01`), T0 + 15 * MIN],
      [anomalyId('TERMINAL_FAULT_SPIKE', `${TERM}|2024-03-02`), T0 + DAY + 15 * MIN],
    ]);
  });

  it('the day is the trigger\'s terminal time', () => {
    const late = Date.UTC(2024, 2, 1, 23, 58);
    const all = run([[late, 'FAULT'], [late + MIN, 'FAULT'], [late + 2 * MIN, 'FAULT']]);
    expect(all.map((a) => a.anomaly_id)).toEqual([anomalyId('TERMINAL_FAULT_SPIKE', `${TERM}|2024-03-02`)]);
  });

  it('the threshold comes from the rules', () => {
    const b = new EventBuilder();
    signals(b, SPIKE.slice(0, 2));
    expect(checkedReference(b.streams(), onlyKind('TERMINAL_FAULT_SPIKE', { terminalFaultSpike: { minSignals: 2 } })).map((a) => a.stan)).toEqual(['000002']);
  });
});
