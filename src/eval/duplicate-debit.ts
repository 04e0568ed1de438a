/**
 * DUPLICATE_DEBIT, docs/semantics.md: D2 (R2, t2) is a duplicate when an earlier
 * debit D1 (t1 < t2, or t1 = t2 and R1 < R2) has the same card_token, bank
 * merchant_id, amount_minor and currency, t2 - t1 <= duplicate_window, and
 * neither has a reversal within its own grace. Terminal outcomes play no part.
 */
import type { Rules } from '../config/rules.js';
import type { Anomaly } from '../events/anomaly.js';
import { groupBy, reversedAfterGrace, reversedWithinGrace, type Dataset, type Debit } from './dataset.js';
import { debitFields, evidence, makeAnomaly, reversalEvidence } from './record.js';

/** (t, rrn): the order in which "earlier" is defined for duplicates. */
function byTimeThenRrn(a: Debit, b: Debit): number {
  return a.t - b.t || (a.rrn < b.rrn ? -1 : a.rrn > b.rrn ? 1 : 0);
}

export function duplicateDebits(ds: Dataset, rules: Rules): Anomaly[] {
  const { reversalGraceMs, resolutionHorizonMs } = rules.debits;
  const windowMs = rules.duplicateDebit.windowMs;
  // A debit reversed within its grace can be neither D1 nor D2.
  const candidates = ds.debits.filter((d) => !reversedWithinGrace(ds, d, reversalGraceMs));
  const groups = groupBy(candidates, (d) => JSON.stringify([d.event.card_token, d.event.merchant_id, d.event.amount_minor, d.event.currency]));
  const out: Anomaly[] = [];
  for (const group of groups.values()) {
    group.sort(byTimeThenRrn);
    for (let i = 1; i < group.length; i++) {
      const d2 = group[i];
      const earlier: Debit[] = [];
      for (let j = i - 1; j >= 0 && d2.t - group[j].t <= windowMs; j--) earlier.push(group[j]);
      if (earlier.length === 0) continue;
      const resolved = [d2, ...earlier].some((d) => reversedAfterGrace(ds, d, reversalGraceMs, resolutionHorizonMs));
      const involved = [d2, ...earlier];
      out.push(makeAnomaly('DUPLICATE_DEBIT', d2.rrn, rules, {
        ...debitFields(d2.event, d2.attempt),
        status: resolved ? 'AUTO_RESOLVED' : 'OPEN',
        related_rrns: earlier.map((d) => d.rrn),
        evidence: evidence({ bank: involved.flatMap((d) => [d.event, ...reversalEvidence(ds.reversalsOf(d.rrn), d.t, resolutionHorizonMs)]) }),
      }));
    }
  }
  return out;
}
