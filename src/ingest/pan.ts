/**
 * Clear card numbers (PANs) must never be stored or logged. A PAN is 13-19
 * digits passing the Luhn check; anything that looks like one is refused at the
 * edge, and raw payloads kept for forensics are scrubbed first.
 */
function luhnOk(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

export function looksLikePan(s: string): boolean {
  const digits = s.replace(/[ -]/g, '');
  return /^\d{13,19}$/.test(digits) && luhnOk(digits);
}

function mask(digits: string): string {
  return digits.slice(0, 6) + '*'.repeat(digits.length - 10) + digits.slice(-4);
}

/** Masks every PAN-like digit run in free text (first 6 and last 4 kept). */
function scrubText(text: string): string {
  return text.replace(/\d[\d -]{11,22}\d/g, (m) => {
    const digits = m.replace(/[ -]/g, '');
    return /^\d{13,19}$/.test(digits) && luhnOk(digits) ? mask(digits) : m;
  });
}

/** Fields that hold 13-digit numbers by design (epoch ms): never card numbers. */
const NUMERIC_NON_PAN = new Set(['event_time', 'amount_minor', 'latency_ms', 'lat', 'lon']);

function scrubValue(v: unknown, key: string | null): unknown {
  if (typeof v === 'string') return scrubText(v);
  if (typeof v === 'number') {
    if (key !== null && NUMERIC_NON_PAN.has(key)) return v;
    const s = Number.isInteger(v) ? String(v) : '';
    return /^\d{13,19}$/.test(s) && luhnOk(s) ? mask(s) : v;
  }
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, null));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = scrubValue(x, k);
    return out;
  }
  return v;
}

/**
 * Returns a payload safe to keep: a JSON payload has its string values (and
 * numbers outside the known time/amount fields) masked where they look like a
 * PAN, so timestamps stay intact; anything else is scrubbed as text.
 */
export function scrubPans(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return scrubText(text);
  }
  const scrubbed = JSON.stringify(scrubValue(parsed, null));
  // Keep the original bytes when nothing needed masking.
  return scrubbed === JSON.stringify(parsed) ? text : scrubbed;
}
