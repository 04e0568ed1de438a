/**
 * The sink's own check for card data (the validator refuses the same
 * upstream; this is the second line): every top-level string field of a row
 * (and strings in arrays such as related_rrns) is scanned for a clear card
 * number by the same rule as the validator (src/util/pan.ts), and
 * masked_pan must be masked.
 */
import { numberLooksLikePan, panField } from '../../util/pan.js';

const MASKED_PAN = /^\d{6}[*X]{3,9}\d{4}$/;

/** Why this record must not be stored, or null when it is fine. */
export function cardDataProblem(record: object): string | null {
  const r = record as Readonly<Record<string, unknown>>;
  const maskedPan = r.masked_pan;
  if (typeof maskedPan === 'string' && !MASKED_PAN.test(maskedPan)) return 'masked_pan is not masked (first 6 and last 4 digits only)';
  const field = panField(r);
  if (field !== null) return `${field} looks like a clear card number (PAN)`;
  if (typeof r.amount_minor === 'number' && numberLooksLikePan(r.amount_minor)) return 'amount_minor looks like a clear card number (PAN)';
  return null;
}
