/**
 * Deliberately broken lines, one kind per way a producer can break the
 * contract. Each is an extra line next to a real event (with a fresh
 * event_id), never a replacement: losing a real event would change which
 * anomalies the data holds.
 */
import type { AnyEvent, Stream } from '../events/index.js';
import type { Rng } from './rng.js';

export const BAD_KINDS = ['not_json', 'unknown_enum', 'missing_field', 'mistyped_field', 'pan_in_token'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

const BOGUS_EVENT_TYPE: Record<Stream, string> = { terminal: 'TXN_PAUSED', gateway: 'REQUEST_DROPPED', bank: 'AUTH_PENDING' };
const BOGUS_OTHER: Record<Stream, readonly [string, string]> = {
  terminal: ['txn_type', 'CASHBACK'],
  gateway: ['network', 'AMEX'],
  bank: ['txn_type', 'CASHBACK'],
};
const REQUIRED: Record<Stream, readonly string[]> = {
  terminal: ['stan', 'terminal_id', 'merchant_id', 'event_time', 'event_type'],
  gateway: ['stan', 'rrn', 'terminal_id', 'amount_minor', 'card_token'],
  bank: ['rrn', 'stan', 'account_ref', 'response_code', 'card_token'],
};

/** A 16-digit number that passes the Luhn check: what a leaked clear card number looks like. */
export function luhnValidPan(rng: Rng): string {
  const digits = [rng.chance(0.5) ? 4 : 5];
  while (digits.length < 15) digits.push(rng.int(0, 9));
  let sum = 0;
  // The check digit goes last, so the rightmost of these 15 is doubled.
  for (let i = 0; i < 15; i++) {
    let d = digits[14 - i];
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  digits.push((10 - (sum % 10)) % 10);
  return digits.join('');
}

/** Builds a bad line of `kind` from a copy of `event` with the id `eventId`. */
export function badLine(kind: BadKind, stream: Stream, event: AnyEvent, eventId: string, rng: Rng): { line: string; reason: string } {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) if (v !== null) o[k] = v;
  o.event_id = eventId;
  switch (kind) {
    case 'not_json': {
      const full = JSON.stringify(o);
      return { line: full.slice(0, rng.int(Math.floor(full.length * 0.3), Math.floor(full.length * 0.8))), reason: 'not_json: truncated line' };
    }
    case 'unknown_enum': {
      const [field, value] = rng.chance(0.6) ? ['event_type', BOGUS_EVENT_TYPE[stream]] : BOGUS_OTHER[stream];
      o[field] = value;
      return { line: JSON.stringify(o), reason: `unknown_enum: ${field}=${value}` };
    }
    case 'missing_field': {
      const field = rng.pick(REQUIRED[stream]);
      delete o[field];
      return { line: JSON.stringify(o), reason: `missing_field: ${field}` };
    }
    case 'mistyped_field': {
      let field: string;
      if (typeof o.amount_minor === 'number' && rng.chance(0.5)) {
        field = 'amount_minor';
        o.amount_minor = ((o.amount_minor as number) / 100).toFixed(2);
      } else if (rng.chance(0.5)) {
        field = 'event_time';
        o.event_time = new Date(o.event_time as number).toISOString();
      } else {
        field = 'stan';
        o.stan = Number(o.stan);
      }
      return { line: JSON.stringify(o), reason: `mistyped_field: ${field}` };
    }
    case 'pan_in_token': {
      o.card_token = luhnValidPan(rng);
      return { line: JSON.stringify(o), reason: 'pan_in_token: card_token is a Luhn-valid 16-digit card number' };
    }
  }
}
