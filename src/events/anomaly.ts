/** The anomaly record every detector emits and every sink receives. */
import { createHash } from 'node:crypto';
import type { Severity } from '../config/rules.js';
import type { Stream } from './index.js';

export const ANOMALY_KINDS = [
  'ORPHAN_DEBIT', 'DUPLICATE_DEBIT', 'AMOUNT_MISMATCH',
  'CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL', 'TERMINAL_FAULT_SPIKE',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** In the order detection.md tests them: the first that holds is the cause. */
export const ORPHAN_CAUSES = [
  'REVERSAL_NOT_APPLIED', 'REVERSAL_LOST', 'NO_GATEWAY_RECORD', 'ISSUER_LATE_APPROVAL',
  'GATEWAY_RESPONSE_MISMATCH', 'RESPONSE_LOST_TO_TERMINAL', 'TERMINAL_FAILED_AFTER_APPROVAL',
  'NO_TERMINAL_OUTCOME', 'UNEXPLAINED',
] as const;
export type OrphanCause = (typeof ORPHAN_CAUSES)[number];

export const ANOMALY_STATUSES = ['OPEN', 'AUTO_RESOLVED', 'RETRACTED'] as const;
export type AnomalyStatus = (typeof ANOMALY_STATUSES)[number];

export interface EvidenceEvent {
  readonly event_id: string;
  readonly event_type: string;
  readonly event_time: number;
  /** Only the fields that mattered to the decision (response_code, orig_rrn, amount...). */
  readonly detail?: Readonly<Record<string, string | number | null>>;
}

export interface Evidence {
  readonly terminal: readonly EvidenceEvent[];
  readonly gateway: readonly EvidenceEvent[];
  readonly bank: readonly EvidenceEvent[];
}

export interface Anomaly {
  readonly anomaly_id: string;
  readonly kind: AnomalyKind;
  readonly cause: OrphanCause | null;
  readonly status: AnomalyStatus;
  readonly severity: Severity;
  /** 1 for the first emission, +1 per emitted change; the highest is the current state. */
  readonly version: number;
  /** event_time of the triggering event (epoch ms). */
  readonly event_time: number;
  /** Wall-clock time of this emission (epoch ms): the only non-event-time field. */
  readonly detected_at: number;
  readonly terminal_id: string | null;
  readonly merchant_id: string | null;
  readonly card_token: string | null;
  readonly rrn: string | null;
  readonly stan: string | null;
  readonly issuer_id: string | null;
  readonly amount_minor: number | null;
  readonly currency: string | null;
  readonly related_rrns: readonly string[];
  readonly evidence: Evidence;
  /**
   * Set by the ClickHouse paths (demo, run) when an active suppression covers
   * this anomaly: that suppression's id. Absent otherwise; never part of the id.
   */
  readonly suppressed_by?: string | null;
  /**
   * Live input only (../shared/spec/feeds.md): the streams of this anomaly's
   * partition that were stalled and released (no longer holding the
   * watermark) when it was decided, sorted terminal, gateway, bank. Absent
   * or empty: decided on complete input. Never part of the id.
   */
  readonly feed_gaps?: readonly Stream[];
}

/** Deterministic id: same kind and key, same id, across runs and restarts. */
export function anomalyId(kind: AnomalyKind, key: string): string {
  return createHash('sha256').update(kind).update('|').update(key).digest('hex').slice(0, 32);
}

/** UTC calendar day of an epoch-ms instant, YYYY-MM-DD. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
