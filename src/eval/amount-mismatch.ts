/**
 * AMOUNT_MISMATCH, docs/semantics.md: a debit whose amount_minor or currency
 * differs from its attempt's terminal REQUEST_SENT (the earliest by terminal
 * (event_time, event_id)). No REQUEST_SENT, no evaluation. Reversals do not
 * cancel it; a reversal with time <= t + horizon makes it AUTO_RESOLVED.
 */
import type { Rules } from '../config/rules.js';
import type { Anomaly } from '../events/anomaly.js';
import { byTimeThenId, type Dataset } from './dataset.js';
import { debitFields, evidence, makeAnomaly, reversalEvidence } from './record.js';

export function amountMismatches(ds: Dataset, rules: Rules): Anomaly[] {
  const horizonMs = rules.debits.resolutionHorizonMs;
  const out: Anomaly[] = [];
  for (const d of ds.debits) {
    const request = ds.terminalOf(d.attempt).filter((e) => e.event_type === 'REQUEST_SENT').sort(byTimeThenId)[0];
    if (request === undefined) continue;
    if (request.amount_minor === d.event.amount_minor && request.currency === d.event.currency) continue;
    const reversals = ds.reversalsOf(d.rrn);
    out.push(makeAnomaly('AMOUNT_MISMATCH', d.rrn, rules, {
      ...debitFields(d.event, d.attempt),
      status: reversals.some((r) => r.event_time - d.t <= horizonMs) ? 'AUTO_RESOLVED' : 'OPEN',
      evidence: evidence({ terminal: [request], bank: [d.event, ...reversalEvidence(reversals, d.t, horizonMs)] }),
    }));
  }
  return out;
}
