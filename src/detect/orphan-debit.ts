/** ORPHAN_DEBIT: charged, but the terminal never completed the sale (docs/semantics.md). */
import type { AnomalyStatus, OrphanCause } from '../events/anomaly.js';
import type { DebitFacts } from './debit-facts.js';

export interface OrphanDecision {
  readonly cause: OrphanCause;
  readonly status: AnomalyStatus;
}

/** null when the debit is not (or no longer) an orphan. */
export function decideOrphan(f: DebitFacts): OrphanDecision | null {
  if (f.completed00 || f.reversedWithinGrace) return null;
  return { cause: orphanCause(f), status: f.reversedAfterGraceWithinHorizon ? 'AUTO_RESOLVED' : 'OPEN' };
}

/** The first cause of detection.md's table that holds. */
export function orphanCause(f: DebitFacts): OrphanCause {
  if (f.reversalReceived) return 'REVERSAL_NOT_APPLIED';
  if (f.reversalSent) return 'REVERSAL_LOST';
  if (!f.gatewayOwn) return 'NO_GATEWAY_RECORD';
  if (f.issuerTimeout) return 'ISSUER_LATE_APPROVAL';
  if (f.issuerResponse00 && f.responseSentNon00) return 'GATEWAY_RESPONSE_MISMATCH';
  if (f.responseSent00 && !f.responseReceived) return 'RESPONSE_LOST_TO_TERMINAL';
  // Stryker disable next-line ConditionalExpression: the `response00At !== Infinity` operand → true is equivalent (then lastFailedAt >= Infinity, false for every finite time); the `>=` boundary stays mutated (EqualityOperator)
  if (f.response00At !== Infinity && f.lastFailedAt >= f.response00At) return 'TERMINAL_FAILED_AFTER_APPROVAL';
  if (!f.completed00 && !f.failed) return 'NO_TERMINAL_OUTCOME';
  return 'UNEXPLAINED';
}
