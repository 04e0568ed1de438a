/**
 * Every window edge of the debit definitions, exactly on it and 1 ms either
 * side, run through the streaming engine in several arrival orders. The
 * expectations are derived by hand from detection.md and docs/semantics.md
 * (grace: reversal.time - t <= reversal_grace; duplicate: t2 - t1 <=
 * duplicate_window, equal time ordered by rrn; TERMINAL_FAILED_AFTER_APPROVAL:
 * TXN_FAILED terminal time >= the RESPONSE_RECEIVED 00's; AUTO_RESOLVED:
 * reversal in (t + grace, t + horizon]), and every field of the final record
 * an analyst reads is checked: kind, cause, status, severity, event_time,
 * rrn, stan, terminal, merchant, card, issuer, amount, currency, related rrns
 * and the evidence's event ids per stream.
 */
import { describe, expect, it } from 'vitest';
import { buildRules, type Rules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, HOUR, MIN, SEC, T0, type AttemptEvents, type Streams } from '../eval/builders.js';

const RULES: Rules = buildRules({
  cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false },
});
const GRACE = 5 * MIN; // reversal_grace, detection.md
const WINDOW = 10 * MIN; // duplicate_window
const HORIZON = 24 * HOUR; // resolution_horizon

type Item = { stream: Stream; event: TerminalEvent | GatewayEvent | BankEvent };

function items(s: Streams): Item[] {
  return [
    ...s.terminal.map((event) => ({ stream: 'terminal' as const, event })),
    ...s.gateway.map((event) => ({ stream: 'gateway' as const, event })),
    ...s.bank.map((event) => ({ stream: 'bank' as const, event })),
  ];
}

/** Arrival orders: by event time, bank stream first, everything reversed, terminal last. */
function orders(s: Streams): [string, Item[]][] {
  const all = items(s);
  const byTime = [...all].sort((a, b) => a.event.event_time - b.event.event_time);
  return [
    ['by event time', byTime],
    ['bank first', [...all.filter((i) => i.stream === 'bank'), ...all.filter((i) => i.stream !== 'bank')]],
    ['reversed', [...byTime].reverse()],
    ['terminal last', [...all.filter((i) => i.stream !== 'terminal'), ...all.filter((i) => i.stream === 'terminal')]],
  ];
}

/** The final state of each anomaly (last version), RETRACTED ones dropped, in one arrival order. */
function finals(order: readonly Item[], rules = RULES): Anomaly[] {
  const last = new Map<string, Anomaly>();
  const engine = new Engine({ rules: () => rules, output: { anomaly: (a) => last.set(a.anomaly_id, a) } });
  for (const i of order) engine.push(i.stream, i.event);
  engine.end();
  expect(engine.openAttempts()).toBe(0);
  return [...last.values()].filter((a) => a.status !== 'RETRACTED').sort((a, b) => (a.kind + a.rrn < b.kind + b.rrn ? -1 : 1));
}

/** Runs every arrival order; each must give `check` the same verdict. */
function inEveryOrder(b: EventBuilder, check: (out: Anomaly[]) => void): void {
  for (const [name, order] of orders(b.streams())) {
    try {
      check(finals(order));
    } catch (e) {
      throw new Error(`arrival order "${name}": ${(e as Error).message}`);
    }
  }
}

const ids = (xs: readonly { event_id: string }[]) => xs.map((x) => x.event_id).sort();
const eventsOf = (ev: AttemptEvents) => Object.values(ev) as (TerminalEvent | GatewayEvent | BankEvent)[];

/** The evidence's event ids per stream, as sets. */
function evidenceIds(a: Anomaly): { terminal: string[]; gateway: string[]; bank: string[] } {
  return { terminal: ids(a.evidence.terminal), gateway: ids(a.evidence.gateway), bank: ids(a.evidence.bank) };
}

function expectedIds(events: readonly (TerminalEvent | GatewayEvent | BankEvent)[]): { terminal: string[]; gateway: string[]; bank: string[] } {
  const of = (pred: (e: TerminalEvent | GatewayEvent | BankEvent) => boolean) => ids(events.filter(pred));
  return {
    terminal: of((e) => !('network' in e) && !('account_ref' in e)),
    gateway: of((e) => 'network' in e),
    bank: of((e) => 'account_ref' in e),
  };
}

/** A sale the terminal never completed (no TXN_COMPLETED): an orphan with cause NO_TERMINAL_OUTCOME unless reversed. */
function unfinishedSale(b: EventBuilder, t = T0): AttemptEvents {
  return b.attempt({ t, omit: ['TXN_COMPLETED'] });
}

describe('reversal grace edge (reversal.time - t <= 300 s: not an orphan)', () => {
  it.each([
    { at: GRACE - 1, type: 'REVERSAL_APPLIED' as const },
    { at: GRACE, type: 'REVERSAL_APPLIED' as const },
    { at: GRACE, type: 'REFUND_POSTED' as const },
  ])('a $type at t + $at ms: no anomaly', ({ at, type }) => {
    const b = new EventBuilder();
    unfinishedSale(b);
    b.bank(type, { event_time: T0 + at });
    inEveryOrder(b, (out) => expect(out).toEqual([]));
  });

  it('a REVERSAL_APPLIED at t + 300 s + 1 ms: ORPHAN_DEBIT, AUTO_RESOLVED, every field of the record', () => {
    const b = new EventBuilder();
    const ev = unfinishedSale(b);
    const rev = b.bank('REVERSAL_APPLIED', { event_time: T0 + GRACE + 1 });
    const debit = ev.AUTH_APPROVED!;
    inEveryOrder(b, (out) => {
      expect(out).toHaveLength(1);
      const a = out[0];
      expect(a).toMatchObject({
        kind: 'ORPHAN_DEBIT', cause: 'NO_TERMINAL_OUTCOME', status: 'AUTO_RESOLVED', severity: 'high',
        event_time: T0, rrn: 'RRN000000001', stan: '000001', terminal_id: 'TERM0001', merchant_id: 'MERCHANT0000001',
        card_token: 'tok_card_A', issuer_id: 'ISS001', amount_minor: 1_500, currency: 'EUR', related_rrns: [],
      });
      expect(a.event_time).toBe(debit.event_time);
      expect(evidenceIds(a)).toEqual(expectedIds([...eventsOf(ev), rev]));
    });
  });
});

describe('resolution horizon edge (reversal in (t + grace, t + 24 h]: AUTO_RESOLVED)', () => {
  it.each([
    { at: HORIZON - 1, status: 'AUTO_RESOLVED' },
    { at: HORIZON, status: 'AUTO_RESOLVED' },
    { at: HORIZON + 1, status: 'OPEN' },
  ])('a REFUND_POSTED at t + $at ms: $status', ({ at, status }) => {
    const b = new EventBuilder();
    unfinishedSale(b);
    b.bank('REFUND_POSTED', { event_time: T0 + at });
    inEveryOrder(b, (out) => {
      expect(out.map((a) => [a.kind, a.status, a.event_time])).toEqual([['ORPHAN_DEBIT', status, T0]]);
    });
  });
});

describe('duplicate window edge (t2 - t1 <= 600 s)', () => {
  /** Two completed sales, same card, merchant, amount and currency; the second's debit `gap` ms after the first's. */
  function pair(gap: number, rrn2 = 'RRN000000002') {
    const b = new EventBuilder();
    const first = b.attempt({ t: T0, stan: '000001', rrn: 'RRN000000001' });
    const second = b.attempt({ t: T0 + gap, stan: '000002', rrn: rrn2 });
    return { b, first, second };
  }

  it.each([WINDOW - 1, WINDOW])('%i ms apart: DUPLICATE_DEBIT keyed by the second, every field of the record', (gap) => {
    const { b, first, second } = pair(gap);
    inEveryOrder(b, (out) => {
      expect(out).toHaveLength(1);
      const a = out[0];
      expect(a).toMatchObject({
        kind: 'DUPLICATE_DEBIT', cause: null, status: 'OPEN', severity: 'high', event_time: T0 + gap,
        rrn: 'RRN000000002', stan: '000002', terminal_id: 'TERM0001', merchant_id: 'MERCHANT0000001', card_token: 'tok_card_A',
        issuer_id: 'ISS001', amount_minor: 1_500, currency: 'EUR', related_rrns: ['RRN000000001'],
      });
      // The evidence is the events behind the decision (docs/semantics.md): both charges' debits, the related one's too.
      expect(evidenceIds(a)).toEqual(expectedIds([first.AUTH_APPROVED!, second.AUTH_APPROVED!]));
      expect(ids(a.evidence.bank)).toContain(first.AUTH_APPROVED!.event_id);
    });
  });

  it('600 s + 1 ms apart: no anomaly', () => {
    const { b } = pair(WINDOW + 1);
    inEveryOrder(b, (out) => expect(out).toEqual([]));
  });

  it('at equal times the smaller rrn is the first: keyed by the larger', () => {
    const { b } = pair(0, 'RRN000000000');
    inEveryOrder(b, (out) => {
      expect(out.map((a) => [a.kind, a.rrn, a.related_rrns, a.event_time])).toEqual([['DUPLICATE_DEBIT', 'RRN000000001', ['RRN000000000'], T0]]);
    });
  });

  it.each([
    { at: GRACE, out: [] },
    { at: GRACE + 1, out: [['DUPLICATE_DEBIT', 'AUTO_RESOLVED', 'RRN000000002']] },
  ])('the first charge reversed at its t + $at ms', ({ at, out: want }) => {
    const { b } = pair(2 * MIN);
    b.bank('REVERSAL_APPLIED', { event_time: T0 + at, orig_rrn: 'RRN000000001' });
    inEveryOrder(b, (out) => expect(out.map((a) => [a.kind, a.status, a.rrn])).toEqual(want));
  });

  it.each([
    { at: GRACE, out: [] },
    { at: GRACE + 1, out: [['DUPLICATE_DEBIT', 'AUTO_RESOLVED', 'RRN000000002']] },
  ])('the second charge reversed at its t + $at ms', ({ at, out: want }) => {
    const { b } = pair(2 * MIN);
    b.bank('REVERSAL_APPLIED', { event_time: T0 + 2 * MIN + at, orig_rrn: 'RRN000000002' });
    inEveryOrder(b, (out) => expect(out.map((a) => [a.kind, a.status, a.rrn])).toEqual(want));
  });

  it('every earlier debit within the window is related, sorted; one outside is not', () => {
    const b = new EventBuilder();
    b.attempt({ t: T0, stan: '000001', rrn: 'RRN000000009' });
    b.attempt({ t: T0 + MIN, stan: '000002', rrn: 'RRN000000005' });
    b.attempt({ t: T0 + WINDOW + 1, stan: '000003', rrn: 'RRN000000007' });
    inEveryOrder(b, (out) => {
      expect(out.map((a) => [a.rrn, a.related_rrns, a.event_time])).toEqual([
        ['RRN000000005', ['RRN000000009'], T0 + MIN],
        ['RRN000000007', ['RRN000000005'], T0 + WINDOW + 1],
      ]);
    });
  });

  it('another card, merchant, amount or currency is no duplicate', () => {
    for (const other of [{ card_token: 'tok_card_B' }, { merchant_id: 'MERCHANT0000002' }, { amount_minor: 1_501 }, { currency: 'USD' }]) {
      const b = new EventBuilder();
      b.attempt({ t: T0, stan: '000001', rrn: 'RRN000000001' });
      b.attempt({ t: T0 + MIN, stan: '000002', rrn: 'RRN000000002', ...other });
      inEveryOrder(b, (out) => expect(out.filter((a) => a.kind === 'DUPLICATE_DEBIT')).toEqual([]));
    }
  });
});

describe('equal-time terminal events (TXN_FAILED at or after the RESPONSE_RECEIVED 00)', () => {
  it.each([
    { d: -1, cause: 'UNEXPLAINED' },
    { d: 0, cause: 'TERMINAL_FAILED_AFTER_APPROVAL' },
    { d: 1, cause: 'TERMINAL_FAILED_AFTER_APPROVAL' },
  ])('TXN_FAILED at the response time %+i ms: $cause', ({ d, cause }) => {
    const b = new EventBuilder();
    const ev = unfinishedSale(b);
    const recv = ev.RESPONSE_RECEIVED!.event_time;
    const failed = b.terminal('TXN_FAILED', { event_time: recv + d, failure_reason: 'PRINTER_ERROR' });
    inEveryOrder(b, (out) => {
      expect(out.map((a) => [a.kind, a.cause, a.status, a.event_time])).toEqual([['ORPHAN_DEBIT', cause, 'OPEN', T0]]);
      expect(evidenceIds(out[0])).toEqual(expectedIds([...eventsOf(ev), failed]));
    });
  });

  it('the same with a drifting terminal clock (one clock: drift cannot reorder them)', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, terminalSkewMs: -4 * MIN, omit: ['TXN_COMPLETED'] });
    b.terminal('TXN_FAILED', { event_time: ev.RESPONSE_RECEIVED!.event_time, failure_reason: 'PRINTER_ERROR' });
    inEveryOrder(b, (out) => expect(out.map((a) => a.cause)).toEqual(['TERMINAL_FAILED_AFTER_APPROVAL']));
  });
});

describe('the debit anomaly carries the debit', () => {
  it('event_time is the bank AUTH_APPROVED time, even when the terminal clock is 5 minutes off', () => {
    const b = new EventBuilder();
    b.attempt({ t: T0 + 17, terminalSkewMs: 5 * MIN, omit: ['TXN_COMPLETED'] });
    inEveryOrder(b, (out) => expect(out.map((a) => a.event_time)).toEqual([T0 + 17]));
  });

  it('AMOUNT_MISMATCH: bank amount 1 minor unit off the REQUEST_SENT, keyed by rrn, the debit time', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0 + 5 * SEC });
    const req = ev.REQUEST_SENT!;
    // The bank took 1 minor unit more than the terminal asked for.
    (ev.AUTH_APPROVED as { amount_minor: number | null }).amount_minor = req.amount_minor! + 1;
    inEveryOrder(b, (out) => {
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ kind: 'AMOUNT_MISMATCH', status: 'OPEN', severity: 'warning', rrn: 'RRN000000001', event_time: T0 + 5 * SEC, amount_minor: 1_501 });
    });
  });
});

describe('what each fact needs, exactly (detection.md cause table)', () => {
  const causeOf = (b: EventBuilder) => {
    const seen = new Set<string>();
    inEveryOrder(b, (out) => seen.add(JSON.stringify(out.map((a) => [a.kind, a.cause, a.status]))));
    expect(seen.size).toBe(1);
    return JSON.parse([...seen][0]) as [string, string | null, string][];
  };

  it('a TXN_COMPLETED with a code other than 00 is no success: the debit is still an orphan', () => {
    const b = new EventBuilder();
    b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    b.terminal('TXN_COMPLETED', { event_time: T0 + 2 * SEC, response_code: '05' });
    expect(causeOf(b)).toEqual([['ORPHAN_DEBIT', 'NO_TERMINAL_OUTCOME', 'OPEN']]);
  });

  it('a RESPONSE_RECEIVED other than 00 before a TXN_FAILED is no approval at the terminal: UNEXPLAINED', () => {
    const b = new EventBuilder();
    b.attempt({ t: T0, omit: ['RESPONSE_RECEIVED', 'TXN_COMPLETED'] });
    b.terminal('RESPONSE_RECEIVED', { event_time: T0 + 1_500, response_code: '05' });
    b.terminal('TXN_FAILED', { event_time: T0 + 3 * SEC, failure_reason: 'PRINTER_ERROR' });
    expect(causeOf(b)).toEqual([['ORPHAN_DEBIT', 'UNEXPLAINED', 'OPEN']]);
  });

  it('the earliest RESPONSE_RECEIVED 00 counts: a TXN_FAILED between two of them is after the approval', () => {
    const b = new EventBuilder();
    b.attempt({ t: T0, omit: ['TXN_COMPLETED'] }); // RESPONSE_RECEIVED 00 at T0 + 1.5 s
    b.terminal('TXN_FAILED', { event_time: T0 + 2 * SEC, failure_reason: 'PRINTER_ERROR' });
    b.terminal('RESPONSE_RECEIVED', { event_time: T0 + 4 * SEC, response_code: '00' });
    expect(causeOf(b)).toEqual([['ORPHAN_DEBIT', 'TERMINAL_FAILED_AFTER_APPROVAL', 'OPEN']]);
  });

  it('an ISSUER_RESPONSE other than 00 is no gateway response mismatch', () => {
    const b = new EventBuilder();
    b.attempt({ t: T0, omit: ['ISSUER_RESPONSE', 'RESPONSE_SENT', 'RESPONSE_RECEIVED', 'TXN_COMPLETED'] });
    b.gateway('ISSUER_RESPONSE', { event_time: T0 + 500, response_code: '05' });
    b.gateway('RESPONSE_SENT', { event_time: T0 + SEC, response_code: '05' });
    b.terminal('RESPONSE_RECEIVED', { event_time: T0 + 1_500, response_code: '05' });
    b.terminal('TXN_FAILED', { event_time: T0 + 2 * SEC, failure_reason: 'APP_ERROR' });
    expect(causeOf(b)).toEqual([['ORPHAN_DEBIT', 'UNEXPLAINED', 'OPEN']]);
  });

  it('no gateway event with the debit rrn: NO_GATEWAY_RECORD (the bank event names the attempt)', () => {
    const b = new EventBuilder();
    b.attempt({ t: T0, omit: ['REQUEST_RECEIVED', 'FORWARDED_TO_ISSUER', 'ISSUER_RESPONSE', 'RESPONSE_SENT', 'RESPONSE_RECEIVED', 'TXN_COMPLETED'] });
    expect(causeOf(b)).toEqual([['ORPHAN_DEBIT', 'NO_GATEWAY_RECORD', 'OPEN']]);
  });

  it('AMOUNT_MISMATCH on the currency alone', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0 });
    (ev.AUTH_APPROVED as { currency: string | null }).currency = 'USD';
    expect(causeOf(b)).toEqual([['AMOUNT_MISMATCH', null, 'OPEN']]);
  });

  it('a duplicate of several earlier charges lists them all, sorted by rrn whatever their times', () => {
    const b = new EventBuilder();
    b.attempt({ t: T0, stan: '000001', rrn: 'RRN000000009' });
    b.attempt({ t: T0 + MIN, stan: '000002', rrn: 'RRN000000003' });
    b.attempt({ t: T0 + 2 * MIN, stan: '000003', rrn: 'RRN000000006' });
    inEveryOrder(b, (out) => {
      expect(out.map((a) => [a.rrn, a.related_rrns])).toEqual([
        ['RRN000000003', ['RRN000000009']],
        ['RRN000000006', ['RRN000000003', 'RRN000000009']],
      ]);
    });
  });
});

describe('a gateway record is an event with the debit rrn as its own', () => {
  it('a gateway that logged only the REVERSAL_FORWARDED (orig_rrn R, its own rrn) has no record of R: NO_GATEWAY_RECORD', () => {
    const b = new EventBuilder();
    b.attempt({ t: T0, omit: ['REQUEST_RECEIVED', 'FORWARDED_TO_ISSUER', 'ISSUER_RESPONSE', 'RESPONSE_SENT', 'RESPONSE_RECEIVED', 'TXN_COMPLETED'] });
    b.gateway('REVERSAL_FORWARDED', { event_time: T0 + 40 * SEC });
    inEveryOrder(b, (out) => expect(out.map((a) => [a.kind, a.cause])).toEqual([['ORPHAN_DEBIT', 'NO_GATEWAY_RECORD']]));
  });
});
