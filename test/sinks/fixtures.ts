/**
 * Synthetic but realistic sink input, built without the simulator or engine:
 * attempts over several days (today included) across terminals, merchants,
 * issuers and networks, with their events on all three streams, the
 * TransactionRecord of each, and anomalies of every kind (orphans with every
 * cause, some later auto-resolved or retracted, duplicates, amount
 * mismatches, card testing, velocity, impossible travel, fault spikes), plus
 * late events and dead letters. Deterministic for a given seed and `now`.
 */
import { anomalyId, utcDay, ORPHAN_CAUSES, type Anomaly, type AnomalyKind, type EvidenceEvent, type OrphanCause } from '../../src/events/anomaly.js';
import type { TransactionRecord } from '../../src/events/transaction.js';
import type { BankEvent, GatewayEvent, TerminalEvent, Network } from '../../src/events/index.js';
import type { DeadLetter, RawEventRecord } from '../../src/sinks/types.js';

export interface SinkInput {
  readonly anomalies: Anomaly[];
  readonly transactions: TransactionRecord[];
  readonly raw: RawEventRecord[];
  readonly late: RawEventRecord[];
  readonly deadLetters: DeadLetter[];
}

export interface FixtureOptions {
  readonly now?: number;
  readonly days?: number;
  readonly attemptsPerDay?: number;
  readonly seed?: number;
}

const DAY = 86_400_000;
const MIN = 60_000;

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ISSUERS = ['BNK0101', 'BNK0207', 'BNK0314', 'BNK0422', 'BNK0530', 'BNK0699'];
const NETWORKS: Network[] = ['VISA', 'MASTERCARD', 'UNIONPAY', 'OTHER'];
const CITIES: [number, number][] = [[52.52, 13.405], [48.857, 2.352], [51.507, -0.128], [40.416, -3.704], [41.903, 12.496], [50.075, 14.438]];

export function buildSinkInput(opts: FixtureOptions = {}): SinkInput {
  const now = opts.now ?? Date.now();
  const days = opts.days ?? 7;
  const perDay = opts.attemptsPerDay ?? 250;
  const r = rng(opts.seed ?? 42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;

  const merchants = Array.from({ length: 15 }, (_, i) => `MRC${String(i + 1).padStart(12, '0')}`);
  const terminals = Array.from({ length: 40 }, (_, i) => ({
    id: `TRM${String(i + 1).padStart(5, '0')}`,
    merchant: merchants[i % merchants.length],
    loc: CITIES[i % CITIES.length],
    drift: Math.round((r() - 0.5) * 4 * MIN),
    stan: 0,
  }));
  const cards = Array.from({ length: 300 }, (_, i) => ({
    token: `tok_${hex(24)}`,
    masked: `${400000 + i}******${String(1000 + i).slice(-4)}`,
    issuer: ISSUERS[i % ISSUERS.length],
    network: NETWORKS[i % NETWORKS.length],
  }));

  const out: SinkInput = { anomalies: [], transactions: [], raw: [], late: [], deadLetters: [] };
  let rrnSeq = 0;
  let line = 0;
  const src = { terminal: 'replay/terminal.jsonl', gateway: 'replay/gateway.jsonl', bank: 'replay/bank.jsonl' } as const;
  const emitT = (e: TerminalEvent) => out.raw.push({ stream: 'terminal', event: e, ref: { source: src.terminal, line: ++line } });
  const emitG = (e: GatewayEvent) => out.raw.push({ stream: 'gateway', event: e, ref: { source: 'pos.gateway.events', partition: line % 6, offset: String(1000 + line++) } });
  const emitB = (e: BankEvent) => out.raw.push({ stream: 'bank', event: e, ref: { source: 'bank.core.authorizations', partition: line % 6, offset: String(5000 + line++) } });
  const ev = (e: { event_id: string; event_type: string; event_time: number }, detail?: Record<string, string | number | null>): EvidenceEvent => ({ event_id: e.event_id, event_type: e.event_type, event_time: e.event_time, ...(detail ? { detail } : {}) });

  const severity: Record<AnomalyKind, Anomaly['severity']> = {
    ORPHAN_DEBIT: 'critical', DUPLICATE_DEBIT: 'high', AMOUNT_MISMATCH: 'high', CARD_TESTING: 'high',
    CARD_VELOCITY: 'warning', IMPOSSIBLE_TRAVEL: 'high', TERMINAL_FAULT_SPIKE: 'warning',
  };
  const anomaly = (a: Omit<Anomaly, 'severity' | 'version' | 'detected_at'> & { version?: number; detected_at?: number }): Anomaly => {
    const full: Anomaly = { ...a, severity: severity[a.kind], version: a.version ?? 1, detected_at: a.detected_at ?? a.event_time + 5 * MIN + Math.floor(r() * 60_000) };
    out.anomalies.push(full);
    return full;
  };

  interface AttemptPlan {
    terminal: (typeof terminals)[number];
    card: (typeof cards)[number];
    t0: number;
    amount: number;
    currency: string;
    outcome: 'ok' | 'declined' | 'cardread' | 'reversed' | 'orphan' | 'mismatch' | 'timeout';
    cause?: OrphanCause;
    bankAmount?: number;
  }

  /** Emits one attempt's events and its golden record; returns what anomalies need. */
  const attempt = (p: AttemptPlan) => {
    const T = p.terminal;
    const stan = String((T.stan = (T.stan + 1) % 1_000_000)).padStart(6, '0');
    const rrn = String(200000000000 + ++rrnSeq);
    const tt = (ms: number) => p.t0 + ms + T.drift; // terminal clock
    const base = { terminal_id: T.id, merchant_id: T.merchant, stan };
    const txn = { txn_type: 'SALE' as const, amount_minor: p.amount, currency: p.currency, card_token: p.card.token };
    const tEvents: TerminalEvent[] = [];
    const gEvents: GatewayEvent[] = [];
    const bEvents: BankEvent[] = [];
    const term = (event_type: TerminalEvent['event_type'], at: number, extra: Partial<TerminalEvent> = {}) => {
      const e: TerminalEvent = {
        event_id: uuid(), event_time: tt(at), ...base, event_type, ...txn, masked_pan: p.card.masked,
        entry_mode: null, response_code: null, failure_reason: null, fault_component: null, orig_stan: null, lat: null, lon: null, ...extra,
      };
      tEvents.push(e);
      return e;
    };
    const latency = 80 + Math.floor(r() * (r() < 0.05 ? 2500 : 400));
    const gw = (event_type: GatewayEvent['event_type'], at: number, extra: Partial<GatewayEvent> = {}) => {
      const e: GatewayEvent = {
        event_id: uuid(), event_time: p.t0 + at, ...base, event_type, rrn, ...txn, issuer_id: p.card.issuer, network: p.card.network,
        response_code: null, latency_ms: null, orig_rrn: null, ...extra,
      };
      gEvents.push(e);
      return e;
    };
    const bank = (event_type: BankEvent['event_type'], at: number, extra: Partial<BankEvent> = {}) => {
      const e: BankEvent = {
        event_id: uuid(), event_time: p.t0 + at, ...base, event_type, rrn, ...txn, amount_minor: p.bankAmount ?? p.amount,
        issuer_id: p.card.issuer, account_ref: `acct_${p.card.token.slice(4, 16)}`, auth_code: null, response_code: '00', orig_rrn: null, ...extra,
      };
      bEvents.push(e);
      return e;
    };

    const started = term('TXN_STARTED', -2500, { entry_mode: pick(['CHIP', 'CONTACTLESS', 'CONTACTLESS', 'SWIPE', 'MANUAL'] as const), lat: T.loc[0], lon: T.loc[1] });
    if (p.outcome === 'cardread') {
      term('TXN_FAILED', -1500, { failure_reason: 'CARD_READ_ERROR' });
    } else {
      term('REQUEST_SENT', -40);
      gw('REQUEST_RECEIVED', 0);
      gw('FORWARDED_TO_ISSUER', 4);
      const approved = p.outcome !== 'declined';
      const timeout = p.outcome === 'timeout' || p.cause === 'ISSUER_LATE_APPROVAL';
      if (approved) bank('AUTH_APPROVED', latency - 5, { auth_code: hex(6).toUpperCase() });
      else bank('AUTH_DECLINED', latency - 5, { response_code: pick(['05', '51', '54']) });
      const code = approved ? '00' : bEvents[0].response_code;
      if (timeout) {
        gw('ISSUER_TIMEOUT', 3000);
        gw('RESPONSE_SENT', 3005, { response_code: '68' });
      } else if (p.cause !== 'NO_GATEWAY_RECORD') {
        gw('ISSUER_RESPONSE', latency, { response_code: code, latency_ms: latency - 4 });
        gw('RESPONSE_SENT', latency + 6, { response_code: p.cause === 'GATEWAY_RESPONSE_MISMATCH' ? '96' : code });
      }
      const lost = p.cause === 'RESPONSE_LOST_TO_TERMINAL' || p.cause === 'NO_TERMINAL_OUTCOME' || p.cause === 'NO_GATEWAY_RECORD';
      if (!lost) term('RESPONSE_RECEIVED', latency + 60, { response_code: timeout ? '68' : p.cause === 'GATEWAY_RESPONSE_MISMATCH' ? '96' : code });
      if (p.outcome === 'ok' || p.outcome === 'mismatch') {
        term('TXN_COMPLETED', latency + 900, { response_code: '00' });
      } else if (p.outcome === 'declined') {
        term('TXN_FAILED', latency + 700, { response_code: code, failure_reason: 'DECLINED' });
      } else if (p.cause === 'TERMINAL_FAILED_AFTER_APPROVAL') {
        term('TXN_FAILED', latency + 800, { response_code: '00', failure_reason: pick(['PRINTER_ERROR', 'APP_ERROR'] as const) });
      } else if (p.cause !== 'NO_TERMINAL_OUTCOME') {
        term('TXN_FAILED', 4000, { response_code: timeout ? '68' : null, failure_reason: 'TIMEOUT' });
      }
      if (p.outcome === 'reversed' || p.cause === 'REVERSAL_NOT_APPLIED' || p.cause === 'REVERSAL_LOST') {
        term('REVERSAL_SENT', 4500, { orig_stan: stan });
        if (p.cause !== 'REVERSAL_LOST') {
          gw('REVERSAL_RECEIVED', 4600, { orig_rrn: rrn });
          gw('REVERSAL_FORWARDED', 4610, { orig_rrn: rrn });
          if (p.cause === 'REVERSAL_NOT_APPLIED') bank('REVERSAL_REJECTED', 4700, { orig_rrn: rrn, response_code: '25' });
          else bank('REVERSAL_APPLIED', 4700 + Math.floor(r() * 120_000), { orig_rrn: rrn });
          gw('REVERSAL_RESPONSE', 4800, { orig_rrn: rrn, response_code: p.cause === 'REVERSAL_NOT_APPLIED' ? '25' : '00' });
        }
      }
    }
    if (p.cause === 'NO_GATEWAY_RECORD') gEvents.length = 0;
    for (const e of tEvents) emitT(e);
    for (const e of gEvents) emitG(e);
    for (const e of bEvents) emitB(e);

    const find = <E extends { event_type: string }>(xs: E[], t: string) => xs.find((e) => e.event_type === t) ?? null;
    const at = <E extends { event_time: number }>(e: E | null) => (e === null ? null : e.event_time);
    const auth = find(bEvents, 'AUTH_APPROVED') ?? find(bEvents, 'AUTH_DECLINED');
    const debit = find(bEvents, 'AUTH_APPROVED');
    const rev = find(bEvents, 'REVERSAL_APPLIED');
    const final = tEvents.find((e) => e.event_type === 'TXN_COMPLETED' || e.event_type === 'TXN_FAILED') ?? null;
    const gReq = find(gEvents, 'REQUEST_RECEIVED');
    const gSent = find(gEvents, 'RESPONSE_SENT');
    const gIss = find(gEvents, 'ISSUER_RESPONSE');
    const gw0 = gEvents[0] ?? null;
    const outcome = final?.event_type === 'TXN_COMPLETED' ? 'SUCCESS' : final ? 'FAILED' : 'NONE';
    const rec: TransactionRecord = {
      txn_key: `${T.id}:${stan}${gw0 || auth ? `:${rrn}` : ''}`,
      version: 1,
      terminal_id: T.id, merchant_id: T.merchant, stan, rrn: gw0 || auth ? rrn : null,
      issuer_id: gw0 || auth ? p.card.issuer : null, network: gw0 ? p.card.network : null,
      card_token: p.card.token, masked_pan: p.card.masked, txn_type: 'SALE', entry_mode: started.entry_mode,
      terminal_amount_minor: p.amount, terminal_currency: p.currency,
      gateway_amount_minor: gw0 ? p.amount : null, gateway_currency: gw0 ? p.currency : null,
      bank_amount_minor: auth ? auth.amount_minor : null, bank_currency: auth ? p.currency : null,
      terminal_started_at: started.event_time, terminal_request_at: at(find(tEvents, 'REQUEST_SENT')),
      terminal_response_at: at(find(tEvents, 'RESPONSE_RECEIVED')), terminal_final_at: at(final),
      gateway_received_at: at(gReq), gateway_forwarded_at: at(find(gEvents, 'FORWARDED_TO_ISSUER')),
      gateway_issuer_response_at: at(gIss), gateway_response_sent_at: at(gSent),
      bank_auth_at: at(auth), bank_reversal_at: at(rev),
      terminal_outcome: outcome, terminal_response_code: final?.response_code ?? null, failure_reason: final?.failure_reason ?? null,
      issuer_response_code: gIss?.response_code ?? null, gateway_response_code: gSent?.response_code ?? null, bank_response_code: auth?.response_code ?? null,
      issuer_timeout: find(gEvents, 'ISSUER_TIMEOUT') !== null, debited: debit !== null, reversed: rev !== null,
      gateway_latency_ms: gReq && gSent ? gSent.event_time - gReq.event_time : null,
      issuer_latency_ms: gIss?.latency_ms ?? null,
      anomaly_ids: [], anomaly_kinds: [],
    };
    return { rec, rrn, stan, debit, rev, tEvents, gEvents, bEvents };
  };

  const withAnomalies = (rec: TransactionRecord, as: Anomaly[]): TransactionRecord =>
    ({ ...rec, anomaly_ids: as.map((a) => a.anomaly_id), anomaly_kinds: as.map((a) => a.kind) });

  const dayStart0 = Math.floor(now / DAY) * DAY - (days - 1) * DAY;
  let causeIdx = 0;
  for (let d = 0; d < days; d++) {
    const from = dayStart0 + d * DAY;
    const to = Math.min(from + DAY, now - MIN);
    const span = Math.max(to - from, MIN);
    const times = Array.from({ length: perDay }, () => from + Math.floor(r() * span)).sort((a, b) => a - b);
    for (const t0 of times) {
      const terminal = pick(terminals);
      const card = pick(cards);
      const amount = r() < 0.1 ? 50_000 + Math.floor(r() * 200_000) : 500 + Math.floor(r() * 15_000);
      const currency = r() < 0.85 ? 'EUR' : 'USD';
      const x = r();
      const outcome: AttemptPlan['outcome'] = x < 0.74 ? 'ok' : x < 0.84 ? 'declined' : x < 0.87 ? 'cardread' : x < 0.91 ? 'reversed' : x < 0.93 ? 'timeout' : x < 0.95 ? 'mismatch' : 'orphan';
      const plan: AttemptPlan = { terminal, card, t0, amount, currency, outcome };
      if (outcome === 'orphan') plan.cause = ORPHAN_CAUSES[causeIdx++ % ORPHAN_CAUSES.length];
      if (outcome === 'mismatch') plan.bankAmount = amount + 100 * (1 + Math.floor(r() * 20));
      const a = attempt(plan);
      const made: Anomaly[] = [];
      if ((outcome === 'orphan' || outcome === 'timeout') && a.debit) {
        const cause: OrphanCause = plan.cause ?? 'ISSUER_LATE_APPROVAL';
        const v1 = anomaly({
          anomaly_id: anomalyId('ORPHAN_DEBIT', a.rrn), kind: 'ORPHAN_DEBIT', cause, status: 'OPEN', event_time: a.debit.event_time,
          terminal_id: terminal.id, merchant_id: terminal.merchant, card_token: card.token, rrn: a.rrn, stan: a.stan,
          issuer_id: card.issuer, amount_minor: a.debit.amount_minor, currency, related_rrns: [],
          evidence: {
            terminal: a.tEvents.map((e) => ev(e, e.response_code ? { response_code: e.response_code } : undefined)),
            gateway: a.gEvents.map((e) => ev(e, { response_code: e.response_code })),
            bank: a.bEvents.map((e) => ev(e, { amount_minor: e.amount_minor, response_code: e.response_code })),
          },
        });
        made.push(v1);
        const y = r();
        if (y < 0.3) {
          // The bank gave the money back later: a reversal after the grace period.
          const revAt = a.debit.event_time + 20 * MIN + Math.floor(r() * 3 * 3_600_000);
          const revEvent: BankEvent = { ...a.debit, event_id: uuid(), event_type: 'REVERSAL_APPLIED', event_time: revAt, rrn: String(300000000000 + rrnSeq), orig_rrn: a.rrn, auth_code: null };
          emitB(revEvent);
          // The engine closed the attempt first, then re-emitted it when the reversal arrived.
          out.transactions.push(withAnomalies(a.rec, made));
          a.rec = { ...a.rec, version: 2, reversed: true, bank_reversal_at: revAt };
          anomaly({ ...v1, version: 2, status: 'AUTO_RESOLVED', detected_at: revAt + 90_000, evidence: { ...v1.evidence, bank: [...v1.evidence.bank, ev(revEvent, { orig_rrn: a.rrn })] } });
        } else if (y < 0.36) {
          const late: TerminalEvent = { ...a.tEvents[0], event_id: uuid(), event_type: 'TXN_COMPLETED', event_time: a.tEvents[0].event_time + 6_000, response_code: '00', entry_mode: null, lat: null, lon: null };
          out.late.push({ stream: 'terminal', event: late, ref: { source: src.terminal, line: ++line } });
          anomaly({ ...v1, version: 2, status: 'RETRACTED', detected_at: v1.detected_at + 30 * MIN });
        }
      }
      if (outcome === 'mismatch' && a.debit) {
        made.push(anomaly({
          anomaly_id: anomalyId('AMOUNT_MISMATCH', a.rrn), kind: 'AMOUNT_MISMATCH', cause: null, status: 'OPEN', event_time: a.debit.event_time,
          terminal_id: terminal.id, merchant_id: terminal.merchant, card_token: card.token, rrn: a.rrn, stan: a.stan, issuer_id: card.issuer,
          amount_minor: a.debit.amount_minor, currency, related_rrns: [],
          evidence: { terminal: [ev(a.tEvents[1], { amount_minor: amount })], gateway: [], bank: [ev(a.debit, { amount_minor: a.debit.amount_minor })] },
        }));
      }
      out.transactions.push(withAnomalies(a.rec, made));

      // About one attempt in 60: the cashier retried after a terminal timeout, and both were charged.
      if (outcome === 'ok' && r() < 1 / 60) {
        const first = a;
        const second = attempt({ terminal, card, t0: t0 + 60_000 + Math.floor(r() * 240_000), amount, currency, outcome: 'ok' });
        const dup = anomaly({
          anomaly_id: anomalyId('DUPLICATE_DEBIT', second.rrn), kind: 'DUPLICATE_DEBIT', cause: null, status: 'OPEN', event_time: second.debit!.event_time,
          terminal_id: terminal.id, merchant_id: terminal.merchant, card_token: card.token, rrn: second.rrn, stan: second.stan, issuer_id: card.issuer,
          amount_minor: amount, currency, related_rrns: [first.rrn],
          evidence: { terminal: [], gateway: [], bank: [ev(first.debit!, { amount_minor: amount }), ev(second.debit!, { amount_minor: amount })] },
        });
        out.transactions.push(withAnomalies(second.rec, [dup]));
      }
    }

    // Hardware trouble: two terminals a day raise a burst of signals.
    for (let k = 0; k < 2; k++) {
      const T = terminals[(d * 7 + k * 13) % terminals.length];
      const t = from + Math.floor(r() * Math.max(span - 20 * MIN, MIN));
      const faults: TerminalEvent[] = [0, 1, 2, 3].map((i) => ({
        event_id: uuid(), event_time: t + i * 120_000 + T.drift, terminal_id: T.id, merchant_id: T.merchant, stan: String(T.stan).padStart(6, '0'),
        event_type: 'DEVICE_FAULT', txn_type: null, amount_minor: null, currency: null, card_token: null, masked_pan: null, entry_mode: null,
        response_code: null, failure_reason: null, fault_component: pick(['CARD_READER', 'PRINTER', 'NETWORK', 'KEYPAD'] as const), orig_stan: null, lat: null, lon: null,
      }));
      faults.forEach(emitT);
      anomaly({
        anomaly_id: anomalyId('TERMINAL_FAULT_SPIKE', `${T.id}|${utcDay(faults[2].event_time)}`), kind: 'TERMINAL_FAULT_SPIKE', cause: null, status: 'OPEN',
        event_time: faults[2].event_time, terminal_id: T.id, merchant_id: T.merchant, card_token: null, rrn: null, stan: faults[2].stan, issuer_id: null,
        amount_minor: null, currency: null, related_rrns: [], evidence: { terminal: faults.slice(0, 3).map((e) => ev(e, { fault_component: e.fault_component })), gateway: [], bank: [] },
      });
    }

    // Fraud-like patterns on cards: one of each a day (the rows, not the full event trail).
    const fraudAt = from + Math.floor(r() * span);
    const fraudCard = cards[(d * 11) % cards.length];
    const patterns: [AnomalyKind, string[]][] = [['CARD_TESTING', ['2', '3', '4', '5', '6'].map((s) => `9${d}000000000${s}`)], ['CARD_VELOCITY', ['1', '2'].map((s) => `8${d}000000000${s}`)], ['IMPOSSIBLE_TRAVEL', [`7${d}0000000001`]]];
    for (const [kind, related] of patterns) {
      const T = pick(terminals);
      anomaly({
        anomaly_id: anomalyId(kind, `${fraudCard.token}|${utcDay(fraudAt)}`), kind, cause: null, status: 'OPEN', event_time: fraudAt,
        terminal_id: T.id, merchant_id: T.merchant, card_token: fraudCard.token, rrn: `6${d}000000000${kind.length % 10}`, stan: '000001',
        issuer_id: fraudCard.issuer, amount_minor: kind === 'CARD_TESTING' ? 100 : 90_000, currency: 'EUR', related_rrns: related,
        evidence: { terminal: [], gateway: [], bank: related.map((rr, i) => ({ event_id: uuid(), event_type: i % 2 ? 'AUTH_DECLINED' : 'AUTH_APPROVED', event_time: fraudAt - (i + 1) * 30_000, detail: { rrn: rr } })) },
      });
    }

    // Bad input of the day.
    out.deadLetters.push(
      { source: src.gateway, stream: 'gateway', line: 10_000 + d, partition: null, offset: null, reason: 'not valid JSON: Unexpected end of JSON input', payload: '{"event_id":"', received_at: from + 3_600_000 },
      { source: 'pos.terminal.events', stream: 'terminal', line: null, partition: d % 6, offset: String(90_000 + d), reason: 'field card_token: looks like a clear card number (PAN), refused', payload: '{"card_token":"411111******1111"}', received_at: from + 7_200_000 },
      { source: src.bank, stream: 'bank', line: 20_000 + d, partition: null, offset: null, reason: 'field stan: expected 6 digits, got "12"', payload: '{"stan":"12"}', received_at: from + 9_000_000 },
    );
  }

  // A few redelivered events arrive late: the same ids again, after the watermark.
  for (let i = 0; i < 20; i++) {
    const e = out.raw[Math.floor(r() * out.raw.length)];
    out.late.push({ stream: e.stream, event: e.event, ref: e.ref } as RawEventRecord);
  }
  return out;
}

/** Writes everything through a sink, in a plausible interleaving. */
export function feed(sink: { anomaly(a: Anomaly): void; transaction(t: TransactionRecord): void; rawEvent(r: RawEventRecord): void; lateEvent(r: RawEventRecord): void; deadLetter(d: DeadLetter): void }, input: SinkInput): void {
  for (const e of input.raw) sink.rawEvent(e);
  for (const e of input.late) sink.lateEvent(e);
  for (const t of input.transactions) sink.transaction(t);
  for (const a of input.anomalies) sink.anomaly(a);
  for (const d of input.deadLetters) sink.deadLetter(d);
}
