/**
 * Stage 1 of posguard: links each attempt across the terminal, gateway and
 * bank streams in event time and decides the debit anomalies
 * (docs/semantics.md). Decisions wait for the watermark, so the result does
 * not depend on arrival order; evidence that arrives after a decision
 * re-evaluates it and emits a new version (RETRACTED when it no longer holds).
 */
import type { Rules } from '../config/rules.js';
import { anomalyId, type Anomaly, type AnomalyKind, type AnomalyStatus, type Evidence, type EvidenceEvent, type OrphanCause } from '../detect/anomaly.js';
import { decideAmountMismatch } from '../detect/amount-mismatch.js';
import { debitFacts } from '../detect/debit-facts.js';
import { debitBefore, decideDuplicate } from '../detect/duplicate-debit.js';
import { evidenceOf, type EvidenceScope } from '../detect/evidence.js';
import { decideOrphan } from '../detect/orphan-debit.js';
import type { CardFact, CardPatternDetector, FaultSpikeDetector, HardwareSignal } from '../detect/patterns/types.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../events/index.js';
import { B, F_OWN_RRN, G, T, codeName, frCode, pack, rcCode, streamOf, typeOf, withCode } from './codes.js';
import { goldenRecord } from './golden-record.js';
import { TimeHeap } from '../util/heap.js';
import type { TransactionRecord } from './transaction.js';
import {
  H_CODES, H_DEBIT_AMOUNT, H_DEBIT_AT, H_DEBIT_IDX, H_DUE, H_GW_AMOUNT, H_LAST_HI, H_LATENCY, H_TERM_AMOUNT, H_LAT, H_LON, H_REQ_AMOUNT, H_REQ_IDX, H_STAN, H_START_IDX,
  HEADER, EV, S_CLOSED, S_DECIDED, S_ECHO_LINKED, S_HAS_ANOMALY, Txn,
} from './txn.js';
import { packUuid, unpackUuid } from './uuid.js';
import { SharedDuplicates } from './shared-duplicates.js';
import { Watermarks } from './watermark.js';

export interface EngineOutput {
  anomaly(a: Anomaly): void;
  transaction?(t: TransactionRecord): void;
  /** An event that arrived after the watermark had passed it (still applied). */
  late?(stream: Stream, event: TerminalEvent | GatewayEvent | BankEvent): void;
}

export interface EngineOptions {
  rules: () => Rules;
  output: EngineOutput;
  cardPatterns?: CardPatternDetector;
  faultSpikes?: FaultSpikeDetector;
  /** Wall clock for `detected_at` only; never used for decisions. */
  now?: () => number;
  /**
   * Duplicate-debit groups shared with other engines of this process (one per
   * input partition in `posguard run`): a merchant's terminals may sit in
   * different partitions. A debit's first charge arriving in another engine
   * later re-decides it there, as any late evidence does.
   */
  duplicateGroups?: SharedDuplicates;
}

export interface EngineCounters {
  events: Record<Stream, number>;
  duplicates: Record<Stream, number>;
  late: Record<Stream, number>;
  /** Late events too old for any held state: recorded, applied to nothing. */
  tooLate: Record<Stream, number>;
  linkConflicts: number;
  anomalyVersions: number;
  decisions: number;
  released: number;
}

const zero = (): Record<Stream, number> => ({ terminal: 0, gateway: 0, bank: 0 });
const DEBIT_TYPES = new Set(['SALE', 'PREAUTH']);
// Maps, not object lookups: a string-keyed Map.get is one hash probe on the hot path.
const T_CODE = new Map(Object.entries(T));
const G_CODE = new Map(Object.entries(G));
const B_CODE = new Map(Object.entries(B));
const ATTEMPT_GW_TYPES = new Set<number>([G.REQUEST_RECEIVED, G.FORWARDED_TO_ISSUER, G.ISSUER_RESPONSE, G.ISSUER_TIMEOUT, G.RESPONSE_SENT]);
const DEBIT_KINDS: readonly AnomalyKind[] = ['ORPHAN_DEBIT', 'AMOUNT_MISMATCH', 'DUPLICATE_DEBIT'];
const EVIDENCE_SCOPE: Partial<Record<AnomalyKind, EvidenceScope>> = { ORPHAN_DEBIT: 'ATTEMPT', AMOUNT_MISMATCH: 'AMOUNT', DUPLICATE_DEBIT: 'DEBIT' };

/** A card fact waiting for the watermark; lat/lon/debit/late are filled in on release. */
interface PendingFact {
  fact: Mutable<CardFact>;
  txn: Txn;
}
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Candidate {
  status: AnomalyStatus;
  cause: OrphanCause | null;
  related: readonly Txn[];
}

export class Engine {
  readonly counters: EngineCounters = {
    events: zero(), duplicates: zero(), late: zero(), tooLate: zero(),
    linkConflicts: 0, anomalyVersions: 0, decisions: 0, released: 0,
  };
  private readonly rules: () => Rules;
  private readonly out: EngineOutput;
  private readonly cards?: CardPatternDetector;
  private readonly faults?: FaultSpikeDetector;
  private readonly now: () => number;
  private readonly wm: Watermarks;
  /** terminal_id → stan (number) → attempt. Nested maps avoid building a key string per event. */
  private readonly byAttempt = new Map<string, Map<number, Txn>>();
  private readonly byRrn = new Map<string, Txn>();
  /** Duplicate-debit groups: card|merchant|amount|currency → held debits. */
  private readonly groups: Map<string, Txn[]>;
  private readonly dups: SharedDuplicates;
  private readonly sharedGroups: boolean;
  private readonly timers = new TimeHeap<Txn>();
  private readonly facts = new TimeHeap<PendingFact>();
  private lastFactTime = -Infinity;
  /** DEVICE_FAULT ids seen (they belong to no attempt), with the time they may be forgotten. */
  private readonly faultIds = new Map<string, number>();
  private readonly faultIdExpiry = new TimeHeap<string>();
  private interned = new Map<string, string>();
  private openCount = 0;
  private ended = false;

  constructor(opts: EngineOptions) {
    this.rules = opts.rules;
    this.out = opts.output;
    this.cards = opts.cardPatterns;
    this.faults = opts.faultSpikes;
    this.now = opts.now ?? Date.now;
    this.dups = opts.duplicateGroups ?? new SharedDuplicates();
    this.groups = this.dups.groups;
    this.sharedGroups = opts.duplicateGroups !== undefined;
    this.wm = new Watermarks(() => this.rules().time);
    this.dups.register(this, () => this.wm.value);
  }

  /** The engine's event-time low watermark (true time, epoch ms). */
  get watermark(): number {
    return this.wm.value;
  }

  /** Per-stream watermarks (true time, epoch ms), for metrics. */
  watermarks(): Record<Stream, number> {
    return this.wm.perStream();
  }

  /** Attempts currently held in state. */
  openAttempts(): number {
    return this.openCount;
  }

  push(stream: Stream, e: TerminalEvent | GatewayEvent | BankEvent): void {
    if (stream === 'terminal') this.pushTerminal(e as TerminalEvent);
    else if (stream === 'gateway') this.pushGateway(e as GatewayEvent);
    else this.pushBank(e as BankEvent);
  }

  // ---------------------------------------------------------------- terminal

  pushTerminal(e: TerminalEvent): void {
    this.counters.events.terminal++;
    const time = this.rules().time;
    const hi = e.event_time + time.terminalMaxDriftMs;
    const late = hi < this.wm.value;
    if (e.event_type === 'DEVICE_FAULT') {
      if (this.faultIds.has(e.event_id)) {
        this.counters.duplicates.terminal++;
        return;
      }
      this.faultIds.set(e.event_id, 0);
      this.faultIdExpiry.push(hi + this.retentionMs(), e.event_id);
      if (late) this.noteLate('terminal', e);
      this.signal(e);
      this.observe('terminal', e.event_time);
      return;
    }
    // A reversal message belongs to the attempt it reverses.
    const stanText = e.event_type === 'REVERSAL_SENT' ? e.orig_stan! : e.stan;
    const stan = Number(stanText);
    let x = this.attempt(e.terminal_id, stan);
    if (x === undefined) {
      if (late && hi + this.retentionMs() < this.wm.value) return this.tooLate('terminal', e);
      x = this.newTxn();
      this.linkAttempt(x, e.terminal_id, stan);
    }
    packUuid(e.event_id, idParts, 0);
    const a = idParts[0], b = idParts[1], c = idParts[2];
    if (x.hasId(a, b, c)) {
      this.counters.duplicates.terminal++;
      return;
    }
    if (late) this.noteLate('terminal', e);
    if (x.mid === null) x.mid = this.intern(e.merchant_id);
    const type = T_CODE.get(e.event_type)!;
    const idx = x.add(pack(type, rcCode(e.response_code), frCode(e.failure_reason), 0), e.event_time, a, b, c);
    const n = x.n;
    if (hi > n[H_LAST_HI]) n[H_LAST_HI] = hi;
    if (e.event_type === 'TXN_STARTED') {
      if (e.lat !== null && e.lon !== null && this.earlierThan(x, idx, n[H_START_IDX])) {
        n[H_LAT] = e.lat;
        n[H_LON] = e.lon;
        n[H_START_IDX] = idx;
      }
      n[H_CODES] = withCode(n[H_CODES], 'entryMode', e.entry_mode);
    } else if (e.event_type === 'REQUEST_SENT') {
      if (this.earlierThan(x, idx, n[H_REQ_IDX])) {
        n[H_REQ_AMOUNT] = e.amount_minor!;
        n[H_REQ_IDX] = idx;
        x.termCurrency = this.intern(e.currency!);
      }
    } else if (e.event_type === 'TXN_FAILED' && (e.failure_reason === 'CARD_READ_ERROR' || e.failure_reason === 'PRINTER_ERROR')) {
      this.signal(e);
    }
    if (x.termCurrency === null && e.currency !== null) x.termCurrency = this.intern(e.currency);
    if (e.masked_pan !== null && (x.info === null || x.info.masked === null)) x.infoOrCreate().masked = e.masked_pan;
    if (Number.isNaN(n[H_TERM_AMOUNT]) && e.amount_minor !== null) n[H_TERM_AMOUNT] = e.amount_minor;
    n[H_CODES] = withCode(n[H_CODES], 'txnType', e.txn_type);
    this.changed(x);
    this.observe('terminal', e.event_time);
  }

  // ----------------------------------------------------------------- gateway

  pushGateway(e: GatewayEvent): void {
    this.counters.events.gateway++;
    const time = this.rules().time;
    const hi = e.event_time + time.clockSkewMs;
    const late = hi < this.wm.value;
    const type = G_CODE.get(e.event_type)!;
    const attemptEvent = ATTEMPT_GW_TYPES.has(type);
    const key = attemptEvent ? e.rrn : e.orig_rrn!;
    let x = this.byRrn.get(key);
    if (attemptEvent && x !== undefined && (x.state & S_ECHO_LINKED) !== 0) x = this.gatewayRelink(x, e.terminal_id, Number(e.stan));
    if (attemptEvent) {
      const byKey = this.attempt(e.terminal_id, Number(e.stan));
      if (x === undefined && byKey !== undefined && byKey.rrn === null) {
        x = byKey;
        this.linkRrn(x, key);
      } else if (x !== undefined && byKey !== undefined && x !== byKey) {
        if (x.tid === null && byKey.rrn === null) x = this.merge(byKey, x);
        else this.counters.linkConflicts++; // two attempts claim one rrn: keep the first link
      } else if (x !== undefined && byKey === undefined && x.tid === null) {
        this.linkAttempt(x, e.terminal_id, Number(e.stan));
      } else if (x === undefined && byKey !== undefined && byKey.rrn !== null) {
        this.counters.linkConflicts++; // one attempt, two rrns: the second stands alone
      }
    }
    if (x === undefined) {
      if (late && hi + this.retentionMs() < this.wm.value) return this.tooLate('gateway', e);
      x = this.newTxn();
      this.linkRrn(x, key);
      if (attemptEvent) this.linkAttempt(x, e.terminal_id, Number(e.stan));
    }
    packUuid(e.event_id, idParts, 0);
    const a = idParts[0], b = idParts[1], c = idParts[2];
    if (x.hasId(a, b, c)) {
      this.counters.duplicates.gateway++;
      return;
    }
    if (late) this.noteLate('gateway', e);
    const own = e.rrn === x.rrn ? F_OWN_RRN : 0;
    x.add(pack(type, rcCode(e.response_code), 0, own), e.event_time, a, b, c);
    if (hi > x.n[H_LAST_HI]) x.n[H_LAST_HI] = hi;
    if (attemptEvent) {
      const info = x.infoOrCreate();
      info.issuer ??= this.intern(e.issuer_id);
      info.card ??= e.card_token;
      const n = x.n;
      n[H_CODES] = withCode(withCode(n[H_CODES], 'network', e.network), 'txnType', e.txn_type);
      if (Number.isNaN(n[H_GW_AMOUNT])) {
        n[H_GW_AMOUNT] = e.amount_minor;
        info.gwCurrency = this.intern(e.currency);
      }
      if (e.latency_ms !== null) n[H_LATENCY] = e.latency_ms;
      if (x.mid === null) x.mid = this.intern(e.merchant_id);
    }
    this.changed(x);
    this.observe('gateway', e.event_time);
  }

  // -------------------------------------------------------------------- bank

  pushBank(e: BankEvent): void {
    this.counters.events.bank++;
    const time = this.rules().time;
    const hi = e.event_time + time.clockSkewMs;
    const late = hi < this.wm.value;
    const isAuth = e.event_type === 'AUTH_APPROVED' || e.event_type === 'AUTH_DECLINED';
    const key = isAuth ? e.rrn : e.orig_rrn!;
    let x = this.byRrn.get(key);
    if (isAuth && (x === undefined || x.tid === null)) {
      // Where the gateway never linked the rrn: the bank's own terminal_id and stan.
      const byKey = this.attempt(e.terminal_id, Number(e.stan));
      if (x === undefined && byKey !== undefined && byKey.rrn === null) {
        x = byKey;
        this.linkRrn(x, key);
      } else if (x !== undefined && byKey !== undefined && byKey.rrn === null) {
        x = this.merge(byKey, x);
      } else if (x !== undefined && byKey === undefined) {
        this.linkAttempt(x, e.terminal_id, Number(e.stan));
        x.state |= S_ECHO_LINKED;
      }
    }
    if (x === undefined) {
      if (late && hi + this.retentionMs() < this.wm.value) return this.tooLate('bank', e);
      x = this.newTxn();
      this.linkRrn(x, key);
      if (isAuth) {
        if (this.attempt(e.terminal_id, Number(e.stan)) === undefined) {
          this.linkAttempt(x, e.terminal_id, Number(e.stan));
          x.state |= S_ECHO_LINKED;
        } else {
          // The echoed attempt already has another rrn: keep the ids for the anomaly, index nothing.
          this.counters.linkConflicts++;
          x.tid = this.intern(e.terminal_id);
          x.n[H_STAN] = Number(e.stan);
        }
      }
    }
    packUuid(e.event_id, idParts, 0);
    const a = idParts[0], b = idParts[1], c = idParts[2];
    if (x.hasId(a, b, c)) {
      this.counters.duplicates.bank++;
      return;
    }
    if (late) this.noteLate('bank', e);
    const type = B_CODE.get(e.event_type)!;
    const idx = x.add(pack(type, rcCode(e.response_code), 0, 0), e.event_time, a, b, c);
    const n = x.n;
    if (hi > n[H_LAST_HI]) n[H_LAST_HI] = hi;
    if (isAuth) {
      const info = x.infoOrCreate();
      info.issuer ??= this.intern(e.issuer_id);
      n[H_CODES] = withCode(n[H_CODES], 'txnType', e.txn_type);
      if (x.mid === null) x.mid = this.intern(e.merchant_id);
      if (e.event_type === 'AUTH_APPROVED' && DEBIT_TYPES.has(e.txn_type) && this.earlierThan(x, idx, n[H_DEBIT_IDX])) {
        this.setDebit(x, e, idx);
      }
      if (this.cards) this.facts.push(e.event_time + time.clockSkewMs, {
        txn: x,
        fact: {
          event_id: e.event_id, event_time: e.event_time, rrn: e.rrn, card_token: e.card_token, merchant_id: e.merchant_id,
          terminal_id: e.terminal_id, stan: e.stan, issuer_id: e.issuer_id, txn_type: e.txn_type, amount_minor: e.amount_minor,
          currency: e.currency, approved: e.event_type === 'AUTH_APPROVED',
          debit: e.event_type === 'AUTH_APPROVED' && DEBIT_TYPES.has(e.txn_type),
          lat: null, lon: null, late: false,
        },
      });
    }
    this.changed(x);
    this.observe('bank', e.event_time);
  }

  /** End of a finite input: every window closes, every pending decision is taken. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.wm.close();
    this.advance();
    this.faults?.end();
    // With groups shared between engines, the others may still decide against these debits.
    if (this.sharedGroups) return;
    for (const m of [...this.byAttempt.values()]) for (const x of [...m.values()]) this.release(x);
    for (const x of [...this.byRrn.values()]) this.release(x);
  }

  // ----------------------------------------------------------------- linking

  private attempt(tid: string, stan: number): Txn | undefined {
    return this.byAttempt.get(tid)?.get(stan);
  }

  private linkAttempt(x: Txn, tid: string, stan: number): void {
    x.tid = this.intern(tid);
    x.n[H_STAN] = stan;
    let m = this.byAttempt.get(x.tid);
    if (m === undefined) this.byAttempt.set(x.tid, (m = new Map()));
    m.set(stan, x);
  }

  private linkRrn(x: Txn, rrn: string): void {
    x.rrn = rrn;
    this.byRrn.set(rrn, x);
  }

  private newTxn(): Txn {
    this.openCount++;
    return new Txn();
  }

  /**
   * x was linked by the bank's echoed (terminal_id, stan); the gateway, which
   * docs/semantics.md makes the authority, names (tid, stan). When they differ
   * and x holds no terminal event yet (so nothing of the echoed attempt is
   * mixed in), x moves to the gateway's attempt, merging with it if that one
   * was seen alone. Returns the attempt the event belongs to.
   */
  private gatewayRelink(x: Txn, tid: string, stan: number): Txn {
    if (x.tid === tid && x.n[H_STAN] === stan) {
      x.state &= ~S_ECHO_LINKED;
      return x;
    }
    for (let p = HEADER; p < x.len; p += EV) if (streamOf(typeOf(x.n[p])) === 'terminal') return x;
    const target = this.attempt(tid, stan);
    if (target !== undefined && target.rrn !== null) {
      // Two rrns claim the gateway's attempt: the known limit (one rrn per attempt) keeps the first.
      this.counters.linkConflicts++;
      return x;
    }
    const m = x.tid === null ? undefined : this.byAttempt.get(x.tid);
    if (m !== undefined && m.get(x.n[H_STAN]) === x) {
      m.delete(x.n[H_STAN]);
      if (m.size === 0) this.byAttempt.delete(x.tid!);
    }
    x.state &= ~S_ECHO_LINKED;
    if (target === undefined) {
      this.linkAttempt(x, tid, stan);
      return x;
    }
    return this.merge(target, x);
  }

  /** Folds `from` (known by rrn only) into the attempt `into`; returns `into`. */
  private merge(into: Txn, from: Txn): Txn {
    const rrn = from.rrn!;
    const fn = from.n;
    for (let p = HEADER; p < from.len; p += EV) {
      if (into.hasId(fn[p + 2], fn[p + 3], fn[p + 4])) continue;
      into.add(fn[p], fn[p + 1], fn[p + 2], fn[p + 3], fn[p + 4]);
    }
    if (fn[H_LAST_HI] > into.n[H_LAST_HI]) into.n[H_LAST_HI] = fn[H_LAST_HI];
    for (const h of [H_GW_AMOUNT, H_TERM_AMOUNT, H_LATENCY, H_DEBIT_AMOUNT]) if (Number.isNaN(into.n[h])) into.n[h] = fn[h];
    for (const f of ['txnType', 'entryMode', 'network'] as const) into.n[H_CODES] = withCode(into.n[H_CODES], f, codeName(fn[H_CODES], f));
    into.rrn = rrn;
    this.byRrn.set(rrn, into);
    if (from.info !== null) {
      const fi = from.info;
      const ii = into.infoOrCreate();
      for (const k of ['card', 'masked', 'issuer', 'bankMerchant', 'bankCurrency', 'bankCard', 'gwCurrency'] as const) {
        if (ii[k] === null) ii[k] = fi[k];
      }
      if (fi.emitted !== null) {
        ii.emitted ??= new Map();
        for (const [k, v] of fi.emitted) if (!ii.emitted.has(k)) ii.emitted.set(k, v);
      }
      if (fi.group !== null) this.leaveGroup(from);
      fi.mergedInto = into;
    }
    into.state |= from.state & (S_DECIDED | S_HAS_ANOMALY);
    // Re-derive the debit and the request from the merged events.
    into.n[H_DEBIT_AT] = NaN;
    into.n[H_DEBIT_IDX] = -1;
    from.n[H_DUE] = NaN; // its timer entries are now stale
    this.openCount--;
    this.recomputeDebit(into);
    return into;
  }

  /** After a merge: the earliest AUTH_APPROVED debit among the events. */
  private recomputeDebit(x: Txn): void {
    const n = x.n;
    for (let i = 0, p = HEADER; p < x.len; i++, p += EV) {
      if ((n[p] & 31) === B.AUTH_APPROVED && this.earlierThan(x, i, n[H_DEBIT_IDX])) {
        n[H_DEBIT_IDX] = i;
        n[H_DEBIT_AT] = n[p + 1];
      }
    }
    if (!Number.isNaN(n[H_DEBIT_AT]) && x.info !== null && x.info.group === null && x.info.bankCard !== null) this.joinGroup(x);
  }

  /** Event i comes before event j (-1 = none) by (event_time, event_id). */
  private earlierThan(x: Txn, i: number, j: number): boolean {
    if (j < 0) return true;
    const n = x.n;
    const pi = HEADER + i * EV;
    const pj = HEADER + j * EV;
    if (n[pi + 1] !== n[pj + 1]) return n[pi + 1] < n[pj + 1];
    for (let k = 2; k < 5; k++) if (n[pi + k] !== n[pj + k]) return n[pi + k] < n[pj + k];
    return false;
  }

  private setDebit(x: Txn, e: BankEvent, idx: number): void {
    const n = x.n;
    const info = x.infoOrCreate();
    if (info.group !== null) this.leaveGroup(x);
    n[H_DEBIT_AT] = e.event_time;
    n[H_DEBIT_AMOUNT] = e.amount_minor;
    n[H_DEBIT_IDX] = idx;
    info.bankMerchant = this.intern(e.merchant_id);
    info.bankCurrency = this.intern(e.currency);
    info.bankCard = e.card_token;
    info.issuer = this.intern(e.issuer_id);
    this.joinGroup(x);
  }

  /** Re-decides a held debit after evidence elsewhere changed (a shared duplicate group). */
  reevaluate(x: Txn): void {
    // Also after its release: it stays in the shared index until every engine is past it.
    if ((x.state & S_DECIDED) !== 0) this.evaluate(x);
  }

  private groupKey(x: Txn): string {
    const i = x.info!;
    return `${i.bankCard}|${i.bankMerchant}|${x.n[H_DEBIT_AMOUNT]}|${i.bankCurrency}`;
  }

  private joinGroup(x: Txn): void {
    const key = this.groupKey(x);
    x.info!.group = key;
    x.info!.owner = this;
    this.dups.join(x, key);
  }

  private leaveGroup(x: Txn): void {
    this.dups.remove(x);
  }

  // ------------------------------------------------------------------ timing

  private retentionMs(): number {
    const r = this.rules();
    // A debit must outlive every later debit of its group's decision (t + window + grace).
    return r.debits.reversalGraceMs + r.duplicateDebit.windowMs + r.time.allowedLatenessMs;
  }

  private observe(stream: Stream, eventTime: number): void {
    if (this.wm.observe(stream, eventTime)) this.advance();
  }

  /** The next moment this attempt needs attention, given what it holds. */
  private nextDue(x: Txn): number {
    const r = this.rules();
    const n = x.n;
    const debitAt = n[H_DEBIT_AT];
    const hasDebit = !Number.isNaN(debitAt);
    if (hasDebit && (x.state & S_DECIDED) === 0) return debitAt + r.debits.reversalGraceMs;
    const lastHi = n[H_LAST_HI];
    if ((x.state & S_CLOSED) === 0) return Math.max(lastHi, hasDebit ? debitAt : -Infinity) + r.debits.reversalGraceMs;
    let release = Math.max(lastHi, hasDebit ? debitAt : -Infinity) + this.retentionMs();
    if ((x.state & S_HAS_ANOMALY) !== 0 && hasDebit) release = Math.max(release, debitAt + r.debits.resolutionHorizonMs);
    return release;
  }

  private schedule(x: Txn): void {
    const due = this.nextDue(x);
    const cur = x.n[H_DUE];
    // An entry at an earlier or equal time already exists: it will reschedule when it fires.
    if (cur !== 0 && cur <= due) return;
    x.n[H_DUE] = due;
    this.timers.push(due, x);
  }

  /** New evidence on an attempt: decided ones are re-evaluated now. */
  private changed(x: Txn): void {
    if ((x.state & S_DECIDED) !== 0) {
      this.evaluate(x);
      this.reevaluateLaterDuplicates(x);
      if ((x.state & S_CLOSED) !== 0) this.reemitGolden(x);
    }
    this.schedule(x);
  }

  private advance(): void {
    const w = this.wm.value;
    this.releaseFacts(w);
    while (this.timers.size > 0 && this.timers.peekTime() <= w) {
      const due = this.timers.peekTime();
      const x = this.timers.pop();
      if (x.n[H_DUE] !== due) continue; // superseded or released
      x.n[H_DUE] = 0;
      this.fire(x, w, due);
    }
    if (this.sharedGroups) this.dups.prune();
    // Facts are released at t + clockSkew: the in-order frontier is that much behind W.
    this.cards?.advance(w - this.rules().time.clockSkewMs);
    this.faults?.advance(w);
    while (this.faultIdExpiry.size > 0 && this.faultIdExpiry.peekTime() < w) this.faultIds.delete(this.faultIdExpiry.pop());
  }

  private fire(x: Txn, w: number, due: number): void {
    const r = this.rules();
    const n = x.n;
    const hasDebit = !Number.isNaN(n[H_DEBIT_AT]);
    if (hasDebit && (x.state & S_DECIDED) === 0 && w >= n[H_DEBIT_AT] + r.debits.reversalGraceMs) {
      x.state |= S_DECIDED;
      this.counters.decisions++;
      this.evaluate(x);
      this.reevaluateLaterDuplicates(x);
    }
    if ((x.state & S_CLOSED) === 0 && (!hasDebit || (x.state & S_DECIDED) !== 0)
      && w >= Math.max(n[H_LAST_HI], hasDebit ? n[H_DEBIT_AT] : -Infinity) + r.debits.reversalGraceMs) {
      x.state |= S_CLOSED;
      this.reemitGolden(x);
    }
    // At the end of input every decision is taken before anything is released (end() releases all).
    if (this.ended) return;
    // Release only from an entry scheduled at the release time itself: when the watermark
    // jumps, later debits of the group must be decided (they come first in time order)
    // before this one leaves the group.
    if ((x.state & S_CLOSED) !== 0 && due >= this.nextDue(x)) {
      this.release(x);
      return;
    }
    this.schedule(x);
  }

  private release(x: Txn): void {
    if (Number.isNaN(x.n[H_DUE])) return; // already released
    if (x.tid !== null) {
      const m = this.byAttempt.get(x.tid);
      const stan = x.n[H_STAN];
      if (m !== undefined && m.get(stan) === x) {
        m.delete(stan);
        if (m.size === 0) this.byAttempt.delete(x.tid);
      }
    }
    if (x.rrn !== null && this.byRrn.get(x.rrn) === x) this.byRrn.delete(x.rrn);
    if (x.info?.group) {
      // Shared with other engines: it stays findable until every engine is past its release time.
      if (this.sharedGroups) this.dups.deferRemoval(x, this.wm.value);
      else this.leaveGroup(x);
    }
    x.n[H_DUE] = NaN;
    this.openCount--;
    this.counters.released++;
  }

  private releaseFacts(w: number): void {
    if (this.facts.size === 0 || this.facts.peekTime() > w) return;
    const ready: PendingFact[] = [];
    while (this.facts.size > 0 && this.facts.peekTime() <= w) ready.push(this.facts.pop());
    // Stage 2 needs (event_time, event_id) order; one batch is all facts the watermark passed.
    ready.sort((a, b) => a.fact.event_time - b.fact.event_time || (a.fact.event_id < b.fact.event_id ? -1 : 1));
    for (const p of ready) {
      let x = p.txn;
      while (x.info?.mergedInto) x = x.info.mergedInto;
      const late = p.fact.event_time < this.lastFactTime;
      if (!late) this.lastFactTime = p.fact.event_time;
      const n = x.n;
      const lat = n[H_LAT];
      const lon = n[H_LON];
      // Only the attempt's debit (its earliest SALE/PREAUTH approval) is a debit (docs/semantics.md).
      let debit = p.fact.debit;
      if (debit) {
        const q = HEADER + n[H_DEBIT_IDX] * EV;
        debit = n[H_DEBIT_IDX] >= 0 && unpackUuid(n[q + 2], n[q + 3], n[q + 4]) === p.fact.event_id.toLowerCase();
      }
      const f = p.fact;
      f.debit = debit;
      f.lat = Number.isNaN(lat) ? null : lat;
      f.lon = Number.isNaN(lon) ? null : lon;
      f.late = late;
      this.cards?.push(f);
    }
  }

  // --------------------------------------------------------------- decisions

  /** (Re)computes the debit anomalies of x and emits what changed. */
  private evaluate(x: Txn): void {
    if (Number.isNaN(x.n[H_DEBIT_AT])) return;
    const r = this.rules();
    const grace = r.debits.reversalGraceMs;
    const horizon = r.debits.resolutionHorizonMs;
    const f = debitFacts(x, grace, horizon);
    for (const kind of DEBIT_KINDS) {
      let c: Candidate | null = null;
      if (kind === 'ORPHAN_DEBIT') {
        const d = r.orphanDebit.enabled ? decideOrphan(f) : null;
        if (d) c = { status: d.status, cause: d.cause, related: [] };
      } else if (kind === 'AMOUNT_MISMATCH') {
        const d = r.amountMismatch.enabled ? decideAmountMismatch(x, f) : null;
        if (d) c = { status: d.status, cause: null, related: [] };
      } else {
        const group = x.info?.group ? this.groups.get(x.info.group) : undefined;
        // A first charge released from the group (its retention ended first) still counts for a duplicate already emitted.
        const firsts = x.info?.dupFirsts;
        const pool = firsts ? [...new Set([...(group ?? []), ...firsts])] : group;
        const d = r.duplicateDebit.enabled && pool ? decideDuplicate(x, pool, r.duplicateDebit.windowMs, grace, horizon) : null;
        if (d) c = { status: d.status, cause: null, related: d.firsts };
      }
      this.reconcile(x, kind, c);
    }
  }

  /** x's evidence changed: debits that may count x as their first charge are re-decided. */
  private reevaluateLaterDuplicates(x: Txn): void {
    const key = x.info?.group;
    if (!key) return;
    const group = this.groups.get(key);
    if (!group || group.length < 2) return;
    const windowMs = this.rules().duplicateDebit.windowMs;
    for (const z of group) {
      if (z === x || (z.state & S_DECIDED) === 0 || !debitBefore(x, z)) continue;
      if (z.n[H_DEBIT_AT] - x.n[H_DEBIT_AT] > windowMs) continue;
      const owner = z.info?.owner;
      if (owner && owner !== this) owner.reevaluate(z);
      else this.evaluate(z);
    }
  }

  /** Emits a new version when the decision for (x, kind) differs from the last one emitted. */
  private reconcile(x: Txn, kind: AnomalyKind, c: Candidate | null): void {
    const info = x.infoOrCreate();
    const prev = info.emitted?.get(kind);
    if (c === null) {
      if (prev === undefined || prev.status === 'RETRACTED') return;
      c = { status: 'RETRACTED', cause: prev.cause, related: [] };
    }
    const related = c.related.map((y) => y.rrn!);
    const relatedList = c.status === 'RETRACTED' && prev ? prev.related_rrns : related;
    // Evidence that arrives after the decision without changing it still belongs to the final state
    // (the batch reference sees it), so a changed evidence list is a change too.
    const evidence = evidenceOf([x, ...c.related], EVIDENCE_SCOPE[kind]!, this.rules().debits.resolutionHorizonMs);
    if (prev !== undefined && prev.status === c.status && prev.cause === c.cause && sameList(prev.related_rrns, relatedList)
      && prev.stan === x.stanText && prev.terminal_id === x.tid && sameEvidence(prev.evidence, evidence)) return;
    const r = this.rules();
    const severity = kind === 'ORPHAN_DEBIT' ? r.orphanDebit.severity : kind === 'AMOUNT_MISMATCH' ? r.amountMismatch.severity : r.duplicateDebit.severity;
    const a: Anomaly = {
      anomaly_id: prev?.anomaly_id ?? anomalyId(kind, x.rrn!),
      kind,
      cause: c.cause,
      status: c.status,
      severity,
      version: (prev?.version ?? 0) + 1,
      event_time: x.n[H_DEBIT_AT],
      detected_at: this.now(),
      terminal_id: x.tid,
      merchant_id: info.bankMerchant ?? x.mid,
      card_token: info.bankCard,
      rrn: x.rrn,
      stan: x.stanText,
      issuer_id: info.issuer,
      amount_minor: x.n[H_DEBIT_AMOUNT],
      currency: info.bankCurrency,
      related_rrns: relatedList,
      evidence,
    };
    (info.emitted ??= new Map()).set(kind, a);
    x.state |= S_HAS_ANOMALY;
    if (kind === 'DUPLICATE_DEBIT' && c.related.length > 0) {
      info.dupFirsts = [...c.related];
      // The first charges stay held to their horizon too: a late reversal of one still resolves this duplicate.
      for (const y of c.related) y.state |= S_HAS_ANOMALY;
    }
    this.counters.anomalyVersions++;
    this.out.anomaly(a);
  }

  private reemitGolden(x: Txn): void {
    if (!this.out.transaction) return;
    const info = x.infoOrCreate();
    const rec = goldenRecord(x, info.txnVersion + 1);
    info.txnVersion = rec.version;
    this.out.transaction(rec);
  }

  // -------------------------------------------------------------- plumbing

  private signal(e: TerminalEvent): void {
    if (!this.faults) return;
    const s: HardwareSignal = {
      event_id: e.event_id, event_time: e.event_time, terminal_id: e.terminal_id, merchant_id: e.merchant_id, stan: e.stan,
      event_type: e.event_type as 'DEVICE_FAULT' | 'TXN_FAILED', failure_reason: e.failure_reason, fault_component: e.fault_component,
      amount_minor: e.amount_minor, currency: e.currency,
    };
    this.faults.push(s);
  }

  private noteLate(stream: Stream, e: TerminalEvent | GatewayEvent | BankEvent): void {
    this.counters.late[stream]++;
    this.out.late?.(stream, e);
  }

  private tooLate(stream: Stream, e: TerminalEvent | GatewayEvent | BankEvent): void {
    this.counters.tooLate[stream]++;
    this.noteLate(stream, e);
    this.observe(stream, e.event_time);
  }

  /** Low-cardinality strings (terminal, merchant, issuer, currency) are stored once. */
  private intern(s: string): string {
    const hit = this.interned.get(s);
    if (hit !== undefined) return hit;
    if (this.interned.size > 1_000_000) this.interned = new Map(); // bound it; correctness never depends on identity
    this.interned.set(s, s);
    return s;
  }
}

function sameEvidence(a: Evidence, b: Evidence): boolean {
  const same = (xs: readonly EvidenceEvent[], ys: readonly EvidenceEvent[]) => xs.length === ys.length && xs.every((e, i) => e.event_id === ys[i].event_id);
  return same(a.terminal, b.terminal) && same(a.gateway, b.gateway) && same(a.bank, b.bank);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Scratch space for a packed event id (no allocation per event). */
const idParts: number[] = [0, 0, 0];
