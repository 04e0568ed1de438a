import { describe, expect, it } from 'vitest';
import { BANK_EVENT_TYPES, GATEWAY_EVENT_TYPES, TERMINAL_EVENT_TYPES } from '../../src/events/index.js';
import { validateEvent } from '../../src/ingest/validate.js';
import { ATTEMPT_STEPS, EventBuilder, T0, reversalRrn, reversalStan, uuidFor } from './builders.js';

describe('test event builders', () => {
  it('build contract-valid events of every type', () => {
    const b = new EventBuilder();
    for (const t of TERMINAL_EVENT_TYPES) expect(validateEvent('terminal', b.terminal(t))).toMatchObject({ ok: true });
    for (const t of GATEWAY_EVENT_TYPES) expect(validateEvent('gateway', b.gateway(t))).toMatchObject({ ok: true });
    for (const t of BANK_EVENT_TYPES) expect(validateEvent('bank', b.bank(t))).toMatchObject({ ok: true });
  });

  it('give deterministic ids from a per-builder counter', () => {
    const a = new EventBuilder();
    const b = new EventBuilder();
    expect(a.terminal('TXN_STARTED').event_id).toBe(uuidFor(1));
    expect(a.bank('AUTH_APPROVED').event_id).toBe(uuidFor(2));
    expect(b.gateway('REQUEST_RECEIVED').event_id).toBe(uuidFor(1));
    expect(new EventBuilder({}, { firstId: 100 }).nextId()).toBe(uuidFor(100));
  });

  it('give reversal messages their own rrn/stan, pointing at the original', () => {
    const b = new EventBuilder({ rrn: 'RRN000000007', stan: '000007' });
    expect(b.terminal('REVERSAL_SENT')).toMatchObject({ stan: reversalStan('000007'), orig_stan: '000007' });
    expect(b.gateway('REVERSAL_RECEIVED')).toMatchObject({ rrn: reversalRrn('RRN000000007'), orig_rrn: 'RRN000000007' });
    expect(b.bank('REVERSAL_APPLIED')).toMatchObject({ rrn: 'REV000000007', orig_rrn: 'RRN000000007' });
  });

  it('attempt() emits the happy path in order, minus omitted steps, with terminal skew', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, stan: '000042', rrn: 'RRN000000042', terminalSkewMs: 60_000, omit: ['TXN_COMPLETED'] });
    expect(Object.keys(ev)).toEqual(ATTEMPT_STEPS.filter((s) => s !== 'TXN_COMPLETED'));
    expect(ev.AUTH_APPROVED).toMatchObject({ event_time: T0, rrn: 'RRN000000042', stan: '000042' });
    expect(ev.RESPONSE_RECEIVED?.event_time).toBe(T0 + 1_500 + 60_000);
    const s = b.streams();
    expect([s.terminal.length, s.gateway.length, s.bank.length]).toEqual([3, 4, 1]);
  });

  it('redeliver() records an identical copy in the right stream', () => {
    const b = new EventBuilder();
    const e = b.gateway('RESPONSE_SENT');
    b.redeliver(e);
    expect(b.streams().gateway).toEqual([e, e]);
  });
});
