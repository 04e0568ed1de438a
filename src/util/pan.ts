/**
 * Clear card numbers (PANs) must never be stored or logged (PCI DSS 3.4).
 *
 * What counts as a PAN here: 13-19 digits passing the Luhn check, written
 * as one or more digit groups separated by single spaces or dashes
 * (`4111111111111111`, `4111 1111 1111 1111`, `4111-1111-1111-1111`),
 * anywhere in a string (`tok_4111111111111111`, `card=4111...;`), not
 * adjacent to further digits, starting with 1-9 (no card number starts with
 * 0, ISO/IEC 7812; zero padding like `0000000000000` passes Luhn). Within a longer run of groups every
 * contiguous sub-run of groups is a candidate (`4111111111111111 1225` holds
 * one). One exception: a run of digits inside a hexadecimal word of 24 or
 * more characters (a SHA-256 account_ref, a hex token) is a fragment of that
 * hash, not a card number: about 1 in 230 random SHA-256 hex strings holds a
 * Luhn-valid 13-19-digit run, and refusing those would drop real traffic.
 * docs/security.md states the rule and what it leaves out.
 *
 * Masking: every digit of a PAN-like run becomes `*`, separators and length
 * kept (`tok_****************`). Not first-6/last-4: a masked copy only needs
 * to say where a card number was, not which card; for 13-15-digit PANs six
 * and four digits plus the Luhn digit leave 100-1,000 candidates; and a
 * truncated PAN next to the record's token or account hash could be
 * correlated (the PCI DSS 3.4/3.5 caution on truncated and hashed forms).
 *
 * Cost: every string of every event is scanned. Strings without a run of 13
 * digits (separators allowed) are dismissed in one tight loop; only the rest
 * are split into groups and Luhn-checked (bench/validate.ts measures it).
 */

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;
/** A hex word at least this long is a hash or hex token (96-bit and up). */
const HEX_WORD_MIN = 24;

const isDigit = (c: number) => c >= 48 && c <= 57;
const isSep = (c: number) => c === 32 || c === 45;
const isHexLetter = (c: number) => (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isAlnum = (c: number) => isDigit(c) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

/** Luhn over the digits of s[from, to), separators skipped. */
function luhnOk(s: string, from: number, to: number): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = to - 1; i >= from; i--) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) continue;
    let d = c - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/**
 * The quick pre-check, one loop over the characters: is there a run of 13
 * digits, spaces and dashes allowed between them? Almost every string stops
 * here (hex hashes and tokens break into short runs at their letters); only
 * the rest are split into groups and Luhn-checked.
 */
function hasLongRun(s: string): boolean {
  const n = s.length;
  if (n < MIN_DIGITS) return false;
  let run = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= MIN_DIGITS) return true;
    } else if (c !== 32 && c !== 45) {
      run = 0;
    }
  }
  return false;
}

/** True when the single digit group s[from, to) sits inside a long hexadecimal word (a hash). */
function inHexWord(s: string, from: number, to: number): boolean {
  const before = from > 0 ? s.charCodeAt(from - 1) : 0;
  const after = to < s.length ? s.charCodeAt(to) : 0;
  if (!isAlnum(before) && !isAlnum(after)) return false;
  let a = from;
  let b = to;
  while (a > 0 && isAlnum(s.charCodeAt(a - 1))) a--;
  while (b < s.length && isAlnum(s.charCodeAt(b))) b++;
  if (b - a < HEX_WORD_MIN) return false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c) && !isHexLetter(c)) return false;
  }
  return true;
}

// Group boundaries of the current run, reused (grown to the most groups one string held: at most half its length).
const starts: number[] = [];
const ends: number[] = [];

/**
 * Calls onPan(from, to) for every PAN-like span of s (overlapping spans
 * possible); stops early when onPan returns true. Returns whether any was found.
 */
function scan(text: string, onPan: (from: number, to: number) => boolean): boolean {
  if (!hasLongRun(text)) return false;
  const s = withoutUuids(text);
  if (s === null) return false;
  // A pathological string ("1 1 1 ...") must not keep a large buffer alive afterwards.
  if (starts.length > 1024) starts.length = ends.length = 0;
  const n = s.length;
  let found = false;
  let i = 0;
  while (i < n) {
    if (!isDigit(s.charCodeAt(i))) {
      i++;
      continue;
    }
    // Collect the run's groups: digits, then (single separator, digits)*.
    let g = 0;
    let j = i;
    let total = 0;
    for (;;) {
      const gs = j;
      while (j < n && isDigit(s.charCodeAt(j))) j++;
      starts[g] = gs;
      ends[g] = j;
      g++;
      total += j - gs;
      if (j + 1 < n && isSep(s.charCodeAt(j)) && isDigit(s.charCodeAt(j + 1))) j++;
      else break;
    }
    i = j;
    if (total < MIN_DIGITS) continue;
    if (g === 1 && inHexWord(s, starts[0], ends[0])) continue;
    for (let a = 0; a < g; a++) {
      let count = 0;
      for (let b = a; b < g; b++) {
        count += ends[b] - starts[b];
        if (count > MAX_DIGITS) break;
        if (count >= MIN_DIGITS && s.charCodeAt(starts[a]) !== 48 && luhnOk(s, starts[a], ends[b])) {
          found = true;
          if (onPan(starts[a], ends[b])) return true;
        }
      }
    }
  }
  return found;
}

const UUID_WHOLE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_ANY = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * UUIDs (event_id, tokens built on one) are 32 hex digits in dash-separated
 * groups: about 1 in 330 random ones has all-digit groups that add up to a
 * Luhn-valid 13-19-digit run. They are identifiers, not card numbers, so they
 * are blanked out (same length, offsets kept) before the scan; null when the
 * whole string is one.
 */
function withoutUuids(s: string): string | null {
  if (s.length === 36 && UUID_WHOLE.test(s)) return null;
  if (s.length < 36 || !s.includes('-')) return s;
  return s.replace(UUID_ANY, (u) => 'x'.repeat(u.length));
}

const stopAtFirst = () => true;

/** Does s hold a clear card number anywhere (see the rule above)? */
export function containsPan(s: string): boolean {
  return scan(s, stopAtFirst);
}

/** Is s, as a whole (spaces and dashes allowed), a card number? */
export function looksLikePan(s: string): boolean {
  const digits = s.replace(/[ -]/g, '');
  return /^\d{13,19}$/.test(digits) && luhnOk(digits, 0, digits.length);
}

/** s with every digit of every PAN-like run replaced by `*` (unchanged, same string, when there is none). */
export function maskPans(s: string): string {
  let marks: Uint8Array | null = null;
  scan(s, (from, to) => {
    marks ??= new Uint8Array(s.length);
    marks.fill(1, from, to);
    return false;
  });
  if (marks === null) return s;
  const m: Uint8Array = marks;
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    if (m[i] === 1 && isDigit(s.charCodeAt(i))) {
      out += s.slice(last, i) + '*';
      last = i + 1;
    }
  }
  return out + s.slice(last);
}

/**
 * For bytes that could not be decoded (binary Avro, a broken frame), read as
 * latin1: there a string's length prefix may itself be a digit character and
 * glue onto the card number, so every window of 13-19 digits of every digit
 * run (separators skipped) counts. Masks more than maskPans; only for copies
 * of undecodable bytes, where masking too much costs nothing.
 */
export function maskPansLoose(text: string): string {
  if (!hasLongRun(text)) return text;
  const s = withoutUuids(text);
  if (s === null) return text;
  const marks = new Uint8Array(s.length);
  let any = false;
  const pos: number[] = [];
  const flush = () => {
    for (let a = 0; a + MIN_DIGITS <= pos.length; a++) {
      for (let len = MIN_DIGITS; len <= MAX_DIGITS && a + len <= pos.length; len++) {
        if (s.charCodeAt(pos[a]) !== 48 && luhnOk(s, pos[a], pos[a + len - 1] + 1)) {
          any = true;
          for (let k = a; k < a + len; k++) marks[pos[k]] = 1;
        }
      }
    }
    pos.length = 0;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) pos.push(i);
    else if (!(isSep(c) && pos.length > 0 && i + 1 < s.length && isDigit(s.charCodeAt(i + 1)))) flush();
  }
  flush();
  if (!any) return text;
  let out = '';
  for (let i = 0; i < s.length; i++) out += marks[i] === 1 ? '*' : text[i];
  return out;
}

/** Whole-number fields that hold 13-digit epoch milliseconds by design, never card numbers. */
function isTimeKey(key: string | null): boolean {
  return key !== null && (key === 'event_time' || key.endsWith('_time') || key.endsWith('_at'));
}

/** A whole number that is a card number: 13-19 digits, Luhn-valid. */
export function numberLooksLikePan(v: number): boolean {
  if (!Number.isInteger(v) || v < 1e12) return false;
  const s = String(v);
  return /^\d{13,19}$/.test(s) && luhnOk(s, 0, s.length);
}

function scrubValue(v: unknown, key: string | null): unknown {
  if (typeof v === 'string') return maskPans(v);
  if (typeof v === 'number') return !isTimeKey(key) && numberLooksLikePan(v) ? '*'.repeat(String(v).length) : v;
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, null));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[maskPans(k)] = scrubValue(x, k);
    return out;
  }
  return v;
}

/**
 * Returns a payload safe to keep: a JSON payload has its keys, string values
 * and whole numbers (outside epoch-time fields) masked where they hold a
 * PAN; anything else is masked as text. Idempotent; the original text comes
 * back untouched when nothing needed masking.
 */
export function scrubPans(text: string): string {
  // A JSON-escaped card number (4111\u0031...) has no long digit run in the raw text.
  if (!hasLongRun(text) && !text.includes('\\u')) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return maskPans(text);
  }
  // A 16-19 digit JSON number is rounded by JSON.parse: mask it in the raw text, where its digits are exact.
  const exact = maskUnsafeIntegers(text);
  if (exact !== text) parsed = JSON.parse(exact);
  const scrubbed = JSON.stringify(scrubValue(parsed, null));
  return scrubbed === JSON.stringify(parsed) ? exact : scrubbed;
}

/** Unquoted integers of 16-19 digits beyond 2^53 (a card number cannot be told from its rounded value) become quoted stars. */
function maskUnsafeIntegers(json: string): string {
  return json.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (m) => {
    if (m[0] === '"' || !/^-?\d{16,19}$/.test(m) || Number.isSafeInteger(Number(m))) return m;
    return JSON.stringify('*'.repeat(m.replace('-', '').length));
  });
}

/**
 * The name of the first string field of `record` (top level, or strings in
 * an array) that holds a PAN, or null. `fields` limits the scan to those
 * names (the string fields of a schema); without it every field is looked at.
 */
export function panField(record: Readonly<Record<string, unknown>>, fields?: readonly string[]): string | null {
  const names = fields ?? Object.keys(record);
  for (let i = 0; i < names.length; i++) {
    const v = record[names[i]];
    if (typeof v === 'string') {
      if (containsPan(v)) return names[i];
    } else if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'string' && containsPan(x)) return names[i];
    }
  }
  return null;
}
