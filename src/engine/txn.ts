/**
 * The state of one attempt: every event the three streams sent about it, in a
 * packed double array, plus the few strings the decisions and the golden
 * record need. Fields the terminal alone never fills (card, issuer, bank data,
 * emitted anomalies) live in `info`, created on the first gateway/bank event,
 * so a terminal-only open attempt stays small.
 */
import type { Anomaly, AnomalyKind } from '../detect/anomaly.js';

// Header slots in Txn.n (doubles, unboxed in a packed array).
export const H_DUE = 0; // time of this attempt's pending timer entry (lazy heap deletion)
export const H_LAST_HI = 1; // latest possible true time of any event seen
export const H_STAN = 2; // stan as a number, -1 when unknown
export const H_DEBIT_AT = 3; // bank time of the debit, NaN when none
export const H_DEBIT_AMOUNT = 4;
export const H_DEBIT_IDX = 5; // index of the debit's AUTH_APPROVED event
export const H_REQ_AMOUNT = 6; // earliest REQUEST_SENT's amount, NaN when none
export const H_REQ_IDX = 7; // its event index
export const H_LAT = 8;
export const H_LON = 9;
export const H_START_IDX = 10; // index of the TXN_STARTED giving lat/lon
export const HEADER = 11;
export const EV = 5; // doubles per event: word, time, id0, id1, id2

export const S_DECIDED = 1; // the debit's decision was taken (later evidence re-evaluates)
export const S_CLOSED = 2; // the golden record was emitted
export const S_HAS_ANOMALY = 4; // holds at least one emitted anomaly: kept until the horizon

export interface TxnInfo {
  card: string | null;
  masked: string | null;
  issuer: string | null;
  network: string | null;
  txnType: string | null;
  entryMode: string | null;
  bankMerchant: string | null;
  bankCurrency: string | null;
  bankCard: string | null;
  gwAmount: number;
  gwCurrency: string | null;
  termAmount: number;
  latencyMs: number;
  /** Duplicate-debit group key while this attempt's debit is in the group index. */
  group: string | null;
  /** Last emitted version per anomaly kind keyed by this attempt's rrn. */
  emitted: Map<AnomalyKind, Anomaly> | null;
  /** Golden-record version last emitted. */
  txnVersion: number;
  /** Set when this attempt was merged into another (a late gateway link). */
  mergedInto: Txn | null;
}

export class Txn {
  tid: string | null = null;
  mid: string | null = null;
  rrn: string | null = null;
  termCurrency: string | null = null;
  state = 0;
  info: TxnInfo | null = null;
  n: number[];

  constructor() {
    // NaN marks "none"; the array stays PACKED_DOUBLE (every slot a number).
    this.n = [0, -Infinity, -1, NaN, NaN, -1, NaN, -1, NaN, NaN, -1];
  }

  get eventCount(): number {
    return (this.n.length - HEADER) / EV;
  }

  /** Index of the event slot for event i. */
  static at(i: number): number {
    return HEADER + i * EV;
  }

  /** True when an event with these id parts is already held (a redelivery). */
  hasId(a: number, b: number, c: number): boolean {
    const n = this.n;
    for (let p = HEADER; p < n.length; p += EV) {
      if (n[p + 2] === a && n[p + 3] === b && n[p + 4] === c) return true;
    }
    return false;
  }

  /** Appends an event, returns its index. */
  add(word: number, time: number, a: number, b: number, c: number): number {
    const i = this.eventCount;
    this.n.push(word, time, a, b, c);
    return i;
  }

  word(i: number): number {
    return this.n[HEADER + i * EV];
  }
  time(i: number): number {
    return this.n[HEADER + i * EV + 1];
  }

  infoOrCreate(): TxnInfo {
    return (this.info ??= {
      card: null, masked: null, issuer: null, network: null, txnType: null, entryMode: null,
      bankMerchant: null, bankCurrency: null, bankCard: null,
      gwAmount: NaN, gwCurrency: null, termAmount: NaN, latencyMs: NaN,
      group: null, emitted: null, txnVersion: 0, mergedInto: null,
    });
  }

  get stanText(): string | null {
    const s = this.n[H_STAN];
    return s < 0 ? null : String(s).padStart(6, '0');
  }

  get hasDebit(): boolean {
    return !Number.isNaN(this.n[H_DEBIT_AT]);
  }
}
