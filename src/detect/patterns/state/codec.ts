/**
 * Checkpoints of the pattern state (issue 13, docs/kafka.md "Checkpoints"):
 * the plain-data encoding shared by the pattern detectors' snapshots. A
 * snapshot is JSON-able data only (objects, arrays, finite numbers, strings,
 * booleans, null): numbers that may be non-finite go through snapNum. Facts
 * and signals are tuples, not objects: a checkpoint holds hundreds of
 * thousands of them, and field names repeated per fact would double its size.
 *
 * Restore trusts the data it is given to be a snapshot of this version (the
 * checkpoint store verifies it is complete and unaltered, and the outer
 * format version); each part's `v` catches a part changed without the outer
 * format, which is a bug, so it is PG_INTERNAL.
 */
import { PosguardError } from '../../../errors.js';
import { snapNum, unsnapNum, type SnapNum } from '../../../util/snapshot-num.js';
import type { CardFact, HardwareSignal } from '../types.js';
import type { Frame } from '../window.js';

/**
 * Version of every pattern-side state (fault spikes, card patterns, card stage); its `v` field.
 * 2: card patterns and the card stage split into a skeleton and per-card items (issue 13, incremental checkpoints).
 */
export const PATTERN_STATE_VERSION = 2;

/** A card fact without its card_token: the card (or the entry) it is held under names it. */
export type FactTuple = [
  event_id: string, event_time: SnapNum, rrn: string, merchant_id: string, terminal_id: string, stan: string,
  issuer_id: string, txn_type: string, amount_minor: SnapNum, currency: string,
  /** approved 1, debit 2, late 4. */
  flags: number, lat: SnapNum | null, lon: SnapNum | null,
];

const APPROVED = 1;
const DEBIT = 2;
const LATE = 4;

const orNull = (x: number | null): SnapNum | null => (x === null ? null : snapNum(x));
const unOrNull = (x: SnapNum | null): number | null => (x === null ? null : unsnapNum(x));

export function encodeFact(f: CardFact): FactTuple {
  const flags = (f.approved ? APPROVED : 0) | (f.debit ? DEBIT : 0) | (f.late ? LATE : 0);
  return [
    f.event_id, snapNum(f.event_time), f.rrn, f.merchant_id, f.terminal_id, f.stan, f.issuer_id, f.txn_type,
    snapNum(f.amount_minor), f.currency, flags, orNull(f.lat), orNull(f.lon),
  ];
}

export function decodeFact(t: FactTuple, cardToken: string): CardFact {
  const [event_id, time, rrn, merchant_id, terminal_id, stan, issuer_id, txn_type, amount, currency, flags, lat, lon] = t;
  return {
    event_id, event_time: unsnapNum(time), rrn, card_token: cardToken, merchant_id, terminal_id, stan, issuer_id, txn_type,
    amount_minor: unsnapNum(amount), currency, approved: (flags & APPROVED) !== 0, debit: (flags & DEBIT) !== 0,
    lat: unOrNull(lat), lon: unOrNull(lon), late: (flags & LATE) !== 0,
  };
}

type SignalCore = [
  event_id: string, event_time: SnapNum, terminal_id: string, merchant_id: string, stan: string,
  event_type: HardwareSignal['event_type'], failure_reason: string | null, fault_component: string | null,
];
/** A hardware signal; amount and currency only when the signal has those keys (a DEVICE_FAULT made without them). */
export type SignalTuple = SignalCore | [...SignalCore, amount_minor: SnapNum | null, currency: string | null];

export function encodeSignal(s: HardwareSignal): SignalTuple {
  const core: SignalCore = [s.event_id, snapNum(s.event_time), s.terminal_id, s.merchant_id, s.stan, s.event_type, s.failure_reason, s.fault_component];
  return s.amount_minor === undefined && s.currency === undefined ? core : [...core, orNull(s.amount_minor ?? null), s.currency ?? null];
}

export function decodeSignal(t: SignalTuple): HardwareSignal {
  const [event_id, time, terminal_id, merchant_id, stan, event_type, failure_reason, fault_component] = t;
  const s = { event_id, event_time: unsnapNum(time), terminal_id, merchant_id, stan, event_type, failure_reason, fault_component };
  return t.length === 8 ? s : { ...s, amount_minor: unOrNull(t[8]), currency: t[9] };
}

/** A detector's Frame (where it stands: watermark, grace, open day). */
export interface FrameState {
  wm: SnapNum;
  grace: SnapNum;
  openDay: SnapNum;
}

export function encodeFrame(f: Frame): FrameState {
  return { wm: snapNum(f.wm), grace: snapNum(f.grace), openDay: snapNum(f.openDay) };
}

export function restoreFrame(into: Frame, s: FrameState): void {
  into.wm = unsnapNum(s.wm);
  into.grace = unsnapNum(s.grace);
  into.openDay = unsnapNum(s.openDay);
}

/** An expiry-heap entry: its key, and the index of its item in the state's list of keys (cards, terminals). */
export type HeapEntry = [key: SnapNum, item: number];

/** A detector's keyed items (cards, terminals) in its Map order, and its expiry heap (ExpiryHeap.entries()) as indices into them. */
export function encodeKeyed<T, E>(items: Iterable<T>, encode: (x: T) => E, heap: readonly [number, T][]): { list: E[]; expiries: HeapEntry[] } {
  const index = new Map<T, number>();
  const list: E[] = [];
  for (const x of items) {
    index.set(x, list.length);
    list.push(encode(x));
  }
  return { list, expiries: heap.map(([key, x]) => [snapNum(key), index.get(x)!]) };
}

/** Refills an expiry heap: a valid heap array pushed in its own order stays as it is (no entry's parent is later), so the same heap. */
export function restoreHeap<T>(into: { push(item: T, key: number): void }, items: readonly T[], s: readonly HeapEntry[]): void {
  for (const [key, i] of s) into.push(items[i], unsnapNum(key));
}

/** Copies each counter the detector has from the state (the detector's object is readonly, its values are not). */
export function restoreCounters<C extends object>(into: C, from: C): void {
  const src = from as Record<string, unknown>;
  const dst = into as Record<string, unknown>;
  for (const k of Object.keys(dst)) {
    const x = src[k];
    if (typeof x !== 'number') throw new PosguardError('PG_INTERNAL', `pattern state: counter ${k} is ${JSON.stringify(x)}, not a number`);
    dst[k] = x;
  }
}

export function checkVersion(what: string, v: unknown): void {
  if (v !== PATTERN_STATE_VERSION) {
    throw new PosguardError('PG_INTERNAL', `${what} state has version ${JSON.stringify(v)}; this build reads version ${PATTERN_STATE_VERSION}`);
  }
}

/** restore() fills a fresh detector; on one that took input it would mix two states. */
export function checkFresh(what: string, fresh: boolean): void {
  if (!fresh) throw new PosguardError('PG_INTERNAL', `${what}.restore() needs a fresh instance; this one has taken input`);
}
