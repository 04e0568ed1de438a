/**
 * Replay lines: compact JSON in contract field order, null fields omitted
 * (the replay format allows it). Built by hand, about twice as fast as
 * copy-then-JSON.stringify. This is safe only because every string value the
 * simulator makes is plain ASCII without quotes, backslashes or control
 * characters (ids, codes, enums, hex); the tests parse and validate every line.
 */
import type { AnyEvent, BankEvent, GatewayEvent, Stream, TerminalEvent } from '../events/index.js';

const s = (k: string, v: string | null): string => (v === null ? '' : ',"' + k + '":"' + v + '"');
const n = (k: string, v: number | null): string => (v === null ? '' : ',"' + k + '":' + v);

function head(e: AnyEvent): string {
  return '{"event_id":"' + e.event_id + '","event_time":' + e.event_time + ',"terminal_id":"' + e.terminal_id + '","merchant_id":"' + e.merchant_id + '","stan":"' + e.stan + '","event_type":"' + e.event_type + '"';
}

function terminalLine(e: TerminalEvent): string {
  return head(e) + s('txn_type', e.txn_type) + n('amount_minor', e.amount_minor) + s('currency', e.currency) + s('card_token', e.card_token) + s('masked_pan', e.masked_pan) +
    s('entry_mode', e.entry_mode) + s('response_code', e.response_code) + s('failure_reason', e.failure_reason) + s('fault_component', e.fault_component) +
    s('orig_stan', e.orig_stan) + n('lat', e.lat) + n('lon', e.lon) + '}';
}

function gatewayLine(e: GatewayEvent): string {
  return head(e) + ',"rrn":"' + e.rrn + '","txn_type":"' + e.txn_type + '","amount_minor":' + e.amount_minor + ',"currency":"' + e.currency + '","card_token":"' + e.card_token +
    '","issuer_id":"' + e.issuer_id + '","network":"' + e.network + '"' + s('response_code', e.response_code) + n('latency_ms', e.latency_ms) + s('orig_rrn', e.orig_rrn) + '}';
}

function bankLine(e: BankEvent): string {
  return head(e) + ',"rrn":"' + e.rrn + '","txn_type":"' + e.txn_type + '","amount_minor":' + e.amount_minor + ',"currency":"' + e.currency + '","card_token":"' + e.card_token +
    '","issuer_id":"' + e.issuer_id + '","account_ref":"' + e.account_ref + '"' + s('auth_code', e.auth_code) + ',"response_code":"' + e.response_code + '"' + s('orig_rrn', e.orig_rrn) + '}';
}

export function toLine(stream: Stream, event: AnyEvent): string {
  switch (stream) {
    case 'terminal':
      return terminalLine(event as TerminalEvent);
    case 'gateway':
      return gatewayLine(event as GatewayEvent);
    case 'bank':
      return bankLine(event as BankEvent);
  }
}
