/**
 * Compact event encoding. An attempt keeps its events as numbers in one packed
 * double array (see txn.ts), not as objects: an event costs 5 doubles (40 bytes)
 * instead of a ~400-byte object, which is what keeps a million open attempts
 * affordable. A code word packs the event type, response code, failure reason
 * and one flag; the event id is packed into three doubles (uuid.ts).
 */
import { BANK_EVENT_TYPES, FAILURE_REASONS, GATEWAY_EVENT_TYPES, TERMINAL_EVENT_TYPES } from '../events/index.js';
import type { Stream } from '../events/index.js';

// Type codes: terminal 0-6, gateway 8-15, bank 16-20.
export const T = Object.fromEntries(TERMINAL_EVENT_TYPES.map((t, i) => [t, i])) as Record<(typeof TERMINAL_EVENT_TYPES)[number], number>;
export const G = Object.fromEntries(GATEWAY_EVENT_TYPES.map((t, i) => [t, 8 + i])) as Record<(typeof GATEWAY_EVENT_TYPES)[number], number>;
export const B = Object.fromEntries(BANK_EVENT_TYPES.map((t, i) => [t, 16 + i])) as Record<(typeof BANK_EVENT_TYPES)[number], number>;

const TYPE_NAMES: string[] = [];
TERMINAL_EVENT_TYPES.forEach((t, i) => (TYPE_NAMES[i] = t));
GATEWAY_EVENT_TYPES.forEach((t, i) => (TYPE_NAMES[8 + i] = t));
BANK_EVENT_TYPES.forEach((t, i) => (TYPE_NAMES[16 + i] = t));

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? 'UNKNOWN';
}
export function streamOf(type: number): Stream {
  return type < 8 ? 'terminal' : type < 16 ? 'gateway' : 'bank';
}

// Response codes: 0 = none, 1 = '00', then interned on first sight (bounded).
const RC_NAMES: (string | null)[] = [null, '00'];
const RC_INDEX = new Map<string, number>([['00', 1]]);
const RC_OVERFLOW = 255;
export function rcCode(rc: string | null): number {
  if (rc === null) return 0;
  let i = RC_INDEX.get(rc);
  if (i === undefined) {
    if (RC_NAMES.length >= RC_OVERFLOW) return RC_OVERFLOW; // hostile input cannot grow the table
    i = RC_NAMES.length;
    RC_NAMES.push(rc);
    RC_INDEX.set(rc, i);
  }
  return i;
}
export function rcName(code: number): string | null {
  return code === RC_OVERFLOW ? '??' : RC_NAMES[code] ?? null;
}

const FR_INDEX = new Map<string, number>(FAILURE_REASONS.map((f, i) => [f, i + 1]));
export function frCode(fr: string | null): number {
  return fr === null ? 0 : FR_INDEX.get(fr) ?? 0;
}
export function frName(code: number): string | null {
  return code === 0 ? null : FAILURE_REASONS[code - 1];
}

/** Flag bit: a gateway event whose own rrn is the attempt's rrn (spec: "the gateway has an event with rrn R"). */
export const F_OWN_RRN = 1;

export function pack(type: number, rc: number, fr: number, flags: number): number {
  return type | (rc << 5) | (fr << 13) | (flags << 17);
}
export const typeOf = (w: number) => w & 31;
export const rcOf = (w: number) => (w >>> 5) & 255;
export const frOf = (w: number) => (w >>> 13) & 15;
export const flagsOf = (w: number) => w >>> 17;
