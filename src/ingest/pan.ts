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

/** Replaces every PAN-like digit run in free text by its masked form (first 6, last 4). */
export function scrubPans(text: string): string {
  return text.replace(/\d[\d -]{11,22}\d/g, (m) => {
    const digits = m.replace(/[ -]/g, '');
    if (!/^\d{13,19}$/.test(digits) || !luhnOk(digits)) return m;
    return digits.slice(0, 6) + '*'.repeat(digits.length - 10) + digits.slice(-4);
  });
}
