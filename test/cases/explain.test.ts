/**
 * The rule walk over hand-built events, for the edges the simulated data may
 * not reach: linking through the bank's echo, a non-00 completion, a reversal
 * inside and after the grace, another attempt's reversal on the same terminal.
 */
import { describe, expect, it } from 'vitest';
import { attemptEvents, explainOrphan } from '../../src/cases/explain.js';
import type { CaseEvent, RulesApplied, Stream } from '../../src/cases/types.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const RULES: RulesApplied = { source: 'test', rules_version: null, reversalGraceMs: 300_000, resolutionHorizonMs: 86_400_000, terminalMaxDriftMs: 300_000, maxDelayMs: 60_000 };
let seq = 0;

function ev(stream: Stream, event_type: string, atMs: number, f: Partial<CaseEvent> = {}): CaseEvent {
  return {
    stream, event_type, event_id: `e${String(++seq).padStart(4, '0')}`, event_time: T0 + atMs, terminal_id: 'TRM00001', merchant_id: 'MRC000000000001',
    stan: '000100', rrn: stream === 'terminal' ? null : 'R00000000001', orig_rrn: null, orig_stan: null, response_code: null, failure_reason: null,
    txn_type: 'SALE', amount_minor: 1000, currency: 'EUR', inserted_at: null, source: 'test', late: false, ...f,
  };
}

const debit = (at = 1_000, f: Partial<CaseEvent> = {}) => ev('bank', 'AUTH_APPROVED', at, { response_code: '00', ...f });
const request = () => [ev('terminal', 'TXN_STARTED', 0), ev('terminal', 'REQUEST_SENT', 100)];
const gateway = (rc = '00') => [ev('gateway', 'REQUEST_RECEIVED', 150), ev('gateway', 'ISSUER_RESPONSE', 500, { response_code: '00' }), ev('gateway', 'RESPONSE_SENT', 600, { response_code: rc })];

function walk(events: CaseEvent[], rrn = 'R00000000001') {
  return explainOrphan(attemptEvents(events, rrn, null), rrn, RULES);
}

describe('the case rule walk', () => {
  it('links through the bank echo when the gateway never saw the rrn: NO_GATEWAY_RECORD', () => {
    const e = walk([...request(), debit(1_000), ev('terminal', 'TXN_FAILED', 30_000, { failure_reason: 'TIMEOUT' })]);
    expect(e.attempt?.linked_by).toMatch(/^bank AUTH_APPROVED/);
    expect([e.cause, e.status]).toEqual(['NO_GATEWAY_RECORD', 'OPEN']);
  });

  it('a TXN_COMPLETED with a non-00 code is no outcome: NO_TERMINAL_OUTCOME', () => {
    const e = walk([...request(), ...gateway('00'), debit(), ev('terminal', 'RESPONSE_RECEIVED', 700, { response_code: '05' }), ev('terminal', 'TXN_COMPLETED', 800, { response_code: '05' })]);
    expect(e.cause).toBe('NO_TERMINAL_OUTCOME');
    expect(e.steps.find((s) => s.rule === 'TERMINAL_FAILED_AFTER_APPROVAL')?.result).toBe('fails');
  });

  it('a reversal within the grace means no orphan; after it, AUTO_RESOLVED', () => {
    const base = [...request(), ...gateway('91'), debit(1_000), ev('terminal', 'TXN_FAILED', 2_000, { failure_reason: 'DECLINED' })];
    const inGrace = walk([...base, ev('bank', 'REVERSAL_APPLIED', 1_000 + 300_000, { rrn: 'R00000000002', orig_rrn: 'R00000000001' })]);
    expect([inGrace.orphan, inGrace.cause]).toEqual([false, null]);
    const late = walk([...base, ev('bank', 'REVERSAL_APPLIED', 1_000 + 300_001, { rrn: 'R00000000002', orig_rrn: 'R00000000001' })]);
    expect([late.cause, late.status]).toEqual(['GATEWAY_RESPONSE_MISMATCH', 'AUTO_RESOLVED']);
  });

  it('a REVERSAL_SENT of another attempt on the same terminal is not this attempt\'s: RESPONSE_LOST_TO_TERMINAL', () => {
    const other = ev('terminal', 'REVERSAL_SENT', 40_000, { stan: '000100', orig_stan: '000099' });
    const e = walk([...request(), ...gateway('00'), debit(), other, ev('terminal', 'TXN_FAILED', 30_000, { failure_reason: 'TIMEOUT' })]);
    expect(e.cause).toBe('RESPONSE_LOST_TO_TERMINAL');
    expect(e.steps.find((s) => s.rule === 'REVERSAL_LOST')?.result).toBe('fails');
  });

  it('failure after a 00 on the terminal\'s own clock: TERMINAL_FAILED_AFTER_APPROVAL; a REFUND debit is no debit', () => {
    const e = walk([...request(), ...gateway('00'), debit(), ev('terminal', 'RESPONSE_RECEIVED', -200_000, { response_code: '00' }), ev('terminal', 'TXN_FAILED', -199_000, { failure_reason: 'PRINTER_ERROR' })]);
    expect(e.cause).toBe('TERMINAL_FAILED_AFTER_APPROVAL');
    const refund = walk([...request(), debit(1_000, { txn_type: 'REFUND' })]);
    expect([refund.orphan, refund.steps[0].result]).toEqual([false, 'fails']);
  });
});
