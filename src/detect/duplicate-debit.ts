/** DUPLICATE_DEBIT: the same card charged twice for one purchase (docs/semantics.md). */
import type { AnomalyStatus } from './anomaly.js';
import { debitFacts } from './debit-facts.js';
import { H_DEBIT_AT, type Txn } from '../engine/txn.js';

export interface DuplicateDecision {
  readonly status: AnomalyStatus;
  /** The earlier debits it duplicates, by rrn order. */
  readonly firsts: readonly Txn[];
}

/** True when debit a comes before debit b: earlier time, or equal time and smaller rrn. */
export function debitBefore(a: Txn, b: Txn): boolean {
  const ta = a.n[H_DEBIT_AT];
  const tb = b.n[H_DEBIT_AT];
  return ta < tb || (ta === tb && (a.rrn ?? '') < (b.rrn ?? ''));
}

/**
 * `group`: every held debit with the same card, merchant, amount and currency
 * (x included). null when x is no duplicate.
 */
export function decideDuplicate(x: Txn, group: readonly Txn[], windowMs: number, graceMs: number, horizonMs: number): DuplicateDecision | null {
  if (group.length < 2) return null;
  const fx = debitFacts(x, graceMs, horizonMs);
  if (fx.reversedWithinGrace) return null;
  const t2 = x.n[H_DEBIT_AT];
  const firsts: Txn[] = [];
  let resolved = fx.reversedAfterGraceWithinHorizon;
  for (const y of group) {
    if (y === x || !debitBefore(y, x) || t2 - y.n[H_DEBIT_AT] > windowMs) continue;
    const fy = debitFacts(y, graceMs, horizonMs);
    if (fy.reversedWithinGrace) continue;
    firsts.push(y);
    if (fy.reversedAfterGraceWithinHorizon) resolved = true;
  }
  if (firsts.length === 0) return null;
  firsts.sort((a, b) => ((a.rrn ?? '') < (b.rrn ?? '') ? -1 : 1));
  return { status: resolved ? 'AUTO_RESOLVED' : 'OPEN', firsts };
}
