/**
 * The engine's decision timing, re-decisions and merged attempts, through the
 * public API only (Engine.push / end, createPipeline). Expectations by hand
 * from detection.md and docs/semantics.md ("Time, watermarks and lateness":
 * a debit at t is decided when W >= t + reversal_grace; late evidence
 * re-evaluates; the earliest AUTH_APPROVED by (event_time, event_id) is the
 * debit).
 */
import { describe, expect, it } from 'vitest';
import { buildRules, DEFAULT_RULES, type Rules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import type { TransactionRecord } from '../../src/events/transaction.js';
import { Engine } from '../../src/engine/engine.js';
import { SharedDuplicates } from '../../src/engine/shared-duplicates.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, MIN, T0 } from '../eval/builders.js';

type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');
const GRACE = DEFAULT_RULES.debits.reversalGraceMs;
const LAG = DEFAULT_RULES.time.maxDelayMs + DEFAULT_RULES.time.terminalMaxDriftMs; // W trails the terminal stream's max by this
const DEBIT_KINDS_ONLY = buildRules({ cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false } });

function harness(rules: Rules = DEBIT_KINDS_ONLY) {
  const versions: Anomaly[] = [];
  const engine = new Engine({ rules: () => rules, output: { anomaly: (a) => versions.push(a) } });
  const push = (...events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
  let tick = 0;
  /** Moves every stream so that W = w exactly (the terminal stream is the lowest). */
  const watermarkTo = (w: number) => {
    const c = new EventBuilder({ terminal_id: 'CLOCK001', rrn: `CLK${String(++tick).padStart(9, '0')}`, stan: String(900_000 + tick), card_token: 'tok_clock' }, { firstId: 9_000_000 + tick * 10 });
    push(c.terminal('DEVICE_FAULT', { event_time: w + LAG }), c.gateway('REQUEST_RECEIVED', { event_time: w + LAG }), c.bank('AUTH_DECLINED', { event_time: w + LAG }));
    expect(engine.watermark).toBe(w);
  };
  const mine = (kind: string) => versions.filter((a) => a.kind === kind && a.terminal_id !== 'CLOCK001');
  return { engine, versions, push, watermarkTo, mine };
}

describe('decision time: W >= t + reversal_grace', () => {
  it('an orphan is emitted when W reaches t + 300 s exactly, not 1 ms before', () => {
    const h = harness();
    h.push(...Object.values(new EventBuilder().attempt({ t: T0, omit: ['TXN_COMPLETED'] })));
    h.watermarkTo(T0 + GRACE - 1);
    expect(h.mine('ORPHAN_DEBIT')).toEqual([]);
    h.watermarkTo(T0 + GRACE);
    expect(h.mine('ORPHAN_DEBIT').map((a) => [a.status, a.version, a.event_time])).toEqual([['OPEN', 1, T0]]);
  });
});

describe('re-decisions', () => {
  it('a late reversal of the first charge, within its grace, retracts the duplicate already emitted for the second', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0 })));
    h.push(...Object.values(b.attempt({ t: T0 + 2 * MIN, stan: '000002', rrn: 'RRN000000002' })));
    h.watermarkTo(T0 + 10 * MIN);
    expect(h.mine('DUPLICATE_DEBIT').map((a) => [a.rrn, a.status, a.related_rrns])).toEqual([['RRN000000002', 'OPEN', ['RRN000000001']]]);
    h.push(b.bank('REVERSAL_APPLIED', { event_time: T0 + MIN }));
    expect(h.mine('DUPLICATE_DEBIT').map((a) => [a.rrn, a.status, a.version])).toEqual([['RRN000000002', 'OPEN', 1], ['RRN000000002', 'RETRACTED', 2]]);
  });

  it('a decision taken on the bank\'s echo is re-taken on the gateway\'s attempt when the gateway arrives late', () => {
    const h = harness();
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0 });
    const gw = [ev.REQUEST_RECEIVED!, ev.FORWARDED_TO_ISSUER!, ev.ISSUER_RESPONSE!, ev.RESPONSE_SENT!];
    // The terminal completed attempt 000001; the bank echoes 000009; the gateway (naming 000001) comes after the decision.
    h.push(ev.TXN_STARTED!, ev.REQUEST_SENT!, ev.RESPONSE_RECEIVED!, ev.TXN_COMPLETED!, { ...ev.AUTH_APPROVED!, stan: '000009' });
    h.watermarkTo(T0 + 6 * MIN);
    expect(h.mine('ORPHAN_DEBIT').map((a) => [a.status, a.cause, a.stan, a.version])).toEqual([['OPEN', 'NO_GATEWAY_RECORD', '000009', 1]]);
    // Re-decided as soon as the gateway's events arrive (the merged attempt is already decided), not only at the end.
    h.push(...gw);
    const o = h.mine('ORPHAN_DEBIT');
    expect(o.map((a) => [a.status, a.version])).toEqual([['OPEN', 1], ['RETRACTED', 2]]);
    expect(new Set(o.map((a) => a.anomaly_id)).size).toBe(1);
  });
});

describe('a decision taken on the bank\'s echo, then the gateway', () => {
  it('the echo agreeing with the gateway: the decided debit is re-decided as soon as the gateway\'s events arrive', () => {
    const h = harness();
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    // The bank's approval alone (linked by its echo, TERM0001 / 000001), decided before anything else arrives.
    h.push(ev.AUTH_APPROVED!);
    h.watermarkTo(T0 + 6 * MIN);
    expect(h.mine('ORPHAN_DEBIT').map((a) => [a.cause, a.version])).toEqual([['NO_GATEWAY_RECORD', 1]]);
    h.push(ev.REQUEST_RECEIVED!, ev.FORWARDED_TO_ISSUER!, ev.ISSUER_RESPONSE!, ev.RESPONSE_SENT!);
    // Re-decided at once, a version per gateway event (each adds evidence; docs/semantics.md, Identity): the gateway
    // sent the terminal a 00 and the terminal has no RESPONSE_RECEIVED.
    const o = h.mine('ORPHAN_DEBIT');
    expect(o.map((a) => a.version)).toEqual([1, 2, 3, 4, 5]);
    expect([o[4].cause, o[4].stan, o[4].terminal_id]).toEqual(['RESPONSE_LOST_TO_TERMINAL', '000001', 'TERM0001']);
  });

  it('the echo naming another terminal (same stan): the gateway\'s terminal is the attempt', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0 });
    const h = harness();
    // Bank first (echoing TERM0009), then the gateway (TERM0001), then the terminal, which completed.
    h.push({ ...ev.AUTH_APPROVED!, terminal_id: 'TERM0009' }, ev.REQUEST_RECEIVED!, ev.FORWARDED_TO_ISSUER!, ev.ISSUER_RESPONSE!, ev.RESPONSE_SENT!,
      ev.TXN_STARTED!, ev.REQUEST_SENT!, ev.RESPONSE_RECEIVED!, ev.TXN_COMPLETED!);
    h.engine.end();
    expect(h.versions.filter((a) => a.terminal_id !== 'CLOCK001')).toEqual([]);
  });
});

describe('an attempt merged from the bank\'s echo into the gateway\'s', () => {
  it('the orphan carries every field of the debit and the whole attempt as evidence', () => {
    const b = new EventBuilder({ card_token: 'tok_card_M', issuer_id: 'ISS009', amount_minor: 2_500, currency: 'PLN' });
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    const events = Object.values(ev).map((e) => (e.event_type === 'AUTH_APPROVED' ? { ...e, stan: '000009' } : e));
    const of = (s: Stream) => events.filter((e) => streamOf(e) === s);
    const ids = (s: Stream) => of(s).map((e) => e.event_id).sort();
    // Terminal first, then the bank's echo (another stan), then the gateway: the echo's attempt is merged into the terminal's.
    const h = harness();
    h.push(...of('terminal'), ...of('bank'), ...of('gateway'));
    h.engine.end();
    const [a] = h.mine('ORPHAN_DEBIT');
    expect(a).toMatchObject({
      cause: 'NO_TERMINAL_OUTCOME', status: 'OPEN', rrn: 'RRN000000001', terminal_id: 'TERM0001', stan: '000001', merchant_id: 'MERCHANT0000001',
      card_token: 'tok_card_M', issuer_id: 'ISS009', amount_minor: 2_500, currency: 'PLN', event_time: T0,
    });
    expect({ t: a.evidence.terminal.map((e) => e.event_id).sort(), g: a.evidence.gateway.map((e) => e.event_id).sort(), b: a.evidence.bank.map((e) => e.event_id).sort() })
      .toEqual({ t: ids('terminal'), g: ids('gateway'), b: ids('bank') });
    expect(h.engine.openAttempts()).toBe(0);
  });

  it('the merged debit is still in its duplicate group: a second charge 2 minutes later is a duplicate of it', () => {
    const b = new EventBuilder();
    const first = Object.values(b.attempt({ t: T0 })).map((e) => (e.event_type === 'AUTH_APPROVED' ? { ...e, stan: '000009' } : e));
    const of = (s: Stream) => first.filter((e) => streamOf(e) === s);
    const h = harness();
    h.push(...of('terminal'), ...of('bank'), ...of('gateway'));
    h.push(...Object.values(b.attempt({ t: T0 + 2 * MIN, stan: '000002', rrn: 'RRN000000002' })));
    h.engine.end();
    expect(h.mine('DUPLICATE_DEBIT').map((a) => [a.rrn, a.related_rrns])).toEqual([['RRN000000002', ['RRN000000001']]]);
  });
});

describe('which approval is the debit', () => {
  /** Two AUTH_APPROVED for one rrn at the same bank time; ids differ in their first group, so the order is decided there. */
  function twoApprovals() {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    const small = { ...ev.AUTH_APPROVED!, event_id: '10000000-0000-4000-8000-000000000000', amount_minor: 1_500 };
    const large = { ...ev.AUTH_APPROVED!, event_id: '20000000-0000-4000-8000-000000000000', amount_minor: 9_900 };
    const rest = Object.values(ev).filter((e) => e.event_type !== 'AUTH_APPROVED');
    return { small, large, rest };
  }

  it('at equal times the smaller event_id is the debit, whichever arrives first', () => {
    const { small, large, rest } = twoApprovals();
    for (const order of [[...rest, large, small], [...rest, small, large], [large, small, ...rest]]) {
      const h = harness();
      h.push(...order);
      h.engine.end();
      expect(h.mine('ORPHAN_DEBIT').map((a) => [a.rrn, a.amount_minor])).toEqual([['RRN000000001', 1_500]]);
    }
  });

  it('only the debit counts for CARD_VELOCITY: two approvals of one rrn are one debit', () => {
    const rules = buildRules({
      orphanDebit: { enabled: false }, duplicateDebit: { enabled: false }, amountMismatch: { enabled: false }, terminalFaultSpike: { enabled: false },
      cardTesting: { enabled: false }, impossibleTravel: { enabled: false }, cardVelocity: { minDebits: 2 },
    });
    const out: Anomaly[] = [];
    const { engine } = createPipeline(() => rules, { anomaly: (a) => out.push(a) });
    const { small, large } = twoApprovals();
    engine.push('bank', { ...large, event_time: T0 + 1_000 });
    engine.push('bank', small);
    engine.end();
    expect(out.filter((a) => a.kind === 'CARD_VELOCITY')).toEqual([]);
  });
});

describe('one golden record per attempt, when gateway messages known only by orig_rrn come first', () => {
  function records(order: readonly Ev[]): TransactionRecord[] {
    const txns: TransactionRecord[] = [];
    const engine = new Engine({ rules: () => DEBIT_KINDS_ONLY, output: { anomaly: () => undefined, transaction: (t) => txns.push(t) } });
    for (const e of order) engine.push(streamOf(e), e);
    engine.end();
    return txns;
  }

  /** An attempt the gateway gave up on (no bank event), reversed by the terminal: gateway reversal messages carry their own stan. */
  function reversedTimeout() {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['AUTH_APPROVED', 'ISSUER_RESPONSE', 'RESPONSE_SENT', 'RESPONSE_RECEIVED', 'TXN_COMPLETED'] });
    const timeout = b.gateway('ISSUER_TIMEOUT', { event_time: T0 + 30_000 });
    const failed = b.terminal('TXN_FAILED', { event_time: T0 + 31_000 });
    const forwarded = b.gateway('REVERSAL_FORWARDED', { event_time: T0 + 33_000, stan: '500001' });
    const received = b.gateway('REVERSAL_RECEIVED', { event_time: T0 + 32_000, stan: '500001' });
    const gateway = [ev.REQUEST_RECEIVED!, ev.FORWARDED_TO_ISSUER!, timeout];
    const terminal = [ev.TXN_STARTED!, ev.REQUEST_SENT!, failed];
    return { gateway, terminal, reversals: [forwarded, received] };
  }

  it.each([
    ['reversal messages, attempt messages, terminal', (x: ReturnType<typeof reversedTimeout>) => [...x.reversals, ...x.gateway, ...x.terminal]],
    ['attempt messages, reversal messages, terminal', (x: ReturnType<typeof reversedTimeout>) => [...x.gateway, ...x.reversals, ...x.terminal]],
    ['terminal, reversal messages, attempt messages', (x: ReturnType<typeof reversedTimeout>) => [...x.terminal, ...x.reversals, ...x.gateway]],
  ])('%s: one record, the gateway\'s attempt (stan 000001), with the terminal outcome', (_name, order) => {
    const txns = records(order(reversedTimeout()));
    expect(txns.map((t) => [t.terminal_id, t.stan, t.rrn, t.terminal_outcome, t.issuer_timeout])).toEqual([['TERM0001', '000001', 'RRN000000001', 'FAILED', true]]);
  });
});

describe('an attempt closes (its golden record is written) only once W is past its latest event + clock error + grace', () => {
  it('whatever the order its events arrived in', () => {
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0 });
    // Latest possible true time: the TXN_COMPLETED, T0 + 2 s (+ 300 s terminal drift); + 300 s grace = T0 + 602 s.
    const closeAt = T0 + 2_000 + DEFAULT_RULES.time.terminalMaxDriftMs + GRACE;
    for (const order of [Object.values(ev), Object.values(ev).reverse()]) {
      const txns: TransactionRecord[] = [];
      const engine = new Engine({ rules: () => DEBIT_KINDS_ONLY, output: { anomaly: () => undefined, transaction: (t) => txns.push(t) } });
      for (const e of order) engine.push(streamOf(e), e);
      const c = new EventBuilder({ terminal_id: 'CLOCK001', rrn: 'CLOCK0000001', stan: '999999', card_token: 'tok_clock' }, { firstId: 9_000_000 });
      const tick = (w: number) => {
        for (const e of [c.terminal('DEVICE_FAULT', { event_time: w + LAG }), c.gateway('REQUEST_RECEIVED', { event_time: w + LAG }), c.bank('AUTH_DECLINED', { event_time: w + LAG })]) engine.push(streamOf(e), e);
        expect(engine.watermark).toBe(w);
      };
      tick(closeAt - 1);
      expect(txns.filter((t) => t.terminal_id === 'TERM0001')).toEqual([]);
      tick(closeAt);
      expect(txns.filter((t) => t.terminal_id === 'TERM0001').map((t) => t.version)).toEqual([1]);
    }
  });
});

describe('hardware signals are DEVICE_FAULT and TXN_FAILED only', () => {
  it('other terminal events carrying a CARD_READ_ERROR failure reason make no fault spike', () => {
    const rules = buildRules({ orphanDebit: { enabled: false }, duplicateDebit: { enabled: false }, amountMismatch: { enabled: false }, cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false } });
    const out: Anomaly[] = [];
    const { engine } = createPipeline(() => rules, { anomaly: (a) => out.push(a) });
    const b = new EventBuilder();
    for (let i = 0; i < 3; i++) engine.push('terminal', b.terminal('RESPONSE_RECEIVED', { event_time: T0 + i * MIN, stan: String(i + 1).padStart(6, '0'), failure_reason: 'CARD_READ_ERROR' }));
    engine.end();
    expect(out).toEqual([]);
    // The same three as TXN_FAILED do (the control).
    const out2: Anomaly[] = [];
    const p2 = createPipeline(() => rules, { anomaly: (a) => out2.push(a) });
    for (let i = 0; i < 3; i++) p2.engine.push('terminal', b.terminal('TXN_FAILED', { event_time: T0 + i * MIN, stan: String(i + 1).padStart(6, '0'), failure_reason: 'CARD_READ_ERROR' }));
    p2.engine.end();
    expect(out2.map((a) => a.kind)).toEqual(['TERMINAL_FAULT_SPIKE']);
  });
});

describe('versions: one per change, none before the decision (issue 17, debit-decisions.ts survivors)', () => {
  const HORIZON_MS = DEFAULT_RULES.debits.resolutionHorizonMs;

  it('a re-evaluation that changes nothing emits no version: a bank reversal after t + horizon is no evidence and resolves nothing', () => {
    const h = harness();
    const b = new EventBuilder();
    // An orphan (no TXN_COMPLETED), and a duplicate pair on another terminal (same card, merchant, amount).
    h.push(...Object.values(b.attempt({ t: T0, omit: ['TXN_COMPLETED'] })));
    const d = new EventBuilder({ terminal_id: 'TERM0002', card_token: 'tok_card_D' }, { firstId: 500 });
    h.push(...Object.values(d.attempt({ t: T0, stan: '000011', rrn: 'RRN000000011' })));
    h.push(...Object.values(d.attempt({ t: T0 + 2 * MIN, stan: '000012', rrn: 'RRN000000012' })));
    h.watermarkTo(T0 + 10 * MIN);
    const before = h.mine('ORPHAN_DEBIT').length + h.mine('DUPLICATE_DEBIT').length;
    expect(h.mine('DUPLICATE_DEBIT').map((a) => [a.rrn, a.related_rrns])).toEqual([['RRN000000012', ['RRN000000011']]]);
    expect(h.mine('ORPHAN_DEBIT').map((a) => [a.rrn, a.status])).toEqual([['RRN000000001', 'OPEN']]);
    h.push(b.bank('REVERSAL_APPLIED', { event_time: T0 + HORIZON_MS + 1 }));
    h.push(d.bank('REVERSAL_APPLIED', { event_time: T0 + 2 * MIN + HORIZON_MS + 1, orig_rrn: 'RRN000000012' }));
    expect(h.mine('ORPHAN_DEBIT').length + h.mine('DUPLICATE_DEBIT').length).toBe(before);
  });

  it('deciding the first charge does not decide the second before its own t + grace', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0 })));
    h.push(...Object.values(b.attempt({ t: T0 + 2 * MIN, stan: '000002', rrn: 'RRN000000002' })));
    h.watermarkTo(T0 + GRACE);
    h.watermarkTo(T0 + 2 * MIN + GRACE - 1);
    expect(h.mine('DUPLICATE_DEBIT')).toEqual([]);
    h.watermarkTo(T0 + 2 * MIN + GRACE + 10 * MIN);
    expect(h.mine('DUPLICATE_DEBIT').map((a) => [a.rrn, a.version])).toEqual([['RRN000000002', 1]]);
  });
  it('a duplicate keeps its first charge after that charge left the duplicate group: its own late reversal resolves it, not retracts it', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0 })));
    h.push(...Object.values(b.attempt({ t: T0 + 10 * MIN, stan: '000002', rrn: 'RRN000000002' })));
    // W past the first charge's horizon: it is released and leaves the group; the second is held to its own (t + 10 min + horizon).
    h.watermarkTo(T0 + HORIZON_MS + 8 * MIN);
    expect(h.mine('DUPLICATE_DEBIT').map((a) => [a.rrn, a.status, a.related_rrns])).toEqual([['RRN000000002', 'OPEN', ['RRN000000001']]]);
    // The second charge reversed after its grace, within its horizon (detection.md): the duplicate is AUTO_RESOLVED, still against the first.
    h.push(b.bank('REVERSAL_APPLIED', { event_time: T0 + HORIZON_MS + 9 * MIN, orig_rrn: 'RRN000000002' }));
    expect(h.mine('DUPLICATE_DEBIT').map((a) => [a.rrn, a.status, a.version, a.related_rrns])).toEqual([
      ['RRN000000002', 'OPEN', 1, ['RRN000000001']], ['RRN000000002', 'AUTO_RESOLVED', 2, ['RRN000000001']]]);
  });
});

describe('versions when only the link, the debit event or the emitting engine changes (issue 17, debit-decisions.ts survivors)', () => {
  /** A first charge (complete, TERM0001 / 000001) and a second one 2 minutes later, of which only the bank's approval arrives. */
  function echoedSecond(echo: { terminal_id: string; stan: string }) {
    const b = new EventBuilder();
    const first = Object.values(b.attempt({ t: T0 }));
    const second = b.attempt({ t: T0 + 2 * MIN, stan: '000002', rrn: 'RRN000000002' });
    return { first, approval: { ...second.AUTH_APPROVED!, ...echo }, requestReceived: second.REQUEST_RECEIVED! };
  }
  const dupes = (h: ReturnType<typeof harness>) => h.mine('DUPLICATE_DEBIT').map((a) => [a.version, a.status, a.terminal_id, a.stan, a.related_rrns]);

  it('a duplicate decided on the bank\'s echo gets a version with the gateway\'s stan when only the stan changes', () => {
    // The echo names stan 000009; the gateway (the authority, docs/semantics.md) names 000002 on the same terminal.
    const { first, approval, requestReceived } = echoedSecond({ terminal_id: 'TERM0001', stan: '000009' });
    const h = harness();
    h.push(...first, approval);
    h.watermarkTo(T0 + 2 * MIN + GRACE);
    expect(dupes(h)).toEqual([[1, 'OPEN', 'TERM0001', '000009', ['RRN000000001']]]);
    // A gateway event is no evidence of a duplicate (its debits and their reversals): status, related and evidence stay.
    h.push(requestReceived);
    expect(dupes(h)).toEqual([[1, 'OPEN', 'TERM0001', '000009', ['RRN000000001']], [2, 'OPEN', 'TERM0001', '000002', ['RRN000000001']]]);
  });

  it('… and a version with the gateway\'s terminal when only the terminal changes', () => {
    const { first, approval, requestReceived } = echoedSecond({ terminal_id: 'TERM0009', stan: '000002' });
    const h = harness();
    h.push(...first, approval);
    h.watermarkTo(T0 + 2 * MIN + GRACE);
    expect(dupes(h)).toEqual([[1, 'OPEN', 'TERM0009', '000002', ['RRN000000001']]]);
    h.push(requestReceived);
    expect(dupes(h)).toEqual([[1, 'OPEN', 'TERM0009', '000002', ['RRN000000001']], [2, 'OPEN', 'TERM0001', '000002', ['RRN000000001']]]);
  });

  it('a late, earlier approval of the same rrn becomes the debit: a version whose evidence names it instead of the old one', () => {
    const b = new EventBuilder();
    const first = b.attempt({ t: T0 });
    const second = b.attempt({ t: T0 + 2 * MIN, stan: '000002', rrn: 'RRN000000002' });
    const h = harness();
    h.push(...Object.values(first), ...Object.values(second));
    h.watermarkTo(T0 + 2 * MIN + GRACE);
    const bankIds = () => h.mine('DUPLICATE_DEBIT').map((a) => a.evidence.bank.map((e) => e.event_id));
    expect(bankIds()).toEqual([[first.AUTH_APPROVED!.event_id, second.AUTH_APPROVED!.event_id]]);
    // 1 ms earlier than the debit, same rrn and amount: the earliest AUTH_APPROVED is the debit, and a duplicate's
    // evidence is each debit (and its reversals): as many events as before, one of them another.
    const earlier = b.bank('AUTH_APPROVED', { event_time: T0 + 2 * MIN - 1, rrn: 'RRN000000002', stan: '000002' });
    h.push(earlier);
    expect(bankIds()).toEqual([
      [first.AUTH_APPROVED!.event_id, second.AUTH_APPROVED!.event_id],
      [first.AUTH_APPROVED!.event_id, earlier.event_id],
    ]);
    expect(h.mine('DUPLICATE_DEBIT').map((a) => [a.version, a.status, a.event_time])).toEqual([[1, 'OPEN', T0 + 2 * MIN], [2, 'OPEN', T0 + 2 * MIN - 1]]);
  });
});

describe('with engines sharing the duplicate index, the engine holding a debit emits its re-decisions', () => {
  it('a late reversal read by the first charge\'s engine retracts the duplicate through the engine holding the second charge', () => {
    const groups = new SharedDuplicates();
    const outs = [0, 1].map(() => [] as Anomaly[]);
    const engines = outs.map((out) => new Engine({ rules: () => DEBIT_KINDS_ONLY, output: { anomaly: (a) => out.push(a) }, duplicateGroups: groups }));
    let tick = 0;
    const watermarkTo = (p: number, w: number) => {
      const c = new EventBuilder({ terminal_id: `CLOCK00${p}`, rrn: `CLK${String(++tick).padStart(9, '0')}`, stan: String(900_000 + tick), card_token: 'tok_clock' }, { firstId: 9_000_000 + tick * 10 });
      for (const e of [c.terminal('DEVICE_FAULT', { event_time: w + LAG }), c.gateway('REQUEST_RECEIVED', { event_time: w + LAG }), c.bank('AUTH_DECLINED', { event_time: w + LAG })]) engines[p].push(streamOf(e), e);
      expect(engines[p].watermark).toBe(w);
    };
    // Same card, merchant, amount and currency on two terminals, each held by its own engine (partition).
    const b = new EventBuilder();
    const d = new EventBuilder({ terminal_id: 'TERM0002' }, { firstId: 500 });
    for (const e of Object.values(b.attempt({ t: T0 }))) engines[0].push(streamOf(e), e);
    for (const e of Object.values(d.attempt({ t: T0 + 2 * MIN, stan: '000002', rrn: 'RRN000000002' }))) engines[1].push(streamOf(e), e);
    watermarkTo(0, T0 + 10 * MIN);
    watermarkTo(1, T0 + 10 * MIN);
    const dupes = (p: number) => outs[p].filter((a) => a.kind === 'DUPLICATE_DEBIT').map((a) => [a.rrn, a.status, a.version]);
    expect([dupes(0), dupes(1)]).toEqual([[], [['RRN000000002', 'OPEN', 1]]]);
    // The first charge reversed within its grace (detection.md): it is no first charge, the duplicate is retracted,
    // by engine 1, whose partition holds the second charge (docs/semantics.md, "Reversals").
    const reversal = b.bank('REVERSAL_APPLIED', { event_time: T0 + MIN });
    engines[0].push('bank', reversal);
    expect([dupes(0), dupes(1)]).toEqual([[], [['RRN000000002', 'OPEN', 1], ['RRN000000002', 'RETRACTED', 2]]]);
  });
});

describe('a debit anomaly\'s merchant, and a duplicate\'s first charges kept across the other kinds\' versions (issue 17)', () => {
  it('merchant_id is the bank event\'s, even when the terminal named another merchant first', () => {
    const ev = new EventBuilder().attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    const h = harness();
    h.push(ev.TXN_STARTED!, ev.REQUEST_SENT!, { ...ev.AUTH_APPROVED!, merchant_id: 'MERCHANT0000002' });
    h.engine.end();
    expect(h.mine('ORPHAN_DEBIT').map((a) => a.merchant_id)).toEqual(['MERCHANT0000002']);
  });

  it('an orphan\'s new versions do not make its duplicate forget a first charge released from the group', () => {
    const HORIZON_MS = DEFAULT_RULES.debits.resolutionHorizonMs;
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0 })));
    // The second charge is also an orphan (no TXN_COMPLETED): each event of its attempt is new orphan evidence.
    h.push(...Object.values(b.attempt({ t: T0 + 10 * MIN, stan: '000002', rrn: 'RRN000000002', omit: ['TXN_COMPLETED'] })));
    h.watermarkTo(T0 + HORIZON_MS + 8 * MIN); // the first charge is released and leaves the group
    // Reversed after its grace, within its horizon: AUTO_RESOLVED against the first charge (detection.md); the gateway's
    // reversal messages after it change the orphan's evidence, not the duplicate's debits.
    const rrn2 = { orig_rrn: 'RRN000000002', stan: '500002' };
    h.push(b.bank('REVERSAL_APPLIED', { event_time: T0 + HORIZON_MS + 9 * MIN, orig_rrn: 'RRN000000002' }),
      b.gateway('REVERSAL_RECEIVED', { event_time: T0 + HORIZON_MS + 9 * MIN + 1_000, ...rrn2 }),
      b.gateway('REVERSAL_FORWARDED', { event_time: T0 + HORIZON_MS + 9 * MIN + 2_000, ...rrn2 }));
    expect(h.mine('ORPHAN_DEBIT').length).toBeGreaterThan(2);
    expect(h.mine('DUPLICATE_DEBIT').map((a) => [a.version, a.status, a.related_rrns])).toEqual([[1, 'OPEN', ['RRN000000001']], [2, 'AUTO_RESOLVED', ['RRN000000001']]]);
  });
});
