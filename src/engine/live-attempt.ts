/**
 * The live, in-memory state of one attempt while the engine holds it (not the
 * `TransactionRecord` it emits once closed, transaction.ts): every event the
 * three streams sent about it, in a packed double array, plus the few strings
 * the decisions and the golden record need. Fields the terminal alone never
 * fills (card, issuer, bank data, emitted anomalies) live in `info`, created
 * on the first gateway/bank event, so a terminal-only open attempt stays small.
 *
 * Detectors read it through AttemptView (src/detect/attempt-view.ts), which
 * this class implements: the attempt object itself is the view, so handing it
 * to a detector costs no allocation and every call site sees one class.
 */
import type { Anomaly, AnomalyKind } from '../events/anomaly.js';
import type { AttemptView } from '../detect/attempt-view.js';
import { F_OWN_RRN, flagsOf, frOf, rcOf, streamOf, typeOf } from '../events/codes.js';
import { unpackUuid } from '../util/uuid-pack.js';

// Header slots in LiveAttempt.n (doubles, unboxed in a packed array).
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
export const H_GW_AMOUNT = 11; // the gateway's amount, NaN when none
export const H_TERM_AMOUNT = 12; // the first terminal amount seen, NaN when none
export const H_LATENCY = 13; // latency_ms of ISSUER_RESPONSE, NaN when none
export const H_CODES = 14; // txn_type, entry_mode, network as small codes (src/events/codes.ts), 0 = none
export const HEADER = 15;
export const EV = 5; // doubles per event: word, time, id0, id1, id2
const ROOM: readonly number[] = new Array<number>(2 * EV).fill(NaN);
/** A fresh attempt: the header ("none" everywhere) and room for two events. slice() copies at exact size. */
const INITIAL: readonly number[] = [0, -Infinity, -1, NaN, NaN, -1, NaN, -1, NaN, NaN, -1, NaN, NaN, NaN, 0].concat(ROOM);

export const S_DECIDED = 1; // the debit's decision was taken (later evidence re-evaluates)
export const S_CLOSED = 2; // the golden record was emitted
export const S_HAS_ANOMALY = 4; // holds at least one emitted anomaly: kept until the horizon
export const S_ECHO_LINKED = 8; // linked to its attempt by the bank's echoed (terminal_id, stan) only: a gateway link overrides it

/** Strings only the gateway and bank bring; numbers live in the header (unboxed). */
export interface LiveAttemptInfo {
  card: string | null;
  masked: string | null;
  issuer: string | null;
  bankMerchant: string | null;
  bankCurrency: string | null;
  bankCard: string | null;
  gwCurrency: string | null;
  /** Duplicate-debit group key while this attempt's debit is in the group index. */
  group: string | null;
  /** Last emitted version per anomaly kind keyed by this attempt's rrn. */
  emitted: Map<AnomalyKind, Anomaly> | null;
  /** Golden-record version last emitted. */
  txnVersion: number;
  /** Set when this attempt was merged into another (a late gateway link). */
  mergedInto: LiveAttempt | null;
  /** The engine holding this attempt, when duplicate groups are shared between engines. */
  owner: { reevaluate(x: LiveAttempt): void } | null;
  /** The first charges of this debit's emitted DUPLICATE_DEBIT, kept even after they leave the group. */
  dupFirsts: LiveAttempt[] | null;
}

export class LiveAttempt implements AttemptView {
  tid: string | null = null;
  mid: string | null = null;
  rrn: string | null = null;
  termCurrency: string | null = null;
  state = 0;
  info: LiveAttemptInfo | null = null;
  /** Doubles of `n` in use (header + events); the rest is room to grow. */
  len = HEADER;
  n: number[];
  /** Checkpoint id (issue 13, src/engine/state/attempt-table.ts): 0 until first captured. */
  sid = 0;
  /** Changed since the last checkpoint capture: every place that changes an attempt calls touch(). */
  dirty = true;
  /** The AttemptTable capture round that last reached it. */
  seen = 0;

  constructor() {
    // NaN marks "none"; the array stays PACKED_DOUBLE (every slot a number), with room
    // for two events: capacity is managed here, not by V8's 1.5x growth, to keep
    // a million open attempts small.
    this.n = INITIAL.slice();
  }

  /** This attempt changed: the next incremental checkpoint writes it again. */
  touch(): void {
    this.dirty = true;
  }

  get eventCount(): number {
    return (this.len - HEADER) / EV;
  }

  /** Index of the event slot for event i. */
  static at(i: number): number {
    return HEADER + i * EV;
  }

  /** True when an event with these id parts is already held (a redelivery). */
  hasId(a: number, b: number, c: number): boolean {
    const n = this.n;
    const len = this.len;
    for (let p = HEADER; p < len; p += EV) {
      if (n[p + 2] === a && n[p + 3] === b && n[p + 4] === c) return true;
    }
    return false;
  }

  /** Appends an event, returns its index. */
  add(word: number, time: number, a: number, b: number, c: number): number {
    this.dirty = true;
    const i = this.eventCount;
    let n = this.n;
    const p = this.len;
    if (p + EV > n.length) {
      // Grow by half (at least two events): an exact-size copy, no hidden slack.
      const extra = Math.max(2 * EV, Math.ceil((n.length - HEADER) / EV / 2) * EV);
      n = this.n = n.concat(extra === 2 * EV ? ROOM : new Array<number>(extra).fill(NaN));
    }
    n[p] = word;
    n[p + 1] = time;
    n[p + 2] = a;
    n[p + 3] = b;
    n[p + 4] = c;
    this.len = p + EV;
    return i;
  }

  /** Event i comes before event j (-1 = none) by (event_time, event_id). */
  earlier(i: number, j: number): boolean {
    if (j < 0) return true;
    const n = this.n;
    const pi = HEADER + i * EV;
    const pj = HEADER + j * EV;
    if (n[pi + 1] !== n[pj + 1]) return n[pi + 1] < n[pj + 1];
    for (let k = 2; k < 5; k++) if (n[pi + k] !== n[pj + k]) return n[pi + k] < n[pj + k];
    return false;
  }

  /** True when any held event came from the terminal. */
  hasTerminalEvent(): boolean {
    for (let p = HEADER; p < this.len; p += EV) if (streamOf(typeOf(this.n[p])) === 'terminal') return true;
    return false;
  }

  infoOrCreate(): LiveAttemptInfo {
    this.dirty = true;
    return (this.info ??= {
      card: null, masked: null, issuer: null,
      bankMerchant: null, bankCurrency: null, bankCard: null, gwCurrency: null,
      group: null, emitted: null, txnVersion: 0, mergedInto: null, owner: null, dupFirsts: null,
    });
  }

  get stanText(): string | null {
    const s = this.n[H_STAN];
    return s < 0 ? null : String(s).padStart(6, '0');
  }

  get hasDebit(): boolean {
    return !Number.isNaN(this.n[H_DEBIT_AT]);
  }

  // ---- AttemptView: what detectors may read ----

  eventType(i: number): number {
    return typeOf(this.n[HEADER + i * EV]);
  }
  eventTime(i: number): number {
    return this.n[HEADER + i * EV + 1];
  }
  responseCode(i: number): number {
    return rcOf(this.n[HEADER + i * EV]);
  }
  failureReason(i: number): number {
    return frOf(this.n[HEADER + i * EV]);
  }
  namesOwnRrn(i: number): boolean {
    return (flagsOf(this.n[HEADER + i * EV]) & F_OWN_RRN) !== 0;
  }
  eventId(i: number): string {
    const p = HEADER + i * EV;
    return unpackUuid(this.n[p + 2], this.n[p + 3], this.n[p + 4]);
  }
  get debitAt(): number {
    return this.n[H_DEBIT_AT];
  }
  get debitAmount(): number {
    return this.n[H_DEBIT_AMOUNT];
  }
  get debitIndex(): number {
    return this.n[H_DEBIT_IDX];
  }
  get debitCurrency(): string | null {
    // A debit always comes with info (setDebit creates it).
    return this.info === null ? null : this.info.bankCurrency;
  }
  get requestAmount(): number {
    return this.n[H_REQ_AMOUNT];
  }
  get requestIndex(): number {
    return this.n[H_REQ_IDX];
  }
  get terminalCurrency(): string | null {
    return this.termCurrency;
  }
}
