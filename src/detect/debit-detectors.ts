/**
 * The three debit kinds as the engine calls them: one DebitDetector each, in
 * the order their versions are emitted for one debit. The engine hands every
 * detector the attempt (an AttemptView), the facts read once from its events,
 * and its duplicate group; it never reaches into a detector's decision, and a
 * detector never sees the engine's storage.
 */
import type { Rules, Severity } from '../config/rules.js';
import { decideAmountMismatch } from './amount-mismatch.js';
import type { AnomalyKind, AnomalyStatus, OrphanCause } from '../events/anomaly.js';
import type { AttemptView } from './attempt-view.js';
import type { DebitFacts } from './debit-facts.js';
import { decideDuplicate } from './duplicate-debit.js';
import type { EvidenceScope } from './evidence.js';
import { decideOrphan } from './orphan-debit.js';

/** A detector's decision about one debit. */
export interface DebitVerdict<A extends AttemptView> {
  readonly status: AnomalyStatus;
  readonly cause: OrphanCause | null;
  /** Other attempts the decision rests on (a duplicate's first charges, rrn order); they are cited in its evidence. */
  readonly related: readonly A[];
}

export interface DebitDetector {
  readonly kind: AnomalyKind;
  /** Which events of the attempts the anomaly cites (evidence.ts). */
  readonly evidenceScope: EvidenceScope;
  severity(rules: Rules): Severity;
  /**
   * null when the anomaly does not hold, or its kind is off. `group`: the held
   * debits with x's card, merchant, amount and currency (x included), undefined
   * when x is in none.
   */
  decide<A extends AttemptView>(x: A, facts: DebitFacts, group: readonly A[] | undefined, rules: Rules): DebitVerdict<A> | null;
}

const NONE: readonly never[] = [];

export const orphanDebitDetector: DebitDetector = {
  kind: 'ORPHAN_DEBIT',
  evidenceScope: 'ATTEMPT',
  severity: (r) => r.orphanDebit.severity,
  decide(_x, f, _group, r) {
    const d = r.orphanDebit.enabled ? decideOrphan(f) : null;
    return d === null ? null : { status: d.status, cause: d.cause, related: NONE };
  },
};

export const amountMismatchDetector: DebitDetector = {
  kind: 'AMOUNT_MISMATCH',
  evidenceScope: 'AMOUNT',
  severity: (r) => r.amountMismatch.severity,
  decide(x, f, _group, r) {
    const d = r.amountMismatch.enabled ? decideAmountMismatch(x, f) : null;
    return d === null ? null : { status: d.status, cause: null, related: NONE };
  },
};

export const duplicateDebitDetector: DebitDetector = {
  kind: 'DUPLICATE_DEBIT',
  evidenceScope: 'DEBIT',
  severity: (r) => r.duplicateDebit.severity,
  decide(x, _f, group, r) {
    if (!r.duplicateDebit.enabled || group === undefined) return null;
    const d = decideDuplicate(x, group, r.duplicateDebit.windowMs, r.debits.reversalGraceMs, r.debits.resolutionHorizonMs);
    return d === null ? null : { status: d.status, cause: null, related: d.firsts };
  },
};

/** Every debit kind, in emission order. */
export const DEBIT_DETECTORS: readonly DebitDetector[] = [orphanDebitDetector, amountMismatchDetector, duplicateDebitDetector];
