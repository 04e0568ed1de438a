/**
 * What the linking engine (stage 1, keyed by terminal) hands to the pattern
 * detectors. Card patterns are stage 2, keyed by card: in one process they are
 * called directly; across instances the same facts travel through a topic
 * re-keyed by card_token (docs/architecture.md).
 */
import type { Anomaly } from '../../events/anomaly.js';
import type { Rules } from '../../config/rules.js';

/** One bank AUTH_APPROVED or AUTH_DECLINED, with the attempt's location when known. */
export interface CardFact {
  readonly event_id: string;
  /** Bank event_time (NTP-synced clock), epoch ms. */
  readonly event_time: number;
  readonly rrn: string;
  readonly card_token: string;
  readonly merchant_id: string;
  readonly terminal_id: string;
  readonly stan: string;
  readonly issuer_id: string;
  readonly txn_type: string;
  readonly amount_minor: number;
  readonly currency: string;
  readonly approved: boolean;
  /** AUTH_APPROVED with txn_type SALE or PREAUTH (docs/semantics.md). */
  readonly debit: boolean;
  /** lat/lon of the attempt's earliest TXN_STARTED that has both, else null. */
  readonly lat: number | null;
  readonly lon: number | null;
  /** True when it reached the engine after the watermark had passed it (order not guaranteed). */
  readonly late: boolean;
}

/** DEVICE_FAULT, or TXN_FAILED with CARD_READ_ERROR / PRINTER_ERROR. */
export interface HardwareSignal {
  readonly event_id: string;
  /** The terminal's own clock, epoch ms. */
  readonly event_time: number;
  readonly terminal_id: string;
  readonly merchant_id: string;
  readonly stan: string;
  readonly event_type: 'DEVICE_FAULT' | 'TXN_FAILED';
  readonly failure_reason: string | null;
  readonly fault_component: string | null;
  /**
   * TXN_FAILED carries the attempt's amount and currency; docs/semantics.md makes
   * them the anomaly's when that signal triggers. Optional (absent = null) so
   * DEVICE_FAULT, which has none, need not set them.
   */
  readonly amount_minor?: number | null;
  readonly currency?: string | null;
}

export type Emit = (a: Anomaly) => void;
export type RulesSource = () => Rules;

/**
 * Stage 2: facts arrive in nondecreasing (event_time, event_id) order, except
 * those flagged late. Must be exact for in-order input.
 */
export interface CardPatternDetector {
  push(f: CardFact): void;
  /** Bank-time low watermark: no in-order fact older than this will come; state older than every window may be released. */
  advance(watermarkMs: number): void;
  activeCards(): number;
}

/**
 * Terminal fault spikes: signals arrive in any order; `advance(w)` with the
 * engine's true-time watermark processes, in (event_time, event_id) order, the
 * buffered signals with event_time <= w - terminalMaxDriftMs.
 */
export interface FaultSpikeDetector {
  push(s: HardwareSignal): void;
  advance(watermarkMs: number): void;
  /** End of a finite input: process everything buffered. */
  end(): void;
}
