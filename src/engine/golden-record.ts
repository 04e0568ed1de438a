/** Builds the `transactions` row of an attempt from its packed events. */
import { B, G, T, codeName, frName, frOf, rcName, rcOf, typeOf } from './codes.js';
import type { TerminalOutcome, TransactionRecord } from './transaction.js';
import { EV, H_CODES, H_DEBIT_AMOUNT, H_DEBIT_AT, H_GW_AMOUNT, H_LATENCY, H_REQ_AMOUNT, H_TERM_AMOUNT, HEADER, type Txn } from './txn.js';

const RC_00 = 1;

function firstTime(cur: number | null, t: number): number {
  return cur === null || t < cur ? t : cur;
}

export function goldenRecord(x: Txn, version: number): TransactionRecord {
  const n = x.n;
  const info = x.info;
  let started: number | null = null, request: number | null = null, response: number | null = null, final: number | null = null;
  let gRecv: number | null = null, gFwd: number | null = null, gIss: number | null = null, gSent: number | null = null;
  let bankAuth: number | null = null, bankRev: number | null = null;
  let completed00 = false, failed = false, issuerTimeout = false, reversed = false;
  let termRc: string | null = null, failure: string | null = null, issuerRc: string | null = null, gwRc: string | null = null, bankRc: string | null = null;
  for (let p = HEADER, len = x.len; p < len; p += EV) {
    const w = n[p];
    const t = n[p + 1];
    const rc = rcName(rcOf(w));
    switch (typeOf(w)) {
      case T.TXN_STARTED: started = firstTime(started, t); break;
      case T.REQUEST_SENT: request = firstTime(request, t); break;
      case T.RESPONSE_RECEIVED: response = firstTime(response, t); if (rc !== null) termRc = rc; break;
      case T.TXN_COMPLETED: final = firstTime(final, t); if (rcOf(w) === RC_00) completed00 = true; if (rc !== null) termRc = rc; break;
      case T.TXN_FAILED: final = firstTime(final, t); failed = true; failure = frName(frOf(w)) ?? failure; if (rc !== null && termRc === null) termRc = rc; break;
      case G.REQUEST_RECEIVED: gRecv = firstTime(gRecv, t); break;
      case G.FORWARDED_TO_ISSUER: gFwd = firstTime(gFwd, t); break;
      case G.ISSUER_RESPONSE: gIss = firstTime(gIss, t); issuerRc = rc; break;
      case G.ISSUER_TIMEOUT: issuerTimeout = true; break;
      case G.RESPONSE_SENT: gSent = firstTime(gSent, t); gwRc = rc; break;
      case B.AUTH_APPROVED: case B.AUTH_DECLINED: bankAuth = firstTime(bankAuth, t); bankRc = rc; break;
      case B.REVERSAL_APPLIED: case B.REFUND_POSTED: bankRev = firstTime(bankRev, t); reversed = true; break;
    }
  }
  const outcome: TerminalOutcome = completed00 ? 'SUCCESS' : failed ? 'FAILED' : 'NONE';
  const stan = x.stanText;
  const num = (v: number) => (Number.isNaN(v) ? null : v);
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
    terminal_started_at: started,
    terminal_request_at: request,
    terminal_response_at: response,
    terminal_final_at: final,
    gateway_received_at: gRecv,
    gateway_forwarded_at: gFwd,
    gateway_issuer_response_at: gIss,
    gateway_response_sent_at: gSent,
    bank_auth_at: bankAuth,
    bank_reversal_at: bankRev,
    terminal_outcome: outcome,
    terminal_response_code: termRc,
    failure_reason: failure,
    issuer_response_code: issuerRc,
    gateway_response_code: gwRc,
    bank_response_code: bankRc,
    issuer_timeout: issuerTimeout,
    debited: !Number.isNaN(n[H_DEBIT_AT]),
    reversed,
    gateway_latency_ms: gRecv !== null && gSent !== null ? gSent - gRecv : null,
    issuer_latency_ms: num(n[H_LATENCY]),
    anomaly_ids: emitted.map((a) => a.anomaly_id).sort(),
    anomaly_kinds: emitted.map((a) => a.kind).sort(),
  };
}
