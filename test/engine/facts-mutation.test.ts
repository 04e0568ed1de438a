/**
 * What stage 1 hands to the card patterns (detection.md, "Fraud-like patterns"),
 * through the whole pipeline's public API: only bank AUTH_APPROVED /
 * AUTH_DECLINED are authorization attempts, and a debit's location (its
 * attempt's TXN_STARTED) reaches the travel check when it arrives on time.
 */
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, MIN, T0 } from '../eval/builders.js';

type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');
const DEBITS_OFF = { orphanDebit: { enabled: false }, duplicateDebit: { enabled: false }, amountMismatch: { enabled: false }, terminalFaultSpike: { enabled: false } };

function pipeline(rules = buildRules(DEBITS_OFF)) {
  const out: Anomaly[] = [];
  const { engine } = createPipeline(() => rules, { anomaly: (a) => out.push(a) });
  const push = (...events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
  return { engine, out, push };
}

describe('card facts', () => {
  it('a small refund or reversal is no authorization attempt: 5 attempts and a REFUND_POSTED are not card testing', () => {
    const p = pipeline(buildRules({ ...DEBITS_OFF, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false } }));
    const M = ['MERCHANT0000001', 'MERCHANT0000002', 'MERCHANT0000003'];
    // 5 small attempts (3 declined) at 3 merchants within 5 minutes; then a small refund of one of them.
    for (let i = 0; i < 5; i++) {
      const b = new EventBuilder({ merchant_id: M[i % 3], stan: String(i + 1).padStart(6, '0'), rrn: `RRN00000000${i}`, amount_minor: 100 }, { firstId: i * 10 + 1 });
      p.push(b.bank(i < 3 ? 'AUTH_DECLINED' : 'AUTH_APPROVED', { event_time: T0 + i * MIN }));
    }
    const r = new EventBuilder({ merchant_id: M[0], stan: '000099', rrn: 'RRN000000004', amount_minor: 100 }, { firstId: 900 });
    p.push(r.bank('REFUND_POSTED', { event_time: T0 + 6 * MIN }));
    p.engine.end();
    expect(p.out.filter((a) => a.kind === 'CARD_TESTING')).toEqual([]);
  });

  it('a TXN_STARTED on time reaches the travel check even when the watermark is already at its debit\'s bank time', () => {
    const p = pipeline(buildRules({ ...DEBITS_OFF, cardTesting: { enabled: false }, cardVelocity: { enabled: false } }));
    const t1 = T0;
    const t2 = T0 + 10 * MIN;
    // Warsaw at t1, Paris (about 1,370 km) at t2: 10 minutes is far too fast.
    const b1 = new EventBuilder({ stan: '000001', rrn: 'RRN000000001' });
    p.push(b1.terminal('TXN_STARTED', { event_time: t1 - 3_000, lat: 52.23, lon: 21.01 }), b1.bank('AUTH_APPROVED', { event_time: t1 }));
    const b2 = new EventBuilder({ stan: '000002', rrn: 'RRN000000002' }, { firstId: 100 });
    const approved2 = b2.bank('AUTH_APPROVED', { event_time: t2 });
    p.push(approved2);
    // Every stream moves so that W = t2 exactly (terminal: t2 + 60 s + 300 s; gateway, bank: t2 + 60 s + 1 s).
    const c = new EventBuilder({ terminal_id: 'CLOCK001', rrn: 'CLOCK0000001', stan: '999999', card_token: 'tok_clock' }, { firstId: 9_000_000 });
    p.push(c.terminal('DEVICE_FAULT', { event_time: t2 + 6 * MIN }), c.gateway('REQUEST_RECEIVED', { event_time: t2 + 61_000 }), c.bank('AUTH_DECLINED', { event_time: t2 + 61_000 }));
    expect(p.engine.watermark).toBe(t2);
    // The second debit's TXN_STARTED arrives now: on time (its time + 300 s drift is past W).
    p.push(b2.terminal('TXN_STARTED', { event_time: t2 - 3_000, lat: 48.86, lon: 2.35 }));
    expect(p.engine.counters.late.terminal).toBe(0);
    p.engine.end();
    const travel = p.out.filter((a) => a.kind === 'IMPOSSIBLE_TRAVEL');
    expect(travel.map((a) => [a.rrn, a.related_rrns])).toEqual([['RRN000000002', ['RRN000000001']]]);
  });
});
