/**
 * The evidence the engine attaches to a debit anomaly (src/detect/evidence.ts):
 * every event of the attempt(s) behind the decision, per stream, in
 * (event_time, event_id) order, each with its type, its own clock's time and
 * the fields that decided: response code, failure reason, and the debit's rrn
 * (as `orig_rrn` on reversal messages, which carry their own rrn). Built by
 * hand from the events below.
 */
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import { EventBuilder, MIN, SEC, T0 } from '../eval/builders.js';

const RULES = buildRules({ cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false } });

function detect(b: EventBuilder): Anomaly[] {
  const last = new Map<string, Anomaly>();
  const engine = new Engine({ rules: () => RULES, output: { anomaly: (a) => last.set(a.anomaly_id, a) } });
  const s = b.streams();
  // Bank first, terminal last, each stream backwards: the evidence is in time order whatever the arrival order.
  for (const e of [...s.bank].reverse()) engine.push('bank', e);
  for (const e of [...s.gateway].reverse()) engine.push('gateway', e);
  for (const e of [...s.terminal].reverse()) engine.push('terminal', e);
  engine.end();
  return [...last.values()];
}

describe('debit anomaly evidence', () => {
  it('an orphan whose reversal the bank applied too late: every event, in order, with what decided', () => {
    const b = new EventBuilder();
    const skew = -90 * SEC; // the terminal clock is 90 s slow: its times stay its own
    const ev = b.attempt({ t: T0, terminalSkewMs: skew, omit: ['RESPONSE_RECEIVED', 'TXN_COMPLETED'] });
    const failed = b.terminal('TXN_FAILED', { event_time: T0 + 30 * SEC + skew, failure_reason: 'TIMEOUT', response_code: null });
    const sent = b.terminal('REVERSAL_SENT', { event_time: T0 + 31 * SEC + skew });
    const received = b.gateway('REVERSAL_RECEIVED', { event_time: T0 + 31 * SEC + 500 });
    const applied = b.bank('REVERSAL_APPLIED', { event_time: T0 + 6 * MIN });
    const out = detect(b);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'ORPHAN_DEBIT', cause: 'REVERSAL_NOT_APPLIED', status: 'AUTO_RESOLVED', event_time: T0 });
    const R = 'RRN000000001';
    expect(out[0].evidence).toEqual({
      terminal: [
        { event_id: ev.TXN_STARTED!.event_id, event_type: 'TXN_STARTED', event_time: T0 - 3 * SEC + skew },
        { event_id: ev.REQUEST_SENT!.event_id, event_type: 'REQUEST_SENT', event_time: T0 - 2_500 + skew },
        { event_id: failed.event_id, event_type: 'TXN_FAILED', event_time: T0 + 30 * SEC + skew, detail: { failure_reason: 'TIMEOUT' } },
        { event_id: sent.event_id, event_type: 'REVERSAL_SENT', event_time: T0 + 31 * SEC + skew },
      ],
      gateway: [
        { event_id: ev.REQUEST_RECEIVED!.event_id, event_type: 'REQUEST_RECEIVED', event_time: T0 - 2 * SEC, detail: { rrn: R } },
        { event_id: ev.FORWARDED_TO_ISSUER!.event_id, event_type: 'FORWARDED_TO_ISSUER', event_time: T0 - 1_500, detail: { rrn: R } },
        { event_id: ev.ISSUER_RESPONSE!.event_id, event_type: 'ISSUER_RESPONSE', event_time: T0 + 500, detail: { response_code: '00', rrn: R } },
        { event_id: ev.RESPONSE_SENT!.event_id, event_type: 'RESPONSE_SENT', event_time: T0 + 1_000, detail: { response_code: '00', rrn: R } },
        { event_id: received.event_id, event_type: 'REVERSAL_RECEIVED', event_time: T0 + 31_500, detail: { orig_rrn: R } },
      ],
      bank: [
        { event_id: ev.AUTH_APPROVED!.event_id, event_type: 'AUTH_APPROVED', event_time: T0, detail: { response_code: '00', rrn: R } },
        { event_id: applied.event_id, event_type: 'REVERSAL_APPLIED', event_time: T0 + 6 * MIN, detail: { response_code: '00', orig_rrn: R } },
      ],
    });
  });

  it('events at equal times are ordered by event_id; a refund and a rejected reversal name the debit as orig_rrn', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    const failed = b.terminal('TXN_FAILED', { event_time: ev.RESPONSE_RECEIVED!.event_time, failure_reason: 'PRINTER_ERROR' });
    b.bank('REVERSAL_REJECTED', { event_time: T0 + 10 * MIN });
    b.bank('REFUND_POSTED', { event_time: T0 + 10 * MIN });
    const out = detect(b);
    expect(out.map((a) => [a.cause, a.status])).toEqual([['TERMINAL_FAILED_AFTER_APPROVAL', 'AUTO_RESOLVED']]);
    expect(out[0].evidence.terminal.map((e) => [e.event_type, e.event_id])).toEqual([
      ['TXN_STARTED', ev.TXN_STARTED!.event_id],
      ['REQUEST_SENT', ev.REQUEST_SENT!.event_id],
      ['RESPONSE_RECEIVED', ev.RESPONSE_RECEIVED!.event_id],
      ['TXN_FAILED', failed.event_id],
    ]);
    // Equal bank times: by event_id (the rejected reversal was built first).
    expect(out[0].evidence.bank.map((e) => [e.event_type, e.event_time, e.detail])).toEqual([
      ['AUTH_APPROVED', T0, { response_code: '00', rrn: 'RRN000000001' }],
      ['REVERSAL_REJECTED', T0 + 10 * MIN, { response_code: '12', orig_rrn: 'RRN000000001' }],
      ['REFUND_POSTED', T0 + 10 * MIN, { response_code: '00', orig_rrn: 'RRN000000001' }],
    ]);
  });
});
