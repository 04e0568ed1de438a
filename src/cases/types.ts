/**
 * What `posguard case` shows for one attempt: its events on the three streams,
 * the golden record, every version of every anomaly on it, and the decision
 * re-derived step by step from the stored events (explain.ts).
 */
import type { OrphanCause } from '../events/anomaly.js';
import type { LabelView, SuppressionView } from './annotations.js';

export type Stream = 'terminal' | 'gateway' | 'bank';

/** One stored event (events_raw), with the payload fields the rules read. */
export interface CaseEvent {
  readonly stream: Stream;
  readonly event_id: string;
  readonly event_type: string;
  /** Producer's clock, epoch ms (terminal clocks drift). */
  readonly event_time: number;
  readonly terminal_id: string;
  readonly merchant_id: string;
  readonly stan: string;
  readonly rrn: string | null;
  readonly orig_rrn: string | null;
  readonly orig_stan: string | null;
  readonly response_code: string | null;
  readonly failure_reason: string | null;
  readonly txn_type: string | null;
  readonly amount_minor: number | null;
  readonly currency: string | null;
  /** When ClickHouse stored it (wall clock, seconds): the closest thing to arrival that is kept. */
  readonly inserted_at: string | null;
  /** Where it came from: topic/partition@offset or file:line. */
  readonly source: string;
  /** Arrived after the watermark (also in late_events). */
  readonly late: boolean;
}

/** A reference to an event in an explanation. */
export interface EventRef {
  readonly stream: Stream;
  readonly event_type: string;
  readonly event_id: string;
  readonly event_time: number;
  readonly note?: string;
}

export type StepResult = 'holds' | 'fails' | 'not reached';

export interface RuleStep {
  /** `debit`, `not completed`, `no reversal in grace` (gates) or a cause name. */
  readonly rule: string;
  readonly result: StepResult;
  /** One sentence: what the rule asks, and what the stored events say. */
  readonly because: string;
  readonly evidence: readonly EventRef[];
}

export interface RulesApplied {
  /** Where the thresholds come from: the anomaly rows' recorded rules, or this run's --rules/defaults. */
  readonly source: string;
  readonly rules_version: string | null;
  readonly reversalGraceMs: number;
  readonly resolutionHorizonMs: number;
  readonly terminalMaxDriftMs: number;
  readonly maxDelayMs: number;
}

export interface Explanation {
  readonly rrn: string | null;
  readonly attempt: { readonly terminal_id: string; readonly stan: string; readonly linked_by: string } | null;
  /** The gates (is it an orphan at all?) then the causes in precedence order. */
  readonly steps: readonly RuleStep[];
  readonly orphan: boolean;
  readonly cause: OrphanCause | null;
  /** OPEN / AUTO_RESOLVED when an orphan; null otherwise. */
  readonly status: 'OPEN' | 'AUTO_RESOLVED' | null;
  readonly rules: RulesApplied;
}

export interface ClockOffset {
  /** Terminal clock minus gateway clock for this attempt, ms (positive: the terminal runs fast). */
  readonly attemptMs: number | null;
  readonly attemptBasis: string | null;
  /** Median of the same over the terminal's attempts within ±12 h: drift is steady per terminal. */
  readonly terminalMedianMs: number | null;
  readonly terminalAttempts: number;
  /** The allowed drift (rules time.terminalMaxDriftMs). */
  readonly maxDriftMs: number;
}

export interface AnomalyVersion {
  readonly anomaly_id: string;
  readonly version: number;
  readonly kind: string;
  readonly cause: string | null;
  readonly status: string;
  readonly event_time: number;
  readonly detected_at: number;
  readonly rrn: string | null;
  /** Other debits in the decision (the earlier debit of a duplicate, the window of a pattern). */
  readonly related_rrns: readonly string[];
  readonly rules_version: string | null;
  /**
   * The streams that were stalled and released when this version was decided (migration 010,
   * ../shared/spec/feeds.md): decided without them, so late data may still change it. Empty: complete input.
   */
  readonly feed_gaps: readonly string[];
  /** The suppression this version was written under (suppressed_by), with its reason and expiry; null when none. */
  readonly suppression: SuppressionView | null;
  /** The anomaly's latest label, on its latest version only (a label is about the anomaly); null when unlabelled. */
  readonly label: LabelView | null;
  /** Evidence events this version has that the previous one did not: what caused the change. */
  readonly new_evidence: readonly EventRef[];
  /** What changed against the previous version, in words. */
  readonly change: string;
}

/** The decision of a kind other than ORPHAN_DEBIT: its rule's checks against the anomaly's evidence (explain-pattern.ts). */
export interface PatternExplanation {
  readonly anomaly_id: string;
  readonly kind: string;
  readonly version: number;
  readonly status: string;
  readonly rules_version: string | null;
  readonly rules_source: string;
  readonly steps: readonly RuleStep[];
  /** Every check holds under the recorded rules. */
  readonly holds: boolean;
}

export interface CaseView {
  /** What the user asked for, as given. */
  readonly query: string;
  readonly rrn: string | null;
  readonly terminal_id: string;
  readonly stan: string;
  readonly timeline: readonly CaseEvent[];
  readonly clock: ClockOffset;
  readonly golden: Readonly<Record<string, unknown>> | null;
  readonly anomalies: readonly AnomalyVersion[];
  readonly explanation: Explanation;
  /** One per non-orphan anomaly on the attempt (latest version). */
  readonly patterns: readonly PatternExplanation[];
  /** The kind of the anomaly the case was opened by (anomaly id), else null: a non-orphan kind shows its own rule, not the orphan walk. */
  readonly focus_kind: string | null;
  /** The current stored orphan cause (latest version), for the agreement check. */
  readonly stored_cause: string | null;
  readonly stored_status: string | null;
  /** True when the re-derived decision equals the stored one (orphan cause and status, or no orphan). */
  readonly agrees: boolean | null;
}
