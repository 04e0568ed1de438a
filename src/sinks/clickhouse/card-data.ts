/**
 * The sink's own check for card data (the validator refuses the same
 * upstream; this is the second line): every top-level string field of a row
 * (and strings in arrays such as related_rrns) is scanned for a clear card
 * number by the same rule as the validator (src/util/pan.ts), and
 * masked_pan must be masked.
 */
import { jsonStringsHaveLongRun, numberLooksLikePan, panField } from '../../util/pan.js';

const MASKED_PAN = /^\d{6}[*X]{3,9}\d{4}$/;

/** Why this record must not be stored, or null when it is fine. */
export function cardDataProblem(record: object): string | null {
  return problemOf(record as Readonly<Record<string, unknown>>, true);
}

/**
 * cardDataProblem for a record whose row is already encoded as JSON, with the
 * record's own JSON inside it (events_raw's payload): one pass over that text
 * dismisses every string field at once, and only a row with a long digit run
 * in some string is looked at field by field. Same answer as cardDataProblem
 * (test/sinks/card-data.test.ts), for about a third of the work on a clean event.
 */
export function cardDataProblemEncoded(record: object, json: string): string | null {
  return problemOf(record as Readonly<Record<string, unknown>>, jsonStringsHaveLongRun(json));
}

function problemOf(r: Readonly<Record<string, unknown>>, scanFields: boolean): string | null {
  const maskedPan = r.masked_pan;
  if (typeof maskedPan === 'string' && !MASKED_PAN.test(maskedPan)) return 'masked_pan is not masked (first 6 and last 4 digits only)';
  const field = scanFields ? panField(r) : null;
  if (field !== null) return `${field} looks like a clear card number (PAN)`;
  if (typeof r.amount_minor === 'number' && numberLooksLikePan(r.amount_minor)) return 'amount_minor looks like a clear card number (PAN)';
  return null;
}
