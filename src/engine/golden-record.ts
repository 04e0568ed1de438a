/** Builds the `transactions` row of an attempt from its packed events. */
import { B, G, RC_00, T, codeName, frName, frOf, rcName, rcOf, typeOf } from '../events/codes.js';
import type { TerminalOutcome, TransactionRecord } from '../events/transaction.js';
import { EV, H_CODES, H_DEBIT_AMOUNT, H_DEBIT_AT, H_GW_AMOUNT, H_LATENCY, H_REQ_AMOUNT, H_TERM_AMOUNT, HEADER, type LiveAttempt } from './live-attempt.js';


// Scratch filled by readSteps for the record being built (one at a time): unboxed
// times and no object per record. First time of each step, NaN = none.
const AT = new Float64Array(10);
const STARTED = 0, REQUEST = 1, RESPONSE = 2, FINAL = 3, G_RECV = 4, G_FWD = 5, G_ISS = 6, G_SENT = 7, BANK_AUTH = 8, BANK_REV = 9;
// Last codes: terminal response, failure reason, issuer, gateway, bank.
const CODE: (string | null)[] = [null, null, null, null, null];
const TERM_RC = 0, FAILURE = 1, ISSUER_RC = 2, GW_RC = 3, BANK_RC = 4;
// Flags returned by readSteps.
const COMPLETED_00 = 1, FAILED = 2, ISSUER_TIMEOUT = 4, REVERSED = 8;

function first(k: number, t: number): void {
  if (Number.isNaN(AT[k]) || t < AT[k]) AT[k] = t;
}

/** Reads the attempt's events in one pass into AT and CODE; returns the flags. */
function readSteps(x: LiveAttempt): number {
  const n = x.n;
  AT.fill(NaN);
  CODE.fill(null);
  let flags = 0;
  for (let p = HEADER, len = x.len; p < len; p += EV) {
    const w = n[p];
    const t = n[p + 1];
    const rc = rcName(rcOf(w));
    switch (typeOf(w)) {
      case T.TXN_STARTED: first(STARTED, t); break;
      case T.REQUEST_SENT: first(REQUEST, t); break;
      case T.RESPONSE_RECEIVED: first(RESPONSE, t); if (rc !== null) CODE[TERM_RC] = rc; break;
      case T.TXN_COMPLETED: first(FINAL, t); if (rcOf(w) === RC_00) flags |= COMPLETED_00; if (rc !== null) CODE[TERM_RC] = rc; break;
      case T.TXN_FAILED: first(FINAL, t); flags |= FAILED; CODE[FAILURE] = frName(frOf(w)) ?? CODE[FAILURE]; if (rc !== null && CODE[TERM_RC] === null) CODE[TERM_RC] = rc; break;
      case G.REQUEST_RECEIVED: first(G_RECV, t); break;
      case G.FORWARDED_TO_ISSUER: first(G_FWD, t); break;
      case G.ISSUER_RESPONSE: first(G_ISS, t); CODE[ISSUER_RC] = rc; break;
      case G.ISSUER_TIMEOUT: flags |= ISSUER_TIMEOUT; break;
      case G.RESPONSE_SENT: first(G_SENT, t); CODE[GW_RC] = rc; break;
      case B.AUTH_APPROVED: case B.AUTH_DECLINED: first(BANK_AUTH, t); CODE[BANK_RC] = rc; break;
      case B.REVERSAL_APPLIED: case B.REFUND_POSTED: first(BANK_REV, t); flags |= REVERSED; break;
    }
  }
  return flags;
}

const num = (v: number) => (Number.isNaN(v) ? null : v);

export function goldenRecord(x: LiveAttempt, version: number): TransactionRecord {
  const n = x.n;
  const info = x.info;
  const flags = readSteps(x);
  const gRecv = num(AT[G_RECV]);
  const gSent = num(AT[G_SENT]);
  const outcome: TerminalOutcome = (flags & COMPLETED_00) !== 0 ? 'SUCCESS' : (flags & FAILED) !== 0 ? 'FAILED' : 'NONE';
  const stan = x.stanText;
  const emitted = info?.emitted ? [...info.emitted.values()].filter((a) => a.status !== 'RETRACTED') : [];
  return {
    txn_key: `${x.tid ?? ''}:${stan ?? ''}${x.rrn ? ':' + x.rrn : ''}`,
    version,
    terminal_id: x.tid,
    merchant_id: x.mid ?? info?.bankMerchant ?? null,
    stan,
    rrn: x.rrn,
    issuer_id: info?.issuer ?? null,
    network: codeName(n[H_CODES], 'network'),
    card_token: info?.bankCard ?? info?.card ?? null,
    masked_pan: info?.masked ?? null,
    txn_type: codeName(n[H_CODES], 'txnType'),
    entry_mode: codeName(n[H_CODES], 'entryMode'),
    terminal_amount_minor: num(n[H_REQ_AMOUNT]) ?? num(n[H_TERM_AMOUNT]),
    terminal_currency: x.termCurrency,
    gateway_amount_minor: num(n[H_GW_AMOUNT]),
    gateway_currency: info?.gwCurrency ?? null,
    bank_amount_minor: num(n[H_DEBIT_AMOUNT]),
    bank_currency: info?.bankCurrency ?? null,
    terminal_started_at: num(AT[STARTED]),
    terminal_request_at: num(AT[REQUEST]),
    terminal_response_at: num(AT[RESPONSE]),
    terminal_final_at: num(AT[FINAL]),
    gateway_received_at: gRecv,
    gateway_forwarded_at: num(AT[G_FWD]),
    gateway_issuer_response_at: num(AT[G_ISS]),
    gateway_response_sent_at: gSent,
    bank_auth_at: num(AT[BANK_AUTH]),
    bank_reversal_at: num(AT[BANK_REV]),
    terminal_outcome: outcome,
    terminal_response_code: CODE[TERM_RC],
    failure_reason: CODE[FAILURE],
    issuer_response_code: CODE[ISSUER_RC],
    gateway_response_code: CODE[GW_RC],
    bank_response_code: CODE[BANK_RC],
    issuer_timeout: (flags & ISSUER_TIMEOUT) !== 0,
    debited: !Number.isNaN(n[H_DEBIT_AT]),
    reversed: (flags & REVERSED) !== 0,
    gateway_latency_ms: gRecv !== null && gSent !== null ? gSent - gRecv : null,
    issuer_latency_ms: num(n[H_LATENCY]),
    anomaly_ids: emitted.map((a) => a.anomaly_id).sort(),
    anomaly_kinds: emitted.map((a) => a.kind).sort(),
  };
}
