/**
 * Linking an attempt across the streams (detection.md, "Linking one attempt";
 * docs/semantics.md: the gateway names the attempt of an rrn; where it never saw
 * the rrn, the bank event's own terminal_id and stan do), in four arrival
 * orders, through Engine.push only. Expectations by hand from the spec.
 */
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, MIN, T0 } from '../eval/builders.js';

const RULES = buildRules({ cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false } });
type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');

function orders(events: readonly Ev[]): [string, Ev[]][] {
  const byTime = [...events].sort((a, b) => a.event_time - b.event_time);
  const of = (s: Stream) => events.filter((e) => streamOf(e) === s);
  const latestFirst = (s: Stream) => [...of(s)].sort((a, b) => b.event_time - a.event_time);
  return [
    ['by event time', byTime],
    ['bank, gateway, terminal', [...of('bank'), ...of('gateway'), ...of('terminal')]],
    ['terminal, bank, gateway', [...of('terminal'), ...of('bank'), ...of('gateway')]],
    ['reversed', [...byTime].reverse()],
    ['gateway latest first, terminal, bank', [...latestFirst('gateway'), ...of('terminal'), ...of('bank')]],
    ['bank latest first, gateway, terminal', [...latestFirst('bank'), ...of('gateway'), ...of('terminal')]],
  ];
}

/** Final non-retracted anomalies of one arrival order; every attempt released; no link conflict (none of these cases has one). */
function run(order: readonly Ev[]): Anomaly[] {
  const last = new Map<string, Anomaly>();
  const engine = new Engine({ rules: () => RULES, output: { anomaly: (a) => last.set(a.anomaly_id, a) } });
  for (const e of order) engine.push(streamOf(e), e);
  engine.end();
  expect(engine.openAttempts()).toBe(0);
  expect(engine.counters.linkConflicts).toBe(0);
  return [...last.values()].filter((a) => a.status !== 'RETRACTED');
}

function inEveryOrder(events: readonly Ev[], check: (out: Anomaly[]) => void): void {
  for (const [name, order] of orders(events)) {
    try {
      check(run(order));
    } catch (e) {
      throw new Error(`arrival order "${name}": ${(e as Error).message}`);
    }
  }
}

const summary = (out: Anomaly[]) => out.map((a) => [a.kind, a.cause, a.rrn, a.terminal_id, a.stan]);

describe('the bank echoes another stan than the gateway names', () => {
  /** The gateway says (TERM0001, 000001) for R1; the bank's AUTH_APPROVED echoes stan 000009. */
  function sale(completed: boolean): Ev[] {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: completed ? [] : ['TXN_COMPLETED'] });
    return Object.values(ev).map((e) => (e.event_type === 'AUTH_APPROVED' ? { ...e, stan: '000009' } : e));
  }

  it('the terminal completed the gateway\'s attempt: no orphan, whatever the order', () => {
    inEveryOrder(sale(true), (out) => expect(out).toEqual([]));
  });

  it('nothing is decided before W passes t + grace: not even a version later retracted (echo agreeing or not)', () => {
    const agreeing = Object.values(new EventBuilder().attempt({ t: T0 }));
    for (const [name, order] of [...orders(sale(true)), ...orders(agreeing)]) {
      const versions: Anomaly[] = [];
      const engine = new Engine({ rules: () => RULES, output: { anomaly: (a) => versions.push(a) } });
      for (const e of order) engine.push(streamOf(e), e);
      engine.end();
      expect(versions, name).toEqual([]);
    }
  });

  it('the terminal did not complete it: an orphan naming the gateway\'s attempt (stan 000001)', () => {
    inEveryOrder(sale(false), (out) => expect(summary(out)).toEqual([['ORPHAN_DEBIT', 'NO_TERMINAL_OUTCOME', 'RRN000000001', 'TERM0001', '000001']]));
  });
});

describe('the gateway never saw the rrn: the bank event\'s own terminal_id and stan name the attempt', () => {
  function noGateway(completed: boolean): Ev[] {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: completed ? ['REQUEST_RECEIVED', 'FORWARDED_TO_ISSUER', 'ISSUER_RESPONSE', 'RESPONSE_SENT'] : ['REQUEST_RECEIVED', 'FORWARDED_TO_ISSUER', 'ISSUER_RESPONSE', 'RESPONSE_SENT', 'TXN_COMPLETED'] });
    return Object.values(ev);
  }

  it('the terminal completed the sale: no orphan', () => {
    inEveryOrder(noGateway(true), (out) => expect(out).toEqual([]));
  });

  it('it did not: NO_GATEWAY_RECORD, with the terminal\'s events as evidence', () => {
    const events = noGateway(false);
    const terminalIds = events.filter((e) => streamOf(e) === 'terminal').map((e) => e.event_id).sort();
    inEveryOrder(events, (out) => {
      expect(summary(out)).toEqual([['ORPHAN_DEBIT', 'NO_GATEWAY_RECORD', 'RRN000000001', 'TERM0001', '000001']]);
      expect(out[0].evidence.terminal.map((e) => e.event_id).sort()).toEqual(terminalIds);
    });
  });
});

describe('gateway events seen before the attempt\'s terminal events', () => {
  it('a gateway reversal of R known only by orig_rrn joins R\'s attempt: REVERSAL_NOT_APPLIED', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    const rev = b.gateway('REVERSAL_RECEIVED', { event_time: T0 + 30_000 });
    inEveryOrder([...Object.values(ev), rev], (out) => {
      expect(summary(out)).toEqual([['ORPHAN_DEBIT', 'REVERSAL_NOT_APPLIED', 'RRN000000001', 'TERM0001', '000001']]);
      expect(out[0].evidence.gateway.map((e) => e.event_id)).toContain(rev.event_id);
    });
  });

  it('a gateway reversal with its own stan (ISO 8583: a new stan) still belongs to R\'s attempt', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    const rev = b.gateway('REVERSAL_RECEIVED', { event_time: T0 + 30_000, stan: '500001' });
    inEveryOrder([...Object.values(ev), rev], (out) => {
      expect(summary(out)).toEqual([['ORPHAN_DEBIT', 'REVERSAL_NOT_APPLIED', 'RRN000000001', 'TERM0001', '000001']]);
    });
  });
});

describe('the bank echoes another stan, and a refund of R comes after the grace', () => {
  it('AUTO_RESOLVED orphan naming the gateway\'s attempt, whatever the order (the refund may come first)', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    const events = Object.values(ev).map((e) => (e.event_type === 'AUTH_APPROVED' ? { ...e, stan: '000009' } : e));
    const refund = b.bank('REFUND_POSTED', { event_time: T0 + 10 * 60_000, stan: '000009' });
    inEveryOrder([...events, refund], (out) => {
      expect(out.map((a) => [a.kind, a.status, a.terminal_id, a.stan])).toEqual([['ORPHAN_DEBIT', 'AUTO_RESOLVED', 'TERM0001', '000001']]);
    });
  });
});

describe('two rrns claim one attempt (docs/semantics.md, "Known limits"): counted as link conflicts', () => {
  function counted(order: readonly Ev[]): number {
    const engine = new Engine({ rules: () => RULES, output: { anomaly: () => undefined } });
    for (const e of order) engine.push(streamOf(e), e);
    engine.end();
    expect(engine.openAttempts()).toBe(0);
    return engine.counters.linkConflicts;
  }

  it('the gateway names attempt (T, 2) for an rrn it had linked to (T, 1)', () => {
    const b = new EventBuilder();
    const started2 = b.terminal('TXN_STARTED', { event_time: T0, stan: '000002' });
    const g1 = b.gateway('REQUEST_RECEIVED', { event_time: T0 + 1_000 });
    const g2 = b.gateway('FORWARDED_TO_ISSUER', { event_time: T0 + 2_000, stan: '000002' });
    expect(counted([started2, g1, g2])).toBe(1);
  });

  it('a bank echo for R1 moves to the gateway\'s attempt, which already has rrn R0: counted, R0 keeps it', () => {
    const b = new EventBuilder();
    const r0 = b.attempt({ t: T0, rrn: 'RRN000000000' });
    const approved = b.bank('AUTH_APPROVED', { event_time: T0 + 60_000, stan: '000009', card_token: 'tok_card_Z' });
    const g = b.gateway('REQUEST_RECEIVED', { event_time: T0 + 59_000 });
    // docs/metrics.md counts *events* whose rrn and attempt disagree: this is one event, counted once
    // (refusing the move and refusing the link are one conflict).
    expect(counted([...Object.values(r0), approved, g])).toBe(1);
  });

  it('every gateway event of such an rrn is one conflict: two events, two', () => {
    const b = new EventBuilder();
    const r0 = b.attempt({ t: T0, rrn: 'RRN000000000' });
    const approved = b.bank('AUTH_APPROVED', { event_time: T0 + 60_000, stan: '000009', card_token: 'tok_card_Z' });
    const g1 = b.gateway('REQUEST_RECEIVED', { event_time: T0 + 59_000 });
    const g2 = b.gateway('RESPONSE_SENT', { event_time: T0 + 61_000, response_code: '00' });
    expect(counted([...Object.values(r0), approved, g1, g2])).toBe(2);
  });
});

describe('attempt-index.ts survivors (issue 17): which attempt is held, kept apart or merged', () => {
  /** The golden records the engine writes. */
  type TransactionRecord = Parameters<NonNullable<ConstructorParameters<typeof Engine>[0]['output']['transaction']>>[0];
  /** Every version, the engine (ended) and its golden records. */
  function replay(order: readonly Ev[]) {
    const versions: Anomaly[] = [];
    const txns: TransactionRecord[] = [];
    const engine = new Engine({ rules: () => RULES, output: { anomaly: (a) => versions.push(a), transaction: (t) => txns.push(t) } });
    for (const e of order) engine.push(streamOf(e), e);
    return { engine, versions, txns, final: () => [...new Map(versions.map((a) => [a.anomaly_id, a])).values()].filter((a) => a.status !== 'RETRACTED') };
  }

  it('holdsAttempt: an rrn with an attempt of its own, not an rrn known only from a reversal, nor an unknown one', () => {
    // docs/semantics.md, "Reversals": a reversal settles the debit in whichever engine holds its attempt.
    const b = new EventBuilder();
    const own = b.gateway('REQUEST_RECEIVED', { event_time: T0 });
    const reversalOnly = b.bank('REVERSAL_APPLIED', { event_time: T0, orig_rrn: 'RRN000000007' });
    const { engine } = replay([own, reversalOnly]);
    expect([engine.holdsAttempt('RRN000000001'), engine.holdsAttempt('RRN000000007'), engine.holdsAttempt('RRN000000099')]).toEqual([true, false, false]);
  });

  it('a bank approval arriving after a reversal of its rrn, echoing an attempt that has another rrn, does not take that attempt', () => {
    // R1 is a complete sale at (TERM0001, 000001). R2 is known first by its bank reversal (10 min after its debit), then
    // by its approval, whose echo names R1's (TERM0001, 000001): one rrn per attempt (docs/semantics.md, "Known
    // limits"), so R2 is evaluated alone: the gateway never saw it, so NO_GATEWAY_RECORD, auto-resolved by the
    // reversal after the grace (detection.md); R1 keeps its attempt and its rrn, and is no anomaly.
    const b = new EventBuilder();
    const r1 = Object.values(b.attempt({ t: T0 }));
    const z = new EventBuilder({ rrn: 'RRN000000002', card_token: 'tok_card_Z' }, { firstId: 500 });
    const reversal = z.bank('REVERSAL_APPLIED', { event_time: T0 + 11 * MIN });
    const approval = z.bank('AUTH_APPROVED', { event_time: T0 + MIN });
    const { engine, final, txns } = replay([...r1, reversal, approval]);
    engine.end();
    expect(final().map((a) => [a.kind, a.cause, a.status, a.rrn])).toEqual([['ORPHAN_DEBIT', 'NO_GATEWAY_RECORD', 'AUTO_RESOLVED', 'RRN000000002']]);
    expect(txns.filter((t) => t.rrn === 'RRN000000001').map((t) => [t.terminal_id, t.stan, t.terminal_outcome])).toEqual([['TERM0001', '000001', 'SUCCESS']]);
  });

  it('a link made from the bank\'s echo does not give way to the gateway\'s once a terminal event has joined it', () => {
    // docs/semantics.md, "Known limits": the echo's (TERM0001, 000009) is kept once the terminal's events of 000009
    // joined it; the gateway's REQUEST_RECEIVED (naming 000001) then joins that attempt. No TXN_COMPLETED: an orphan on 000009.
    const b = new EventBuilder({ stan: '000009' });
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    const { engine, final } = replay([ev.AUTH_APPROVED!, ev.TXN_STARTED!, ev.REQUEST_SENT!, ev.RESPONSE_RECEIVED!, { ...ev.REQUEST_RECEIVED!, stan: '000001' }]);
    engine.end();
    expect(final().map((a) => [a.kind, a.terminal_id, a.stan])).toEqual([['ORPHAN_DEBIT', 'TERM0001', '000009']]);
  });

  it('an echo-linked attempt moving to the gateway\'s (tid, stan) leaves the index entry another attempt took over', () => {
    // R1's bank echo names (TERM0001, 000009), which is R2's attempt: R2's gateway event there is a link conflict
    // and R2 is indexed at 000009. R1's gateway event then names 000001: R1 moves there. Both sales complete
    // (each terminal's events find their attempt), so nothing is an anomaly.
    const b = new EventBuilder();
    const r1 = b.attempt({ t: T0 });
    const z = new EventBuilder({ rrn: 'RRN000000002', stan: '000009', card_token: 'tok_card_Z' }, { firstId: 500 });
    const r2 = z.attempt({ t: T0 + 10_000 });
    const terminal = (ev: typeof r1) => [ev.TXN_STARTED!, ev.REQUEST_SENT!, ev.RESPONSE_RECEIVED!, ev.TXN_COMPLETED!];
    const rest = (ev: typeof r1) => [ev.FORWARDED_TO_ISSUER!, ev.ISSUER_RESPONSE!, ev.RESPONSE_SENT!];
    const { engine, final } = replay([{ ...r1.AUTH_APPROVED!, stan: '000009' }, r2.REQUEST_RECEIVED!, r1.REQUEST_RECEIVED!,
      ...rest(r1), ...terminal(r1), ...terminal(r2), r2.AUTH_APPROVED!, ...rest(r2)]);
    engine.end();
    expect(final()).toEqual([]);
    expect(engine.openAttempts()).toBe(0);
  });

  it('a merge keeps the terminal\'s masked PAN (the attempt merged in, known by rrn only, has none)', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0 });
    const terminal = [{ ...ev.TXN_STARTED!, masked_pan: '411111******1111' }, ev.REQUEST_SENT!, ev.RESPONSE_RECEIVED!, ev.TXN_COMPLETED!];
    const gateway = [ev.REQUEST_RECEIVED!, ev.FORWARDED_TO_ISSUER!, ev.ISSUER_RESPONSE!, ev.RESPONSE_SENT!];
    // Terminal first, then the bank's echo (another stan), then the gateway: the echo's attempt is merged into the terminal's.
    const { engine, txns } = replay([...terminal, { ...ev.AUTH_APPROVED!, stan: '000009' }, ...gateway]);
    engine.end();
    expect(txns.map((t) => [t.rrn, t.stan, t.masked_pan, t.card_token])).toEqual([['RRN000000001', '000001', '411111******1111', 'tok_card_A']]);
  });
});
