/**
 * The per-attempt "golden record" the engine emits once an attempt's windows
 * have closed and its state is released (ClickHouse table `transactions`).
 * Times are epoch ms in each stream's own clock (terminal times may drift).
 */
export type TerminalOutcome = 'SUCCESS' | 'FAILED' | 'NONE';

export interface TransactionRecord {
  /** Deterministic: `${terminal_id}:${stan}` plus `:${rrn}` when known. */
  readonly txn_key: string;
  /** 1 when first closed; +1 each time late evidence changes it (ReplacingMergeTree version). */
  readonly version: number;
  readonly terminal_id: string | null;
  readonly merchant_id: string | null;
  readonly stan: string | null;
  readonly rrn: string | null;
  readonly issuer_id: string | null;
  readonly network: string | null;
  readonly card_token: string | null;
  readonly masked_pan: string | null;
  readonly txn_type: string | null;
  readonly entry_mode: string | null;
  readonly terminal_amount_minor: number | null;
  readonly terminal_currency: string | null;
  readonly gateway_amount_minor: number | null;
  readonly gateway_currency: string | null;
  readonly bank_amount_minor: number | null;
  readonly bank_currency: string | null;
  readonly terminal_started_at: number | null;
  readonly terminal_request_at: number | null;
  readonly terminal_response_at: number | null;
  readonly terminal_final_at: number | null;
  readonly gateway_received_at: number | null;
  readonly gateway_forwarded_at: number | null;
  readonly gateway_issuer_response_at: number | null;
  readonly gateway_response_sent_at: number | null;
  readonly bank_auth_at: number | null;
  readonly bank_reversal_at: number | null;
  readonly terminal_outcome: TerminalOutcome;
  readonly terminal_response_code: string | null;
  readonly failure_reason: string | null;
  readonly issuer_response_code: string | null;
  readonly gateway_response_code: string | null;
  readonly bank_response_code: string | null;
  readonly issuer_timeout: boolean;
  readonly debited: boolean;
  readonly reversed: boolean;
  /** RESPONSE_SENT − REQUEST_RECEIVED at the gateway, ms. */
  readonly gateway_latency_ms: number | null;
  /** latency_ms reported on ISSUER_RESPONSE. */
  readonly issuer_latency_ms: number | null;
  readonly anomaly_ids: readonly string[];
  readonly anomaly_kinds: readonly string[];
}
