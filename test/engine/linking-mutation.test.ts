/**
 * Linking an attempt across the streams (detection.md, "Linking one attempt";
 * docs/semantics.md: the gateway names the attempt of an rrn; where it never saw
 * the rrn, the bank event's own terminal_id and stan do), in four arrival
 * orders, through Engine.push only. Expectations by hand from the spec.
 */
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/detect/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, T0 } from '../eval/builders.js';

const RULES = buildRules({ cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false } });
type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');

function orders(events: readonly Ev[]): [string, Ev[]][] {
  const byTime = [...events].sort((a, b) => a.event_time - b.event_time);
  const of = (s: Stream) => events.filter((e) => streamOf(e) === s);
  return [
    ['by event time', byTime],
    ['bank, gateway, terminal', [...of('bank'), ...of('gateway'), ...of('terminal')]],
    ['terminal, bank, gateway', [...of('terminal'), ...of('bank'), ...of('gateway')]],
    ['reversed', [...byTime].reverse()],
  ];
}

/** Final non-retracted anomalies of one arrival order, and whether every attempt was released. */
function run(order: readonly Ev[]): Anomaly[] {
  const last = new Map<string, Anomaly>();
  const engine = new Engine({ rules: () => RULES, output: { anomaly: (a) => last.set(a.anomaly_id, a) } });
  for (const e of order) engine.push(streamOf(e), e);
  engine.end();
  expect(engine.openAttempts()).toBe(0);
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
});
