/**
 * Engine cases the mutation run showed unpinned (docs/testing.md, "Surviving
 * mutants"), through the public API only (Engine.push / end, its counters and
 * outputs), so they hold across a restructuring of the engine's files.
 * Expected values are derived by hand from detection.md and docs/semantics.md.
 */
import { describe, expect, it } from 'vitest';
import { buildRules, DEFAULT_RULES, type Rules } from '../../src/config/rules.js';
import { anomalyId, type Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import type { TransactionRecord } from '../../src/events/transaction.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, MIN, T0 } from '../eval/builders.js';

type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');

function harness(rules: Rules = DEFAULT_RULES, now?: () => number) {
  const versions: Anomaly[] = [];
  const txns: TransactionRecord[] = [];
  const late: Ev[] = [];
  const engine = new Engine({ rules: () => rules, now, output: { anomaly: (a) => versions.push(a), transaction: (t) => txns.push(t), late: (_s, e) => late.push(e) } });
  const push = (...events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
  return { engine, versions, txns, late, push };
}

describe('engine counters', () => {
  it('events per stream, decisions, anomaly versions and released attempts', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(b.terminal('DEVICE_FAULT', { event_time: T0 - MIN }));
    // A completed sale (4 terminal, 4 gateway, 1 bank event) and an unfinished one (3, 4, 1) on another card.
    h.push(...Object.values(b.attempt({ t: T0 })));
    h.push(...Object.values(b.attempt({ t: T0 + MIN, stan: '000002', rrn: 'RRN000000002', card_token: 'tok_card_B', omit: ['TXN_COMPLETED'] })));
    expect(h.engine.openAttempts()).toBe(2);
    h.engine.end();
    expect(h.engine.counters.events).toEqual({ terminal: 8, gateway: 8, bank: 2 });
    expect(h.engine.counters.duplicates).toEqual({ terminal: 0, gateway: 0, bank: 0 });
    expect(h.engine.counters.late).toEqual({ terminal: 0, gateway: 0, bank: 0 });
    expect(h.engine.counters.tooLate).toEqual({ terminal: 0, gateway: 0, bank: 0 });
    expect(h.engine.counters).toMatchObject({ decisions: 2, anomalyVersions: 1, released: 2, linkConflicts: 0 });
    expect(h.engine.openAttempts()).toBe(0);
    expect(h.versions.map((a) => [a.kind, a.rrn, a.cause])).toEqual([['ORPHAN_DEBIT', 'RRN000000002', 'NO_TERMINAL_OUTCOME']]);
  });

  it('a redelivered DEVICE_FAULT is a terminal duplicate', () => {
    const h = harness();
    const b = new EventBuilder();
    const f = b.terminal('DEVICE_FAULT', { event_time: T0 });
    h.push(f, { ...f });
    expect(h.engine.counters.events.terminal).toBe(2);
    expect(h.engine.counters.duplicates).toEqual({ terminal: 1, gateway: 0, bank: 0 });
  });
});

describe('one rrn per attempt (docs/semantics.md, "Known limits"): conflicts are counted', () => {
  it('a second rrn from the gateway for the same (terminal_id, stan) is a link conflict', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(b.gateway('REQUEST_RECEIVED', { event_time: T0 }));
    h.push(b.gateway('REQUEST_RECEIVED', { event_time: T0 + 1, rrn: 'RRN000000009' }));
    expect(h.engine.counters.linkConflicts).toBe(1);
  });

  it('a bank approval echoing an attempt the gateway linked to another rrn: counted, and its orphan still names that terminal and stan', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0 })));
    // Rrn R7 is unknown to the gateway; the bank echoes TERM0001 / 000001, already R1's attempt.
    h.push(b.bank('AUTH_APPROVED', { event_time: T0 + 10_000, rrn: 'RRN000000007', card_token: 'tok_card_Z' }));
    h.engine.end();
    expect(h.engine.counters.linkConflicts).toBe(1);
    const orphans = h.versions.filter((a) => a.kind === 'ORPHAN_DEBIT');
    expect(orphans.map((a) => [a.rrn, a.cause, a.terminal_id, a.stan, a.event_time])).toEqual([['RRN000000007', 'NO_GATEWAY_RECORD', 'TERM0001', '000001', T0 + 10_000]]);
  });
});

describe('what the golden record reads from each stream', () => {
  it('masked PAN and entry mode from the terminal, network from the gateway, txn type, currencies and merchant', () => {
    const h = harness();
    const b = new EventBuilder({ currency: 'PLN' });
    const ev = b.attempt({ t: T0 });
    const started = { ...ev.TXN_STARTED!, masked_pan: '411111******1111', entry_mode: 'CONTACTLESS' as const };
    const gw = [ev.REQUEST_RECEIVED!, ev.FORWARDED_TO_ISSUER!, ev.ISSUER_RESPONSE!, ev.RESPONSE_SENT!].map((e) => ({ ...e, network: 'MASTERCARD' as const }));
    h.push(started, ev.REQUEST_SENT!, ...gw, ev.AUTH_APPROVED!, ev.RESPONSE_RECEIVED!, ev.TXN_COMPLETED!);
    h.engine.end();
    expect(h.txns).toHaveLength(1);
    expect(h.txns[0]).toMatchObject({
      masked_pan: '411111******1111', entry_mode: 'CONTACTLESS', network: 'MASTERCARD', txn_type: 'SALE',
      terminal_currency: 'PLN', gateway_currency: 'PLN', bank_currency: 'PLN', merchant_id: 'MERCHANT0000001',
      terminal_amount_minor: 1_500, gateway_amount_minor: 1_500, bank_amount_minor: 1_500, issuer_latency_ms: 450,
      terminal_outcome: 'SUCCESS', debited: true, anomaly_kinds: [],
    });
  });

  it('a later terminal event in another currency changes neither the request\'s currency nor AMOUNT_MISMATCH (the REQUEST_SENT decides)', () => {
    const h = harness();
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    h.push(...Object.values(ev));
    h.push(b.terminal('TXN_FAILED', { event_time: T0 + 3_000, currency: 'USD', amount_minor: 999 }));
    h.engine.end();
    expect(h.versions.filter((a) => a.kind === 'AMOUNT_MISMATCH')).toEqual([]);
    expect(h.txns[0]).toMatchObject({ terminal_currency: 'EUR', terminal_amount_minor: 1_500 });
  });
});

/**
 * Lateness edges (docs/semantics.md, "Time, watermarks and lateness"): W = min over the streams of
 * (max event_time − max_delay − the stream's clock error); an event is late when its latest possible
 * true time (terminal: + terminal_max_drift; others: + clock_skew) is below W; it is too late for any
 * held state when that is older than W − (reversal_grace + duplicate_window + allowed_lateness).
 */
describe('lateness edges, exactly on W and 1 ms below', () => {
  const DELAY = DEFAULT_RULES.time.maxDelayMs; // 60 s
  const DRIFT = DEFAULT_RULES.time.terminalMaxDriftMs; // 300 s
  const SKEW = DEFAULT_RULES.time.clockSkewMs; // 1 s
  const RETAIN = DEFAULT_RULES.debits.reversalGraceMs + DEFAULT_RULES.duplicateDebit.windowMs + DEFAULT_RULES.time.allowedLatenessMs; // 25 min
  const C = T0 + 60 * MIN;

  /** Moves all three streams to C with events that link to nothing; W is then the terminal's C − 60 s − 300 s. */
  function atC() {
    const h = harness();
    const b = new EventBuilder({ terminal_id: 'CLOCK001', rrn: 'CLOCK0000001', stan: '999999' }, { firstId: 9_000_000 });
    h.push(b.terminal('DEVICE_FAULT', { event_time: C }), b.gateway('REQUEST_RECEIVED', { event_time: C }), b.bank('AUTH_DECLINED', { event_time: C }));
    expect(h.engine.watermark).toBe(C - DELAY - DRIFT);
    expect(h.engine.watermarks()).toEqual({ terminal: C - DELAY - DRIFT, gateway: C - DELAY - SKEW, bank: C - DELAY - SKEW });
    return h;
  }
  const W = C - DELAY - DRIFT;

  it.each([
    { stream: 'terminal' as const, err: DRIFT },
    { stream: 'gateway' as const, err: SKEW },
    { stream: 'bank' as const, err: SKEW },
  ])('$stream: an event whose time + its clock error is W is on time; 1 ms earlier it is late', ({ stream, err }) => {
    for (const [t, late] of [[W - err, 0], [W - err - 1, 1]] as const) {
      const h = atC();
      const b = new EventBuilder();
      const e = stream === 'terminal' ? b.terminal('TXN_STARTED', { event_time: t })
        : stream === 'gateway' ? b.gateway('REQUEST_RECEIVED', { event_time: t }) : b.bank('AUTH_APPROVED', { event_time: t });
      h.push(e);
      expect(h.engine.counters.late[stream]).toBe(late);
      expect(h.late).toHaveLength(late);
      expect(h.engine.counters.tooLate[stream]).toBe(0);
    }
  });

  it.each([
    { stream: 'terminal' as const, err: DRIFT },
    { stream: 'gateway' as const, err: SKEW },
    { stream: 'bank' as const, err: SKEW },
  ])('$stream: an event for no held attempt is too late when time + error + 25 min is below W, not on it', ({ stream, err }) => {
    for (const [t, tooLate] of [[W - err - RETAIN, 0], [W - err - RETAIN - 1, 1]] as const) {
      const h = atC();
      const b = new EventBuilder();
      const e = stream === 'terminal' ? b.terminal('TXN_STARTED', { event_time: t })
        : stream === 'gateway' ? b.gateway('REQUEST_RECEIVED', { event_time: t }) : b.bank('AUTH_APPROVED', { event_time: t });
      h.push(e);
      expect(h.engine.counters.tooLate[stream]).toBe(tooLate);
      expect(h.engine.counters.late[stream]).toBe(1);
      // A too-late event is applied to nothing: no attempt is held for it.
      expect(h.engine.openAttempts()).toBe(2 - tooLate); // the clock's own attempt (gateway + bank share CLOCK rrn) + this one
    }
  });

  it('a DEVICE_FAULT is late like any terminal event: time + drift below W', () => {
    for (const [t, late] of [[W - DRIFT, 0], [W - DRIFT - 1, 1]] as const) {
      const h = atC();
      h.push(new EventBuilder().terminal('DEVICE_FAULT', { event_time: t }));
      expect(h.engine.counters.late.terminal).toBe(late);
      expect(h.late).toHaveLength(late);
    }
  });

  it('a DEVICE_FAULT id is remembered as long as any held state: a redelivery 20 minutes later is still a duplicate', () => {
    const h = harness();
    const b = new EventBuilder();
    const f = b.terminal('DEVICE_FAULT', { event_time: T0 });
    h.push(f);
    const clock = new EventBuilder({ terminal_id: 'CLOCK001', rrn: 'CLOCK0000001', stan: '999999' }, { firstId: 9_000_000 });
    // W = T0 + 20 min: past the fault's time + drift, within its time + drift + 25 min.
    const c = T0 + 20 * MIN + DELAY + DRIFT;
    h.push(clock.terminal('DEVICE_FAULT', { event_time: c }), clock.gateway('REQUEST_RECEIVED', { event_time: c }), clock.bank('AUTH_DECLINED', { event_time: c }));
    expect(h.engine.watermark).toBe(T0 + 20 * MIN);
    h.push({ ...f });
    expect(h.engine.counters.duplicates.terminal).toBe(1);
  });
});

describe('the debit anomaly record', () => {
  it('each kind takes its own severity from the rules, its id from kind and rrn, detected_at from the wall clock given', () => {
    const rules = buildRules({
      orphanDebit: { severity: 'critical' }, amountMismatch: { severity: 'info' }, duplicateDebit: { severity: 'warning' },
      cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false },
    });
    const h = harness(rules, () => 42);
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0 })));
    // R2: the same card, merchant, amount and currency a minute later (a duplicate), never completed (an orphan),
    // and the terminal asked for 1 400 where the bank took 1 500 (an amount mismatch).
    const ev = b.attempt({ t: T0 + MIN, stan: '000002', rrn: 'RRN000000002', omit: ['TXN_COMPLETED'] });
    h.push(...Object.values(ev).map((e) => (e.event_type === 'REQUEST_SENT' ? { ...e, amount_minor: 1_400 } : e)));
    h.engine.end();
    const got = h.versions.map((a) => [a.kind, a.severity, a.anomaly_id, a.detected_at, a.version]).sort();
    expect(got).toEqual([
      ['AMOUNT_MISMATCH', 'info', anomalyId('AMOUNT_MISMATCH', 'RRN000000002'), 42, 1],
      ['DUPLICATE_DEBIT', 'warning', anomalyId('DUPLICATE_DEBIT', 'RRN000000002'), 42, 1],
      ['ORPHAN_DEBIT', 'critical', anomalyId('ORPHAN_DEBIT', 'RRN000000002'), 42, 1],
    ]);
  });

  it('evidence that arrives after the decision without changing it is a new version with the larger evidence', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, omit: ['TXN_COMPLETED'] })));
    const clock = new EventBuilder({ terminal_id: 'CLOCK001', rrn: 'CLOCK0000001', stan: '999999' }, { firstId: 9_000_000 });
    const c = T0 + 10 * MIN + 6 * MIN; // W = T0 + 10 min: decided (t + 5 min), still held
    h.push(clock.terminal('DEVICE_FAULT', { event_time: c }), clock.gateway('REQUEST_RECEIVED', { event_time: c }), clock.bank('AUTH_DECLINED', { event_time: c }));
    const orphan = () => h.versions.filter((a) => a.kind === 'ORPHAN_DEBIT');
    expect(orphan().map((a) => [a.version, a.status, a.cause])).toEqual([[1, 'OPEN', 'NO_TERMINAL_OUTCOME']]);
    // A second FORWARDED_TO_ISSUER (another event id) for R1, the latest gateway event: same cause, one more event behind it.
    const extra = b.gateway('FORWARDED_TO_ISSUER', { event_time: T0 + 5_000 });
    h.push(extra);
    expect(orphan().map((a) => [a.version, a.status, a.cause])).toEqual([[1, 'OPEN', 'NO_TERMINAL_OUTCOME'], [2, 'OPEN', 'NO_TERMINAL_OUTCOME']]);
    expect(orphan()[1].evidence.gateway.map((e) => e.event_id)).toContain(extra.event_id);
    expect(orphan()[1].evidence.gateway).toHaveLength(orphan()[0].evidence.gateway.length + 1);
    // The same event again is a duplicate: no third version.
    h.push({ ...extra });
    expect(orphan()).toHaveLength(2);
  });

  it('a closed attempt\'s golden record is emitted again, version + 1, when late evidence changes it', () => {
    const h = harness();
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    h.push(...Object.values(ev));
    const clock = new EventBuilder({ terminal_id: 'CLOCK001', rrn: 'CLOCK0000001', stan: '999999' }, { firstId: 9_000_000 });
    // Closed once W >= the latest (time + clock error) + the grace: RESPONSE_RECEIVED T0 + 1.5 s + 300 s drift + 300 s.
    const c = T0 + 15 * MIN + 6 * MIN; // W = T0 + 15 min: closed, still held (it carries an orphan)
    h.push(clock.terminal('DEVICE_FAULT', { event_time: c }), clock.gateway('REQUEST_RECEIVED', { event_time: c }), clock.bank('AUTH_DECLINED', { event_time: c }));
    const mine = () => h.txns.filter((t) => t.terminal_id === 'TERM0001');
    expect(mine().map((t) => [t.version, t.terminal_outcome])).toEqual([[1, 'NONE']]);
    h.push(b.terminal('TXN_COMPLETED', { event_time: T0 + 2_000 }));
    expect(mine().map((t) => [t.version, t.terminal_outcome])).toEqual([[1, 'NONE'], [2, 'SUCCESS']]);
  });

  it('late evidence on a decided attempt that has not closed yet emits no golden record (it comes once, at the close)', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, omit: ['TXN_COMPLETED'] })));
    const clock = new EventBuilder({ terminal_id: 'CLOCK001', rrn: 'CLOCK0000001', stan: '999999' }, { firstId: 9_000_000 });
    // W = T0 + 6 min: decided (t + 5 min), not closed (RESPONSE_RECEIVED T0 + 1.5 s + 300 s drift + 300 s grace).
    const c = T0 + 6 * MIN + 6 * MIN;
    h.push(clock.terminal('DEVICE_FAULT', { event_time: c }), clock.gateway('REQUEST_RECEIVED', { event_time: c }), clock.bank('AUTH_DECLINED', { event_time: c }));
    expect(h.versions.filter((a) => a.kind === 'ORPHAN_DEBIT')).toHaveLength(1);
    h.push(b.gateway('FORWARDED_TO_ISSUER', { event_time: T0 + 5_000 }));
    expect(h.versions.filter((a) => a.kind === 'ORPHAN_DEBIT')).toHaveLength(2);
    expect(h.txns.filter((t) => t.terminal_id === 'TERM0001')).toEqual([]);
    h.engine.end();
    expect(h.txns.filter((t) => t.terminal_id === 'TERM0001').map((t) => t.version)).toEqual([1]);
  });

  it('the masked PAN is kept when the gateway\'s events came first', () => {
    const h = harness();
    const b = new EventBuilder();
    const ev = b.attempt({ t: T0 });
    const gw = [ev.REQUEST_RECEIVED!, ev.FORWARDED_TO_ISSUER!, ev.ISSUER_RESPONSE!, ev.RESPONSE_SENT!];
    h.push(...gw, { ...ev.TXN_STARTED!, masked_pan: '411111******1111' }, ev.REQUEST_SENT!, ev.AUTH_APPROVED!, ev.RESPONSE_RECEIVED!, ev.TXN_COMPLETED!);
    h.engine.end();
    expect(h.txns[0].masked_pan).toBe('411111******1111');
  });
});

describe('the golden record of an attempt seen by one stream only', () => {
  it('terminal only: its merchant; gateway only: merchant, issuer and card; bank decline only: merchant and issuer', () => {
    const h = harness();
    const t = new EventBuilder({ merchant_id: 'MERCHANT000000T', stan: '000001' });
    h.push(t.terminal('TXN_STARTED', { event_time: T0 }), t.terminal('TXN_FAILED', { event_time: T0 + 1_000 }));
    const g = new EventBuilder({ merchant_id: 'MERCHANT000000G', stan: '000002', rrn: 'RRN000000002', issuer_id: 'ISS002', card_token: 'tok_card_G' }, { firstId: 100 });
    h.push(g.gateway('REQUEST_RECEIVED', { event_time: T0 }), g.gateway('ISSUER_TIMEOUT', { event_time: T0 + 1_000 }));
    const k = new EventBuilder({ merchant_id: 'MERCHANT000000B', stan: '000003', rrn: 'RRN000000003', issuer_id: 'ISS003', card_token: 'tok_card_K' }, { firstId: 200 });
    h.push(k.bank('AUTH_DECLINED', { event_time: T0 }));
    h.engine.end();
    const byStan = new Map(h.txns.map((x) => [x.stan, x]));
    expect(byStan.get('000001')).toMatchObject({ merchant_id: 'MERCHANT000000T', terminal_outcome: 'FAILED', rrn: null });
    expect(byStan.get('000002')).toMatchObject({ merchant_id: 'MERCHANT000000G', issuer_id: 'ISS002', card_token: 'tok_card_G', rrn: 'RRN000000002', issuer_timeout: true });
    expect(byStan.get('000003')).toMatchObject({ merchant_id: 'MERCHANT000000B', issuer_id: 'ISS003', rrn: 'RRN000000003', debited: false });
  });
});
