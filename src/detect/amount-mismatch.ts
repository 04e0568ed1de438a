/** AMOUNT_MISMATCH: the bank took another amount (or currency) than the terminal asked for. */
import type { AnomalyStatus } from '../events/anomaly.js';
import type { AttemptView } from './attempt-view.js';
import type { DebitFacts } from './debit-facts.js';

/** null when not evaluated (no REQUEST_SENT) or amounts agree. */
export function decideAmountMismatch(x: AttemptView, f: DebitFacts): { status: AnomalyStatus } | null {
  if (x.requestIndex < 0) return null;
  const sameAmount = x.requestAmount === x.debitAmount;
  const sameCurrency = x.terminalCurrency === x.debitCurrency;
  if (sameAmount && sameCurrency) return null;
  // The spec sets no reversal condition: a reversed mismatch stays, as resolved.
  return { status: f.reversedWithinHorizon ? 'AUTO_RESOLVED' : 'OPEN' };
}
