/**
 * Ground truth for a simulated data set: one label per injected scenario
 * (and per deliberately broken line), written to labels.jsonl.
 *
 * `expected` lists every anomaly the scenario must produce under
 * docs/semantics.md once all evidence is in (what the batch reference
 * reports). Background traffic is kept anomaly-free, so the union of all
 * labels' `expected` is the complete expected result of the data set.
 * `streaming` describes extra intermediate versions a streaming engine may
 * emit on the way (OPEN then RETRACTED when evidence arrives late).
 */
import type { AnomalyKind, OrphanCause } from '../events/anomaly.js';

export interface ExpectedAnomaly {
  kind: AnomalyKind;
  cause?: OrphanCause;
  /** Final status: OPEN or AUTO_RESOLVED (RETRACTED anomalies are not expected, see `streaming`). */
  status: 'OPEN' | 'AUTO_RESOLVED';
  /** The anomaly key of docs/semantics.md "Identity": rrn, `card_token|YYYY-MM-DD` or `terminal_id|YYYY-MM-DD`. */
  key: string;
  /** ORPHAN/DUPLICATE/AMOUNT: the debit; patterns: the triggering event's rrn (null for terminal spikes). */
  rrn?: string;
  /** DUPLICATE_DEBIT: every earlier debit it duplicates; IMPOSSIBLE_TRAVEL: every earlier debit too far away. */
  related_rrns?: string[];
  /** Bank (or, for TERMINAL_FAULT_SPIKE, terminal) event_time of the triggering event. */
  event_time?: number;
}

export interface SimLabel {
  /** Scenario name, e.g. ORPHAN_RESPONSE_LOST_TO_TERMINAL, NEAR_MISS_CARD_TESTING_TWO_MERCHANTS, BAD_RECORD. */
  scenario: string;
  /** Unique within the run, e.g. S000042. */
  scenario_id: string;
  /** The headline anomaly (the first of `expected`); absent for near misses and noise. */
  expected_kind?: string;
  expected_cause?: string;
  expected_status?: string;
  rrn?: string;
  terminal_id: string;
  merchant_id?: string;
  stan?: string;
  card_token?: string;
  /** For near misses: the anomaly kind it almost is. */
  near_miss_of?: string;
  expected: ExpectedAnomaly[];
  /** What a streaming engine shows on the way, when it differs from `expected`. */
  streaming?: string;
  /** True time the scenario starts, epoch ms. */
  start_ms: number;
  /** Late-data scenarios: the event that arrives 2-8 minutes late. */
  late_event_id?: string;
  late_stream?: string;
  late_by_ms?: number;
  /** BAD_RECORD: which file, what is wrong, and the SHA-256 (hex) of the exact line. */
  stream?: string;
  bad_kind?: string;
  line_sha256?: string;
  note?: string;
}

/** A label with its keys in a fixed order (JSON output is stable and readable). */
export function newLabel(scenario: string, scenarioId: string, startMs: number, terminalId: string): SimLabel {
  return {
    scenario,
    scenario_id: scenarioId,
    expected_kind: undefined,
    expected_cause: undefined,
    expected_status: undefined,
    rrn: undefined,
    terminal_id: terminalId,
    merchant_id: undefined,
    stan: undefined,
    card_token: undefined,
    near_miss_of: undefined,
    expected: [],
    streaming: undefined,
    start_ms: startMs,
    late_event_id: undefined,
    late_stream: undefined,
    late_by_ms: undefined,
    stream: undefined,
    bad_kind: undefined,
    line_sha256: undefined,
    note: undefined,
  };
}

/** Sets `expected` and the headline fields from its first entry. */
export function expect(label: SimLabel, expected: ExpectedAnomaly[]): void {
  label.expected = expected;
  const head = expected[0];
  label.expected_kind = head?.kind;
  label.expected_cause = head?.cause;
  label.expected_status = head?.status;
  if (head?.rrn !== undefined) label.rrn = head.rrn;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
