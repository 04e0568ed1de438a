/** AMOUNT_MISMATCH: the bank took another amount (or currency) than the terminal asked for. */
import type { AnomalyStatus } from './anomaly.js';
import type { DebitFacts } from './debit-facts.js';
import { H_DEBIT_AMOUNT, H_REQ_AMOUNT, H_REQ_IDX, type Txn } from '../engine/txn.js';

/** null when not evaluated (no REQUEST_SENT) or amounts agree. */
export function decideAmountMismatch(x: Txn, f: DebitFacts): { status: AnomalyStatus } | null {
  const n = x.n;
  if (n[H_REQ_IDX] < 0) return null;
  const sameAmount = n[H_REQ_AMOUNT] === n[H_DEBIT_AMOUNT];
  const sameCurrency = x.termCurrency === x.info?.bankCurrency;
  if (sameAmount && sameCurrency) return null;
  // The spec sets no reversal condition: a reversed mismatch stays, as resolved.
  return { status: f.reversedWithinHorizon ? 'AUTO_RESOLVED' : 'OPEN' };
}
