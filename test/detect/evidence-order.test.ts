/**
 * Evidence order at equal times (docs/semantics.md: evidence in (event_time,
 * event_id) order), with the events arriving in event_id order. The existing
 * evidence test feeds each stream backwards; a comparator that puts every
 * equal-time pair "first before second" passes that by luck (docs/testing.md,
 * evidence.ts:32 → true), this one does not.
 */
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import { EventBuilder, MIN, T0 } from '../eval/builders.js';

const RULES = buildRules({ cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false } });

describe('evidence at equal times, arriving in event_id order', () => {
  it('stays in event_id order on every stream', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    const failed = b.terminal('TXN_FAILED', { event_time: ev.RESPONSE_RECEIVED!.event_time, failure_reason: 'PRINTER_ERROR' });
    const second = b.gateway('FORWARDED_TO_ISSUER', { event_time: ev.FORWARDED_TO_ISSUER!.event_time });
    const rejected = b.bank('REVERSAL_REJECTED', { event_time: T0 + 10 * MIN });
    const refund = b.bank('REFUND_POSTED', { event_time: T0 + 10 * MIN });
    const last = new Map<string, Anomaly>();
    const engine = new Engine({ rules: () => RULES, output: { anomaly: (a) => last.set(a.anomaly_id, a) } });
    const s = b.streams();
    for (const e of s.terminal) engine.push('terminal', e);
    for (const e of s.gateway) engine.push('gateway', e);
    for (const e of s.bank) engine.push('bank', e);
    engine.end();
    const [a] = [...last.values()];
    expect(a.kind).toBe('ORPHAN_DEBIT');
    expect(a.evidence.terminal.map((e) => e.event_id)).toEqual([ev.TXN_STARTED!, ev.REQUEST_SENT!, ev.RESPONSE_RECEIVED!, failed].map((e) => e.event_id));
    expect(a.evidence.gateway.map((e) => e.event_id)).toEqual(
      [ev.REQUEST_RECEIVED!, ev.FORWARDED_TO_ISSUER!, second, ev.ISSUER_RESPONSE!, ev.RESPONSE_SENT!].map((e) => e.event_id));
    expect(a.evidence.bank.map((e) => e.event_id)).toEqual([ev.AUTH_APPROVED!, rejected, refund].map((e) => e.event_id));
  });
});
