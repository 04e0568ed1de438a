/**
 * The records of the pattern kinds (docs/semantics.md, Identity: "card
 * patterns, the bank events that made it fire, the location as detail";
 * TERMINAL_FAULT_SPIKE, the signals in the window): related rrns sorted and
 * without the trigger's; the location only where it decided (travel); a
 * signal's detail names only what it has.
 */
import { describe, expect, it } from 'vitest';
import { cardPatternAnomaly, faultSpikeAnomaly, relatedRrns } from '../../../src/detect/patterns/pattern-anomaly.js';
import { fact, signal, T0 } from './helpers.js';

describe('card pattern records', () => {
  it('related rrns: the other events\' rrns, once each, sorted whatever the window order', () => {
    const trigger = fact({ t: T0 + 3, rrn: 'RRN0000000B' });
    const events = [fact({ t: T0, rrn: 'RRN0000000Z' }), fact({ t: T0 + 1, rrn: 'RRN0000000A' }), fact({ t: T0 + 2, rrn: 'RRN0000000Z' }), trigger];
    expect(relatedRrns(trigger, events)).toEqual(['RRN0000000A', 'RRN0000000Z']);
    expect(cardPatternAnomaly('CARD_VELOCITY', 'warning', trigger, events).related_rrns).toEqual(['RRN0000000A', 'RRN0000000Z']);
  });

  it('CARD_TESTING and CARD_VELOCITY evidence: rrn, merchant, amount, currency; no location', () => {
    const f = fact({ t: T0, rrn: 'RRN000000001', merchant: 'M00000000000007', amount: 900, currency: 'PLN', lat: 52.2, lon: 21.0, approved: false });
    for (const kind of ['CARD_TESTING', 'CARD_VELOCITY'] as const) {
      const a = cardPatternAnomaly(kind, 'high', f, [f]);
      expect(a.evidence.bank).toEqual([{
        event_id: f.event_id, event_type: 'AUTH_DECLINED', event_time: T0,
        detail: { rrn: 'RRN000000001', merchant_id: 'M00000000000007', amount_minor: 900, currency: 'PLN' },
      }]);
      expect(a.evidence.terminal).toEqual([]);
      expect(a.evidence.gateway).toEqual([]);
    }
  });

  it('IMPOSSIBLE_TRAVEL evidence carries each debit\'s location', () => {
    const d1 = fact({ t: T0, lat: 52.2, lon: 21.0 });
    const d2 = fact({ t: T0 + 60_000, lat: 48.9, lon: 2.35 });
    const a = cardPatternAnomaly('IMPOSSIBLE_TRAVEL', 'high', d2, [d1, d2]);
    expect(a.evidence.bank.map((e) => [e.event_type, e.detail?.lat, e.detail?.lon])).toEqual([['AUTH_APPROVED', 52.2, 21.0], ['AUTH_APPROVED', 48.9, 2.35]]);
  });
});

describe('fault spike records', () => {
  it('a DEVICE_FAULT\'s detail: its stan and component, no failure reason', () => {
    const s = signal({ t: T0 });
    const a = faultSpikeAnomaly('warning', s, [s]);
    expect(a.evidence.terminal).toEqual([{ event_id: s.event_id, event_type: 'DEVICE_FAULT', event_time: T0, detail: { stan: s.stan, fault_component: 'CARD_READER' } }]);
  });

  it('a TXN_FAILED\'s detail: its stan and failure reason, no component', () => {
    const s = signal({ t: T0, type: 'TXN_FAILED', reason: 'PRINTER_ERROR' });
    const a = faultSpikeAnomaly('warning', s, [s]);
    expect(a.evidence.terminal[0].detail).toEqual({ stan: s.stan, failure_reason: 'PRINTER_ERROR' });
  });
});
