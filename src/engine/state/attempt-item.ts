/**
 * One LiveAttempt as an item of the `attempts` table (issue 13, STATE_FORMAT 2):
 * its packed numbers (header and events, little-endian doubles in base64: NaN
 * and ±Infinity kept, no decimal formatting), their room, its strings and
 * state bits, and its `info` with the anomaly versions emitted; the attempts
 * it points at by sid, its owner by engine id. A positional tuple: a
 * checkpoint holds one per open attempt.
 */
import type { Anomaly, AnomalyKind } from '../../events/anomaly.js';
import type { Interner } from '../../util/interner.js';
import type { LiveAttempt, LiveAttemptInfo } from '../live-attempt.js';
import { doublesFromBase64, doublesToBase64 } from './packed.js';
import { fromPlain, toPlain, type Plain } from './plain.js';

type S = string | null;

/** LiveAttemptInfo: its strings, then the emitted versions, txnVersion, mergedInto, owner engine id, dupFirsts. */
export type InfoTuple<R> = [
  card: S, masked: S, issuer: S, bankMerchant: S, bankCurrency: S, bankCard: S, gwCurrency: S, group: S,
  /** [kind, last version emitted] in the map's order; null when none. */
  emitted: [AnomalyKind, Plain][] | null,
  txnVersion: number,
  mergedInto: R | null,
  /** The engine id holding it (DebitOwner), null when none. */
  owner: number | null,
  dupFirsts: R[] | null,
];

/** numbers (base64 doubles), their room (n.length), tid, mid, rrn, termCurrency, state bits, info (attempts by sid). */
export type AttemptItem = [nums: string, cap: number, tid: S, mid: S, rrn: S, termCurrency: S, state: number, info: InfoTuple<number> | null];

const INFO_STRINGS = ['card', 'masked', 'issuer', 'bankMerchant', 'bankCurrency', 'bankCard', 'gwCurrency', 'group'] as const;
/** Low-cardinality strings, interned again on restore (card tokens and group keys are not). */
const INTERNED = new Set<string>(['issuer', 'bankMerchant', 'bankCurrency', 'gwCurrency']);

/** How an info tuple names the attempts and the owner engine it points at. */
export interface InfoNames<R> {
  ref(x: LiveAttempt): R;
  /** The owner's engine id; `patch` may be called later when the engine is named later (AttemptRefs). */
  owner(owner: object | null, patch: (id: number) => void): number | null;
}

export function infoTuple<R>(i: LiveAttemptInfo, names: InfoNames<R>): InfoTuple<R> {
  const s: InfoTuple<R> = [
    i.card, i.masked, i.issuer, i.bankMerchant, i.bankCurrency, i.bankCard, i.gwCurrency, i.group,
    i.emitted === null ? null : [...i.emitted].map(([k, a]) => [k, toPlain(a)]),
    i.txnVersion,
    i.mergedInto === null ? null : names.ref(i.mergedInto),
    null,
    i.dupFirsts === null ? null : i.dupFirsts.map((y) => names.ref(y)),
  ];
  s[11] = names.owner(i.owner, (id) => { s[11] = id; });
  return s;
}

/** How a restore finds the attempts and owner an info tuple names. */
export interface InfoLookup<R> {
  attempt(r: R): LiveAttempt;
  setOwner(x: LiveAttempt, id: number | null): void;
}

/** Fills x.info from its tuple; `strings` interns the low-cardinality strings again. */
export function loadInfo<R>(x: LiveAttempt, si: InfoTuple<R>, look: InfoLookup<R>, strings: Interner): void {
  if (!Array.isArray(si) || si.length !== 13) throw new Error('attempt info: not an info tuple');
  const info = x.infoOrCreate();
  INFO_STRINGS.forEach((k, j) => {
    const v = si[j] as S;
    info[k] = v !== null && INTERNED.has(k) ? strings.intern(v) : v;
  });
  const emitted = si[8];
  info.emitted = emitted === null ? null : new Map(emitted.map(([k, a]) => [k, fromPlain<Anomaly>(a)]));
  info.txnVersion = si[9];
  const merged = si[10];
  info.mergedInto = merged === null ? null : look.attempt(merged);
  const firsts = si[12];
  info.dupFirsts = firsts === null ? null : firsts.map((r) => look.attempt(r));
  look.setOwner(x, si[11]);
}

/** Scratch room for an attempt's doubles while they are encoded (one per process: items are built one at a time). */
const scratch = { buf: new Float64Array(256) };

export function attemptItem(x: LiveAttempt, names: InfoNames<number>): AttemptItem {
  return [
    doublesToBase64(x.n, x.len, scratch), x.n.length, x.tid, x.mid, x.rrn, x.termCurrency, x.state,
    x.info === null ? null : infoTuple(x.info, names),
  ];
}

/** A string or null as JSON.stringify writes it in an array. */
const strJson = (v: S): string => (v === null ? 'null' : JSON.stringify(v));

/**
 * attemptItem's JSON text, written directly (the same text as JSON.stringify(attemptItem(x, names)):
 * the incremental-checkpoint test compares them): a base writes every open attempt (attempts were 43 %
 * of a base's hold on the 1 h workload). bench/engine-checkpoint.ts, 30 min at 100 tps, 148,932
 * items, same 136 MB: 2,076–2,111 ms CPU as tuples, 1,492–1,505 ms as text. The owner must be
 * named at once (AttemptTable's names do; AttemptRefs' late naming goes through attemptItem).
 */
export function attemptJson(x: LiveAttempt, names: InfoNames<number>): string {
  // Base64 needs no escaping.
  const head = `["${doublesToBase64(x.n, x.len, scratch)}",${x.n.length},${strJson(x.tid)},${strJson(x.mid)},${strJson(x.rrn)},${strJson(x.termCurrency)},${x.state},`;
  const i = x.info;
  if (i === null) return `${head}null]`;
  const emitted = i.emitted === null ? 'null' : JSON.stringify([...i.emitted].map(([k, a]) => [k, toPlain(a)]));
  const merged = i.mergedInto === null ? 'null' : String(names.ref(i.mergedInto));
  const owner = names.owner(i.owner, () => {
    throw new Error('attemptJson: an owner engine named late');
  });
  const firsts = i.dupFirsts === null ? 'null' : `[${i.dupFirsts.map((y) => names.ref(y)).join(',')}]`;
  return `${head}[${strJson(i.card)},${strJson(i.masked)},${strJson(i.issuer)},${strJson(i.bankMerchant)},${strJson(i.bankCurrency)},${strJson(i.bankCard)},${strJson(i.gwCurrency)},${strJson(i.group)},${emitted},${i.txnVersion},${merged},${owner === null ? 'null' : owner},${firsts}]]`;
}

/** Fills the fresh object x from its item. */
export function loadItem(x: LiveAttempt, item: AttemptItem, look: InfoLookup<number>, strings: Interner): void {
  if (!Array.isArray(item) || item.length !== 8 || typeof item[0] !== 'string') throw new Error('attempt item: not an attempt tuple');
  const [nums, cap, tid, mid, rrn, termCurrency, state, si] = item;
  ({ n: x.n, len: x.len } = doublesFromBase64(nums, cap));
  loadFields(x, [tid, mid, rrn, termCurrency, state], strings);
  if (si !== null) loadInfo(x, si, look, strings);
}

/** x's own strings (interned again but the rrn) and state bits. */
export function loadFields(x: LiveAttempt, [tid, mid, rrn, termCurrency, state]: [S, S, S, S, number], strings: Interner): void {
  const intern = (v: S) => (v === null ? null : strings.intern(v));
  x.tid = intern(tid);
  x.mid = intern(mid);
  x.rrn = rrn;
  x.termCurrency = intern(termCurrency);
  x.state = state;
}
