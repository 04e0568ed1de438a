/**
 * Events as small numbers: the vocabulary the engine stores and detectors read.
 * The engine keeps an attempt's events as numbers in one packed double array
 * (src/engine/live-attempt.ts), not as objects: an event costs 5 doubles
 * (40 bytes) instead of a ~400-byte object, which is what keeps a million open
 * attempts affordable. A code word packs the event type, response code,
 * failure reason and one flag; the event id is packed into three doubles
 * (src/util/uuid-pack.ts).
 */
import { BANK_EVENT_TYPES, ENTRY_MODES, FAILURE_REASONS, GATEWAY_EVENT_TYPES, NETWORKS, TERMINAL_EVENT_TYPES, TXN_TYPES } from './index.js';
import type { Stream } from './index.js';

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
export const RC_00 = 1;
const RC_NAMES: (string | null)[] = [null, '00'];
const RC_INDEX = new Map<string, number>([['00', RC_00]]);
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

// txn_type, entry_mode and network packed into one header number: 4 bits each, 0 = none.
const TXN_TYPE_IDX = new Map<string, number>(TXN_TYPES.map((t, i) => [t, i + 1]));
const ENTRY_MODE_IDX = new Map<string, number>(ENTRY_MODES.map((t, i) => [t, i + 1]));
const NETWORK_IDX = new Map<string, number>(NETWORKS.map((t, i) => [t, i + 1]));
const FIELD_SHIFT = { txnType: 0, entryMode: 4, network: 8 } as const;
const FIELD_IDX = { txnType: TXN_TYPE_IDX, entryMode: ENTRY_MODE_IDX, network: NETWORK_IDX } as const;
const FIELD_NAMES = { txnType: TXN_TYPES, entryMode: ENTRY_MODES, network: NETWORKS } as const;
export type CodedField = keyof typeof FIELD_SHIFT;

/** Sets `field` in the packed codes unless already set. */
export function withCode(codes: number, field: CodedField, value: string | null): number {
  if (value === null || ((codes >> FIELD_SHIFT[field]) & 15) !== 0) return codes;
  return codes | ((FIELD_IDX[field].get(value) ?? 0) << FIELD_SHIFT[field]);
}

export function codeName(codes: number, field: CodedField): string | null {
  const i = (codes >> FIELD_SHIFT[field]) & 15;
  return i === 0 ? null : FIELD_NAMES[field][i - 1];
}
