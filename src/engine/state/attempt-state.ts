/**
 * One LiveAttempt as plain data (issue 13): the packed numbers (header and
 * events, the non-finite ones encoded), its strings and state bits, and its
 * `info` with the anomaly versions emitted and the attempts it points at
 * (by AttemptRefs name).
 */
import type { Anomaly, AnomalyKind } from '../../events/anomaly.js';
import type { Interner } from '../../util/interner.js';
import { snapNum, unsnapNum, type SnapNum } from '../../util/snapshot-num.js';
import type { LiveAttempt, LiveAttemptInfo } from '../live-attempt.js';
import type { AttemptRef, AttemptRefs } from './attempt-refs.js';
import { fromPlain, toPlain, type Plain } from './plain.js';

/** LiveAttemptInfo with its pointers as names and its anomaly versions as plain data. */
export type AttemptInfoState = Omit<LiveAttemptInfo, 'emitted' | 'mergedInto' | 'owner' | 'dupFirsts'> & {
  /** [kind, last version emitted] in the map's order; null when none. */
  emitted: [AnomalyKind, Plain][] | null;
  mergedInto: AttemptRef | null;
  /** The engine id holding it (DebitOwner), null when none. */
  owner: number | null;
  dupFirsts: AttemptRef[] | null;
};

export interface AttemptState {
  /** `n[0 .. len)`: header and events. */
  n: SnapNum[];
  /** n.length: the room the attempt had (its growth continues the same way). */
  cap: number;
  tid: string | null;
  mid: string | null;
  rrn: string | null;
  termCurrency: string | null;
  state: number;
  info: AttemptInfoState | null;
}

const INFO_STRINGS = ['card', 'masked', 'issuer', 'bankMerchant', 'bankCurrency', 'bankCard', 'gwCurrency', 'group'] as const;

/** x as plain data; attempts it points at are named for `holder` (who writes them too). */
export function attemptState(x: LiveAttempt, refs: AttemptRefs, holder: number): AttemptState {
  const n: SnapNum[] = new Array<SnapNum>(x.len);
  for (let i = 0; i < x.len; i++) n[i] = snapNum(x.n[i]);
  return {
    n, cap: x.n.length, tid: x.tid, mid: x.mid, rrn: x.rrn, termCurrency: x.termCurrency, state: x.state,
    info: x.info === null ? null : infoState(x.info, refs, holder),
  };
}

function infoState(i: LiveAttemptInfo, refs: AttemptRefs, holder: number): AttemptInfoState {
  const s: AttemptInfoState = {
    card: i.card, masked: i.masked, issuer: i.issuer, bankMerchant: i.bankMerchant, bankCurrency: i.bankCurrency,
    bankCard: i.bankCard, gwCurrency: i.gwCurrency, group: i.group,
    emitted: i.emitted === null ? null : [...i.emitted].map(([k, a]) => [k, toPlain(a)]),
    txnVersion: i.txnVersion,
    mergedInto: i.mergedInto === null ? null : refs.ref(i.mergedInto, holder),
    owner: null,
    dupFirsts: i.dupFirsts === null ? null : i.dupFirsts.map((y) => refs.ref(y, holder)),
  };
  s.owner = refs.ownerId(i.owner, s);
  return s;
}

/** Fills the (fresh) object x from its state; `strings` interns the low-cardinality strings again. */
export function loadAttempt(x: LiveAttempt, s: AttemptState, refs: AttemptRefs, strings: Interner): void {
  if (s.cap < s.n.length) throw new Error(`attempt state: cap ${s.cap} below its ${s.n.length} numbers`);
  const n = s.n.map(unsnapNum);
  x.n = s.cap > n.length ? n.concat(new Array<number>(s.cap - n.length).fill(NaN)) : n;
  x.len = s.n.length;
  const intern = (v: string | null) => (v === null ? null : strings.intern(v));
  x.tid = intern(s.tid);
  x.mid = intern(s.mid);
  x.rrn = s.rrn;
  x.termCurrency = intern(s.termCurrency);
  x.state = s.state;
  if (s.info === null) return;
  const si = s.info;
  const info = x.infoOrCreate();
  for (const k of INFO_STRINGS) info[k] = k === 'card' || k === 'masked' || k === 'bankCard' || k === 'group' ? si[k] : intern(si[k]);
  info.emitted = si.emitted === null ? null : new Map(si.emitted.map(([k, a]) => [k, fromPlain<Anomaly>(a)]));
  info.txnVersion = si.txnVersion;
  info.mergedInto = si.mergedInto === null ? null : refs.attempt(si.mergedInto);
  info.dupFirsts = si.dupFirsts === null ? null : si.dupFirsts.map((r) => refs.attempt(r));
  refs.setOwner(x, si.owner);
}
