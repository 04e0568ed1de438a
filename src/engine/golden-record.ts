/** Builds the `transactions` row of an attempt from its packed events. */
import { B, G, RC_00, T, codeName, frName, frOf, rcName, rcOf, typeOf } from '../events/codes.js';
import type { TerminalOutcome, TransactionRecord } from './transaction.js';
import { EV, H_CODES, H_DEBIT_AMOUNT, H_DEBIT_AT, H_GW_AMOUNT, H_LATENCY, H_REQ_AMOUNT, H_TERM_AMOUNT, HEADER, type LiveAttempt } from './live-attempt.js';


function firstTime(cur: number | null, t: number): number {
  return cur === null || t < cur ? t : cur;
}

/** First times and last codes of each step, read from the attempt's events in one pass. */
interface Steps {
  started: number | null; request: number | null; response: number | null; final: number | null;
  gRecv: number | null; gFwd: number | null; gIss: number | null; gSent: number | null;
  bankAuth: number | null; bankRev: number | null;
  completed00: boolean; failed: boolean; issuerTimeout: boolean; reversed: boolean;
  termRc: string | null; failure: string | null; issuerRc: string | null; gwRc: string | null; bankRc: string | null;
}

function readSteps(x: LiveAttempt): Steps {
  const n = x.n;
  const s: Steps = {
    started: null, request: null, response: null, final: null, gRecv: null, gFwd: null, gIss: null, gSent: null, bankAuth: null, bankRev: null,
    completed00: false, failed: false, issuerTimeout: false, reversed: false, termRc: null, failure: null, issuerRc: null, gwRc: null, bankRc: null,
  };
  for (let p = HEADER, len = x.len; p < len; p += EV) {
    const w = n[p];
    const t = n[p + 1];
    const rc = rcName(rcOf(w));
    switch (typeOf(w)) {
      case T.TXN_STARTED: s.started = firstTime(s.started, t); break;
      case T.REQUEST_SENT: s.request = firstTime(s.request, t); break;
      case T.RESPONSE_RECEIVED: s.response = firstTime(s.response, t); if (rc !== null) s.termRc = rc; break;
      case T.TXN_COMPLETED: s.final = firstTime(s.final, t); if (rcOf(w) === RC_00) s.completed00 = true; if (rc !== null) s.termRc = rc; break;
      case T.TXN_FAILED: s.final = firstTime(s.final, t); s.failed = true; s.failure = frName(frOf(w)) ?? s.failure; if (rc !== null && s.termRc === null) s.termRc = rc; break;
      case G.REQUEST_RECEIVED: s.gRecv = firstTime(s.gRecv, t); break;
      case G.FORWARDED_TO_ISSUER: s.gFwd = firstTime(s.gFwd, t); break;
      case G.ISSUER_RESPONSE: s.gIss = firstTime(s.gIss, t); s.issuerRc = rc; break;
      case G.ISSUER_TIMEOUT: s.issuerTimeout = true; break;
      case G.RESPONSE_SENT: s.gSent = firstTime(s.gSent, t); s.gwRc = rc; break;
      case B.AUTH_APPROVED: case B.AUTH_DECLINED: s.bankAuth = firstTime(s.bankAuth, t); s.bankRc = rc; break;
      case B.REVERSAL_APPLIED: case B.REFUND_POSTED: s.bankRev = firstTime(s.bankRev, t); s.reversed = true; break;
    }
  }
  return s;
}

export function goldenRecord(x: LiveAttempt, version: number): TransactionRecord {
  const n = x.n;
  const info = x.info;
  const { started, request, response, final, gRecv, gFwd, gIss, gSent, bankAuth, bankRev, completed00, failed, issuerTimeout, reversed, termRc, failure, issuerRc, gwRc, bankRc } = readSteps(x);
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
