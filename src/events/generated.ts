// GENERATED from schemas/*.avsc by src/events/codegen.ts. Do not edit by hand:
// change the schema, then run `npm run codegen`.

export const BANK_EVENT_TYPES = ["AUTH_APPROVED","AUTH_DECLINED","REVERSAL_APPLIED","REVERSAL_REJECTED","REFUND_POSTED"] as const;
export type BankEventType = (typeof BANK_EVENT_TYPES)[number];

export const ENTRY_MODES = ["CHIP","SWIPE","CONTACTLESS","QR","MANUAL"] as const;
export type EntryMode = (typeof ENTRY_MODES)[number];

export const FAILURE_REASONS = ["TIMEOUT","NETWORK_ERROR","DECLINED","CARD_READ_ERROR","PRINTER_ERROR","APP_ERROR","USER_CANCELLED","POWER_LOSS"] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const FAULT_COMPONENTS = ["CARD_READER","PRINTER","NETWORK","KEYPAD","SCANNER","BATTERY"] as const;
export type FaultComponent = (typeof FAULT_COMPONENTS)[number];

export const GATEWAY_EVENT_TYPES = ["REQUEST_RECEIVED","FORWARDED_TO_ISSUER","ISSUER_RESPONSE","ISSUER_TIMEOUT","RESPONSE_SENT","REVERSAL_RECEIVED","REVERSAL_FORWARDED","REVERSAL_RESPONSE"] as const;
export type GatewayEventType = (typeof GATEWAY_EVENT_TYPES)[number];

export const NETWORKS = ["UNIONPAY","VISA","MASTERCARD","OTHER"] as const;
export type Network = (typeof NETWORKS)[number];

export const TERMINAL_EVENT_TYPES = ["TXN_STARTED","REQUEST_SENT","RESPONSE_RECEIVED","TXN_COMPLETED","TXN_FAILED","REVERSAL_SENT","DEVICE_FAULT"] as const;
export type TerminalEventType = (typeof TERMINAL_EVENT_TYPES)[number];

export const TXN_TYPES = ["SALE","PREAUTH","REFUND","VOID"] as const;
export type TxnType = (typeof TXN_TYPES)[number];
/** An event emitted by a POS terminal, via the terminal management system. Topic pos.terminal.events, key terminal_id. */
export interface TerminalEvent {
  /** Unique id of this event (UUID). A redelivered event carries the same id; duplicates change nothing. */
  event_id: string;
  /** When it happened, by the producer's clock, epoch milliseconds. Terminal clocks drift up to +/-5 minutes from true time. */
  event_time: number;
  /** Card acceptor terminal id, ISO 8583 field 41, 8 characters. */
  terminal_id: string;
  /** Card acceptor id code, ISO 8583 field 42, 15 characters. */
  merchant_id: string;
  /** System trace audit number, ISO 8583 field 11, 6 digits, set by the terminal per attempt; unique per terminal within a day, wraps after 999999. */
  stan: string;
  /** What happened at the terminal. TXN_COMPLETED with response_code 00 means the customer was shown 'approved'; any other final state is TXN_FAILED; a terminal that dies mid-transaction emits no final event. */
  event_type: TerminalEventType;
  /** Kind of transaction; present on all but DEVICE_FAULT. */
  txn_type: null | TxnType;
  /** Amount in the currency's minor unit; present on all but DEVICE_FAULT. */
  amount_minor: null | number;
  /** ISO 4217 alpha-3 currency code; present on all but DEVICE_FAULT. */
  currency: null | string;
  /** Token of the card number, never the number itself; present on all but DEVICE_FAULT. */
  card_token: null | string;
  /** Masked card number: first 6 and last 4 digits, the rest masked. Optional. */
  masked_pan: null | string;
  /** How the card was read; on TXN_STARTED. */
  entry_mode: null | EntryMode;
  /** ISO 8583 field 39 response code as seen by the terminal ('00' = approved); on RESPONSE_RECEIVED, TXN_COMPLETED and TXN_FAILED when known. */
  response_code: null | string;
  /** Why the transaction failed; on TXN_FAILED. */
  failure_reason: null | FailureReason;
  /** Which component faulted; on DEVICE_FAULT. */
  fault_component: null | FaultComponent;
  /** On REVERSAL_SENT: the stan of the attempt being reversed. */
  orig_stan: null | string;
  /** On TXN_STARTED: latitude of the terminal's registered location, degrees. */
  lat: null | number;
  /** On TXN_STARTED: longitude of the terminal's registered location, degrees. */
  lon: null | number;
}

export const TERMINAL_EVENT_FIELDS = ["event_id","event_time","terminal_id","merchant_id","stan","event_type","txn_type","amount_minor","currency","card_token","masked_pan","entry_mode","response_code","failure_reason","fault_component","orig_stan","lat","lon"] as const;

/** An event of the acquirer's payment gateway / switch. Topic pos.gateway.events, key terminal_id. */
export interface GatewayEvent {
  /** Unique id of this event (UUID). A redelivered event carries the same id; duplicates change nothing. */
  event_id: string;
  /** When it happened, by the producer's clock, epoch milliseconds. NTP-synced (+/-1 s). */
  event_time: number;
  /** Card acceptor terminal id, ISO 8583 field 41, 8 characters. Echoed from the terminal's request. */
  terminal_id: string;
  /** Card acceptor id code, ISO 8583 field 42, 15 characters. */
  merchant_id: string;
  /** System trace audit number, ISO 8583 field 11, 6 digits, set by the terminal per attempt; unique per terminal within a day, wraps after 999999. */
  stan: string;
  /** What happened at the gateway. */
  event_type: GatewayEventType;
  /** Retrieval reference number, ISO 8583 field 37, 12 characters, assigned by the gateway at REQUEST_RECEIVED and carried on every later event of that attempt, and by the bank. */
  rrn: string;
  /** Kind of transaction. */
  txn_type: TxnType;
  /** Amount in the currency's minor unit. */
  amount_minor: number;
  /** ISO 4217 alpha-3 currency code. */
  currency: string;
  /** Token of the card number, never the number itself. */
  card_token: string;
  /** The issuing bank's institution code. */
  issuer_id: string;
  /** Card network the request was routed through. */
  network: Network;
  /** ISO 8583 field 39 response code; on ISSUER_RESPONSE, RESPONSE_SENT and REVERSAL_RESPONSE. After ISSUER_TIMEOUT the gateway answers the terminal '68' (response received too late). */
  response_code: null | string;
  /** On ISSUER_RESPONSE: time the issuer took, milliseconds. */
  latency_ms: null | number;
  /** On reversal events: the rrn being reversed. */
  orig_rrn: null | string;
}

export const GATEWAY_EVENT_FIELDS = ["event_id","event_time","terminal_id","merchant_id","stan","event_type","rrn","txn_type","amount_minor","currency","card_token","issuer_id","network","response_code","latency_ms","orig_rrn"] as const;

/** An authorization event of the issuer's core-banking system. Topic bank.core.authorizations, key terminal_id. */
export interface BankEvent {
  /** Unique id of this event (UUID). A redelivered event carries the same id; duplicates change nothing. */
  event_id: string;
  /** When it happened, by the producer's clock, epoch milliseconds. NTP-synced (+/-1 s). */
  event_time: number;
  /** Card acceptor terminal id, ISO 8583 field 41, 8 characters. Echoed from the terminal's request. */
  terminal_id: string;
  /** Card acceptor id code, ISO 8583 field 42, 15 characters. */
  merchant_id: string;
  /** System trace audit number, ISO 8583 field 11, 6 digits, set by the terminal per attempt; unique per terminal within a day, wraps after 999999. */
  stan: string;
  /** What the issuer's core did. AUTH_APPROVED means the money is held or taken from the cardholder's account; REVERSAL_APPLIED gives it back. */
  event_type: BankEventType;
  /** Retrieval reference number as received from the gateway, 12 characters. */
  rrn: string;
  /** Kind of transaction. */
  txn_type: TxnType;
  /** Amount in the currency's minor unit. */
  amount_minor: number;
  /** ISO 4217 alpha-3 currency code. */
  currency: string;
  /** Token of the card number, never the number itself. */
  card_token: string;
  /** The issuing bank's institution code. */
  issuer_id: string;
  /** One-way hash of the cardholder account. */
  account_ref: string;
  /** On AUTH_APPROVED: the 6-character authorization code. */
  auth_code: null | string;
  /** '00' on AUTH_APPROVED, the decline code otherwise. */
  response_code: string;
  /** On REVERSAL_APPLIED, REVERSAL_REJECTED and REFUND_POSTED: the rrn being reversed or refunded. */
  orig_rrn: null | string;
}

export const BANK_EVENT_FIELDS = ["event_id","event_time","terminal_id","merchant_id","stan","event_type","rrn","txn_type","amount_minor","currency","card_token","issuer_id","account_ref","auth_code","response_code","orig_rrn"] as const;
