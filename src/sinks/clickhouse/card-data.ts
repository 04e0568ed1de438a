/**
 * The sink's own check for card data (the validator refuses the same upstream;
 * this is the second line). A PAN is 13-19 digits passing Luhn, spaces and
 * dashes allowed (src/ingest/pan.ts).
 */
import { looksLikePan } from '../../ingest/pan.js';

const MASKED_PAN = /^\d{6}[*X]{3,9}\d{4}$/;

/** Why these card fields must not be stored, or null when they are fine. */
export function cardDataProblem(cardToken: string | null | undefined, maskedPan: string | null | undefined): string | null {
  if (panLike(cardToken)) return 'card_token looks like a clear card number (PAN)';
  if (maskedPan !== null && maskedPan !== undefined && !MASKED_PAN.test(maskedPan)) return 'masked_pan is not masked (first 6 and last 4 digits only)';
  return null;
}

/** card_token values are tokens; only digit strings can be PANs, so most are rejected on the first character. */
function panLike(s: string | null | undefined): boolean {
  if (s === null || s === undefined || s.length < 13) return false;
  const c = s.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 32 || c === 45)) return false;
  return looksLikePan(s);
}
