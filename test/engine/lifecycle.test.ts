/** The status lifecycle and the state guarantees of the streaming engine. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, buildRules, type Rules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import type { TransactionRecord } from '../../src/events/transaction.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, MIN, SEC, T0 } from '../eval/builders.js';

type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');

function harness(rules: Rules = DEFAULT_RULES) {
  const versions: Anomaly[] = [];
  const txns: TransactionRecord[] = [];
  const late: Ev[] = [];
  const engine = new Engine({ rules: () => rules, output: { anomaly: (a) => versions.push(a), transaction: (t) => txns.push(t), late: (_s, e) => late.push(e) } });
  const push = (...events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
  /** Moves every stream's clock to true time `ms` with an event that links to nothing. */
  let tick = 0;
  const clock = (ms: number) => {
    const b = new EventBuilder({ terminal_id: 'CLOCK001', rrn: 'CLOCK0000001', stan: '999999' }, { firstId: 9_000_000 + ++tick * 10 });
    push(b.terminal('DEVICE_FAULT', { event_time: ms }), b.gateway('REQUEST_RECEIVED', { event_time: ms, rrn: `CLK${String(tick).padStart(9, '0')}`, stan: String(tick).padStart(6, '0') }), b.bank('AUTH_DECLINED', { event_time: ms, rrn: `CLK${String(tick).padStart(9, '0')}`, stan: String(tick).padStart(6, '0') }));
  };
  return { engine, versions, txns, late, push, clock };
}

const only = (v: Anomaly[], kind = 'ORPHAN_DEBIT') => v.filter((a) => a.kind === kind && a.terminal_id !== 'CLOCK001');

describe('orphan lifecycle', () => {
  it('OPEN once the grace has passed, then RETRACTED when a late TXN_COMPLETED 00 arrives', () => {
    const h = harness();
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    h.push(...Object.values(ev).filter((e) => e.event_type !== 'RESPONSE_RECEIVED'));
    h.clock(T0 + 5 * MIN);
    expect(only(h.versions)).toEqual([]); // the grace has not passed
    h.clock(T0 + 12 * MIN);
    expect(only(h.versions).map((a) => [a.status, a.cause, a.version])).toEqual([['OPEN', 'RESPONSE_LOST_TO_TERMINAL', 1]]);
    h.push(b.terminal('TXN_COMPLETED', { event_time: T0 + 2 * SEC }));
    expect(only(h.versions).map((a) => [a.status, a.version])).toEqual([['OPEN', 1], ['RETRACTED', 2]]);
    expect(h.engine.counters.late.terminal).toBe(1);
    expect(h.late).toHaveLength(1);
    expect(new Set(only(h.versions).map((a) => a.anomaly_id)).size).toBe(1);
  });

  it('AUTO_RESOLVED when the reversal comes after the grace, within the horizon', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, omit: ['RESPONSE_RECEIVED', 'TXN_COMPLETED'] })));
    h.clock(T0 + 20 * MIN);
    h.push(b.bank('REVERSAL_APPLIED', { event_time: T0 + 19 * MIN }));
    expect(only(h.versions).map((a) => [a.status, a.version])).toEqual([['OPEN', 1], ['AUTO_RESOLVED', 2]]);
  });

  it('a reversal inside the grace that arrives late retracts the orphan (the evidence was late, not missing)', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, omit: ['RESPONSE_RECEIVED', 'TXN_COMPLETED'] })));
    h.clock(T0 + 20 * MIN);
    h.push(b.bank('REVERSAL_APPLIED', { event_time: T0 + 2 * MIN }));
    expect(only(h.versions).map((a) => a.status)).toEqual(['OPEN', 'RETRACTED']);
  });

  it('late evidence that changes the cause emits a new version with the new cause', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, omit: ['RESPONSE_RECEIVED', 'TXN_COMPLETED'] })));
    h.clock(T0 + 20 * MIN);
    h.push(b.gateway('REVERSAL_RECEIVED', { event_time: T0 + 40 * SEC }));
    expect(only(h.versions).map((a) => [a.cause, a.version])).toEqual([['RESPONSE_LOST_TO_TERMINAL', 1], ['REVERSAL_NOT_APPLIED', 2]]);
  });

  it('redeliveries change nothing and are counted', () => {
    const h = harness();
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    for (const e of Object.values(ev)) h.push(e, { ...e });
    h.engine.end();
    expect(h.engine.counters.duplicates).toEqual({ terminal: 3, gateway: 4, bank: 1 });
    expect(only(h.versions)).toHaveLength(1);
  });
});

describe('duplicate lifecycle', () => {
  it('a refund of the second charge long after the first was released resolves the duplicate, never retracts it', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0 })));
    h.push(...Object.values(b.attempt({ t: T0 + 2 * MIN, stan: '000002', rrn: 'RRN000000002' })));
    h.clock(T0 + 90 * MIN); // both decided; the first charge's own retention (25 min) is long over
    h.push(b.bank('REFUND_POSTED', { event_time: T0 + 89 * MIN, orig_rrn: 'RRN000000002' }));
    expect(only(h.versions, 'DUPLICATE_DEBIT').map((a) => [a.rrn, a.status, a.related_rrns])).toEqual([
      ['RRN000000002', 'OPEN', ['RRN000000001']],
      ['RRN000000002', 'AUTO_RESOLVED', ['RRN000000001']],
    ]);
  });
});

describe('terminal clocks', () => {
  it.each([5 * MIN, -5 * MIN])('a terminal clock off by %i ms neither creates nor hides an orphan', (skew) => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, terminalSkewMs: skew })));
    h.push(...Object.values(b.attempt({ t: T0 + MIN, stan: '000002', rrn: 'RRN000000002', card_token: 'tok_other', terminalSkewMs: skew, omit: ['TXN_COMPLETED'] })));
    h.clock(T0 + 30 * MIN);
    expect(only(h.versions).map((a) => a.rrn)).toEqual(['RRN000000002']);
  });
});

describe('state', () => {
  it('is released once no definition can need it, and anomalies are held to the horizon', () => {
    const h = harness();
    for (let i = 0; i < 200; i++) {
      const b = new EventBuilder({ stan: String(i).padStart(6, '0'), rrn: `RRN${String(i).padStart(9, '0')}`, card_token: `tok_${i}` }, { firstId: i * 100 + 1 });
      h.push(...Object.values(b.attempt({ t: T0 + i * 30 * SEC, omit: i % 10 === 0 ? ['TXN_COMPLETED'] : [] })));
      h.clock(T0 + i * 30 * SEC);
    }
    const peak = h.engine.openAttempts();
    h.clock(T0 + 200 * 30 * SEC + 60 * MIN);
    // Clean attempts are gone; the 20 orphans stay until 24 h after their debit.
    expect(h.engine.openAttempts()).toBeLessThan(peak);
    const orphans = only(h.versions).length;
    expect(orphans).toBe(20);
    h.clock(T0 + 27 * 60 * MIN); // the last orphan (T0 + 95 min) is released 24 h after its debit
    expect(h.engine.openAttempts()).toBeLessThanOrEqual(3); // the clock's own last attempts
    h.engine.end();
    expect(h.engine.openAttempts()).toBe(0);
    expect(h.txns.filter((t) => t.terminal_id === 'TERM0001')).toHaveLength(200);
  });

  it('an event older than everything held is recorded as late and applied to nothing', () => {
    const h = harness();
    h.clock(T0 + 5 * 60 * MIN);
    const b = new EventBuilder();
    h.push(b.bank('AUTH_APPROVED', { event_time: T0 }));
    h.engine.end();
    expect(h.engine.counters.tooLate.bank).toBe(1);
    expect(h.late).toHaveLength(1);
    expect(only(h.versions)).toEqual([]);
  });

  it('a disabled kind emits nothing', () => {
    const h = harness(buildRules({ orphanDebit: { enabled: false } }));
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, omit: ['TXN_COMPLETED'] })));
    h.engine.end();
    expect(only(h.versions)).toEqual([]);
  });
});

describe('golden record', () => {
  it('carries ids, amounts per stream, hop times, outcome and the anomalies', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, omit: ['TXN_COMPLETED'] })));
    h.engine.end();
    const t = h.txns.find((x) => x.rrn === 'RRN000000001')!;
    expect(t).toMatchObject({
      txn_key: 'TERM0001:000001:RRN000000001', terminal_id: 'TERM0001', stan: '000001', issuer_id: 'ISS001', card_token: 'tok_card_A',
      terminal_amount_minor: 1500, gateway_amount_minor: 1500, bank_amount_minor: 1500, terminal_outcome: 'NONE', debited: true, reversed: false,
      bank_auth_at: T0, gateway_received_at: T0 - 2000, gateway_latency_ms: 3000, issuer_latency_ms: 450, anomaly_kinds: ['ORPHAN_DEBIT'],
    });
  });
});
