/** Helpers for the batch-reference tests (events come from ./builders.ts). */
import { buildRules, type Rules } from '../../src/config/rules.js';
import type { Anomaly, AnomalyKind } from '../../src/events/anomaly.js';

const SECTIONS: Record<AnomalyKind, string> = {
  ORPHAN_DEBIT: 'orphanDebit',
  DUPLICATE_DEBIT: 'duplicateDebit',
  AMOUNT_MISMATCH: 'amountMismatch',
  CARD_TESTING: 'cardTesting',
  CARD_VELOCITY: 'cardVelocity',
  IMPOSSIBLE_TRAVEL: 'impossibleTravel',
  TERMINAL_FAULT_SPIKE: 'terminalFaultSpike',
};

/** Default rules with every kind but `kind` disabled, so a test sees only what it is about. */
export function onlyKind(kind: AnomalyKind, overrides: Record<string, unknown> = {}): Rules {
  const input: Record<string, unknown> = {};
  for (const [k, section] of Object.entries(SECTIONS)) input[section] = { enabled: k === kind };
  for (const [section, v] of Object.entries(overrides)) input[section] = { ...(input[section] as object), ...(v as object) };
  return buildRules(input);
}

/** The decision-relevant fields, for exact assertions that stay readable. */
export function brief(a: Anomaly) {
  return { kind: a.kind, rrn: a.rrn, cause: a.cause, status: a.status, related_rrns: a.related_rrns };
}
