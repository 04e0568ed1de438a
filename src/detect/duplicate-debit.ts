/** DUPLICATE_DEBIT: the same card charged twice for one purchase (docs/semantics.md). */
import type { AnomalyStatus } from '../events/anomaly.js';
import type { AttemptView } from './attempt-view.js';
import { debitFacts } from './debit-facts.js';

export interface DuplicateDecision<A extends AttemptView = AttemptView> {
  readonly status: AnomalyStatus;
  /** The earlier debits it duplicates, by rrn order. */
  readonly firsts: readonly A[];
}

/** True when debit a comes before debit b: earlier time, or equal time and smaller rrn. */
export function debitBefore(a: AttemptView, b: AttemptView): boolean {
  const ta = a.debitAt;
  const tb = b.debitAt;
  return ta < tb || (ta === tb &&
    // Stryker disable next-line EqualityOperator,StringLiteral: equivalent (`<=`, the '' fallback): two different debits never share an rrn and a debit always has one (`>`/`>=`, killed, are hidden with them)
    (a.rrn ?? '') < (b.rrn ?? ''));
}

/**
 * `group`: every held debit with the same card, merchant, amount and currency
 * (x included). null when x is no duplicate.
 */
export function decideDuplicate<A extends AttemptView>(x: A, group: readonly A[], windowMs: number, graceMs: number, horizonMs: number): DuplicateDecision<A> | null {
  // Stryker disable next-line ConditionalExpression: → false is equivalent: with one debit the loop finds no earlier one and returns null anyway (→ true, killed, is hidden with it)
  if (group.length < 2) return null;
  const fx = debitFacts(x, graceMs, horizonMs);
  if (fx.reversedWithinGrace) return null;
  const t2 = x.debitAt;
  const firsts: A[] = [];
  let resolved = fx.reversedAfterGraceWithinHorizon;
  for (const y of group) {
    // Stryker disable next-line ConditionalExpression: → false is equivalent: debitBefore(x, x) is false, so the next test skips x (→ true, killed, is hidden with it)
    if (y === x) continue;
    if (!debitBefore(y, x) || t2 - y.debitAt > windowMs) continue;
    const fy = debitFacts(y, graceMs, horizonMs);
    if (fy.reversedWithinGrace) continue;
    firsts.push(y);
    if (fy.reversedAfterGraceWithinHorizon) resolved = true;
  }
  if (firsts.length === 0) return null;
  // Stryker disable next-line EqualityOperator,StringLiteral: equivalent (`<=`, the '' fallback): two different debits never share an rrn and a debit always has one (`>`/`>=`, killed, are hidden with them)
  firsts.sort((a, b) => ((a.rrn ?? '') < (b.rrn ?? '') ? -1 : 1));
  return { status: resolved ? 'AUTO_RESOLVED' : 'OPEN', firsts };
}
