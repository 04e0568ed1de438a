/**
 * What an event adds to its attempt beyond the event itself: the header
 * numbers (earliest request, debit, location, amounts, codes) and the strings
 * the decisions and the golden record need (merchant, currency, card, issuer).
 */
import { withCode } from '../events/codes.js';
import type { BankEvent, GatewayEvent, TerminalEvent } from '../events/index.js';
import type { Interner } from '../util/interner.js';
import type { DebitGroups } from './debit-groups.js';
import {
  H_CODES, H_DEBIT_AMOUNT, H_DEBIT_AT, H_DEBIT_IDX, H_GW_AMOUNT, H_LAT, H_LATENCY, H_LON, H_REQ_AMOUNT, H_REQ_IDX, H_START_IDX, H_TERM_AMOUNT,
  type LiveAttempt,
} from './live-attempt.js';

const DEBIT_TYPES = new Set(['SALE', 'PREAUTH']);

/** Terminal event e, held as event `idx` of x. */
export function recordTerminal(x: LiveAttempt, e: TerminalEvent, idx: number, strings: Interner): void {
  x.touch();
  if (x.mid === null) x.mid = strings.intern(e.merchant_id);
  const n = x.n;
  if (e.event_type === 'TXN_STARTED') {
    if (e.lat !== null && e.lon !== null && x.earlier(idx, n[H_START_IDX])) {
      n[H_LAT] = e.lat;
      n[H_LON] = e.lon;
      n[H_START_IDX] = idx;
    }
    n[H_CODES] = withCode(n[H_CODES], 'entryMode', e.entry_mode);
  } else if (e.event_type === 'REQUEST_SENT' && x.earlier(idx, n[H_REQ_IDX])) {
    n[H_REQ_AMOUNT] = e.amount_minor!;
    n[H_REQ_IDX] = idx;
    x.termCurrency = strings.intern(e.currency!);
  }
  if (x.termCurrency === null && e.currency !== null) x.termCurrency = strings.intern(e.currency);
  if (
    // Stryker disable next-line ConditionalExpression: `masked_pan !== null` → true is equivalent: before a mask is set, null is stored over null, and a set mask is never overwritten (→ false and the whole condition, killed, are hidden with it)
    e.masked_pan !== null &&
    (x.info === null || x.info.masked === null)
  ) x.infoOrCreate().masked = e.masked_pan;
  if (Number.isNaN(n[H_TERM_AMOUNT]) && e.amount_minor !== null) n[H_TERM_AMOUNT] = e.amount_minor;
  n[H_CODES] = withCode(n[H_CODES], 'txnType', e.txn_type);
}

/** A gateway event that is part of the attempt itself (not a reversal). */
export function recordGateway(x: LiveAttempt, e: GatewayEvent, strings: Interner): void {
  x.touch();
  const info = x.infoOrCreate();
  info.issuer ??= strings.intern(e.issuer_id);
  info.card ??= e.card_token;
  const n = x.n;
  n[H_CODES] = withCode(withCode(n[H_CODES], 'network', e.network), 'txnType', e.txn_type);
  if (Number.isNaN(n[H_GW_AMOUNT])) {
    n[H_GW_AMOUNT] = e.amount_minor;
    info.gwCurrency = strings.intern(e.currency);
  }
  if (e.latency_ms !== null) n[H_LATENCY] = e.latency_ms;
  if (x.mid === null) x.mid = strings.intern(e.merchant_id);
}

/** A bank AUTH_APPROVED or AUTH_DECLINED, held as event `idx` of x; an earlier SALE/PREAUTH approval becomes the debit. */
export function recordBankAuth(x: LiveAttempt, e: BankEvent, idx: number, strings: Interner, groups: DebitGroups): void {
  x.touch();
  const info = x.infoOrCreate();
  info.issuer ??= strings.intern(e.issuer_id);
  const n = x.n;
  n[H_CODES] = withCode(n[H_CODES], 'txnType', e.txn_type);
  if (x.mid === null) x.mid = strings.intern(e.merchant_id);
  if (e.event_type !== 'AUTH_APPROVED' || !DEBIT_TYPES.has(e.txn_type) || !x.earlier(idx, n[H_DEBIT_IDX])) return;
  if (info.group !== null) groups.leave(x);
  n[H_DEBIT_AT] = e.event_time;
  n[H_DEBIT_AMOUNT] = e.amount_minor;
  n[H_DEBIT_IDX] = idx;
  info.bankMerchant = strings.intern(e.merchant_id);
  info.bankCurrency = strings.intern(e.currency);
  info.bankCard = e.card_token;
  info.issuer = strings.intern(e.issuer_id);
  groups.join(x);
}
