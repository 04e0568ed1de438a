/**
 * Masking of secrets in text that leaves the process (log lines, error
 * messages, status lines, the start-up configuration print).
 *
 * Two rules, applied together by `redact`:
 *  - the userinfo of any URL in the text (`scheme://user:password@host`)
 *    becomes `***@`, whatever the value;
 *  - every secret value registered with `registerSecret` (SASL password, key
 *    passphrase, registry and ClickHouse passwords) is replaced by `***`
 *    wherever it appears, e.g. inside a library's error message.
 *
 * The registry is process-wide on purpose: a secret is registered where it is
 * read (configuration), and every writer masks it without being handed it.
 * Bounded: at most MAX_SECRETS values are kept (the configuration has a
 * handful); values shorter than MIN_SECRET_CHARS are not registered, since
 * masking "a" everywhere would mangle every line (and such a value protects
 * nothing).
 */

import { PosguardError } from '../errors.js';

export const MASK = '***';
const MAX_SECRETS = 64;
const MIN_SECRET_CHARS = 4;
const secrets = new Set<string>();

/** `scheme://userinfo@` → `scheme://***@` (userinfo: anything up to the @ that is not a / or whitespace). */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi;

/** Masks the userinfo of every URL in `text`. */
export function redactUrl(text: string): string {
  return text.replace(URL_USERINFO, `$1${MASK}@`);
}

/** Remembers `value` (and its URL-encoded form) as a secret to mask in every later `redact`. */
export function registerSecret(value: string | null | undefined): void {
  if (value === null || value === undefined || value.length < MIN_SECRET_CHARS) return;
  for (const v of new Set([value, encodeURIComponent(value)])) {
    if (secrets.size >= MAX_SECRETS) return;
    secrets.add(v);
  }
}

/** Registers the password of a URL's userinfo, if any (a URL that does not parse is left to redactUrl). */
export function registerUrlSecret(url: string | null | undefined): void {
  if (!url) return;
  try {
    const u = new URL(url);
    registerSecret(u.password);
    registerSecret(decodeURIComponent(u.password));
  } catch {
    // not a URL: redactUrl still masks a userinfo-looking part of it
  }
}

/**
 * A URL's user name or password, %-decoded; a bad % escape is a
 * configuration error naming `setting`, never the value.
 */
export function decodeUserinfo(part: string, setting: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new PosguardError('PG_CONFIG_INVALID', `${setting}: the user name or password in the URL has a bad % escape (write a literal % as %25)`);
  }
}

/** `text` with URL userinfo and every registered secret masked. */
export function redact(text: string): string {
  let out = redactUrl(text);
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(MASK);
  }
  return out;
}

/** For tests: forget the registered secrets. */
export function clearSecrets(): void {
  secrets.clear();
}
