/**
 * Stage 1 of posguard: links each attempt across the terminal, gateway and
 * bank streams in event time and decides the debit anomalies
 * (docs/semantics.md). Decisions wait for the watermark, so the result does
 * not depend on arrival order; evidence that arrives after a decision
 * re-evaluates it and emits a new version (RETRACTED when it no longer holds).
 *
 * This class takes events in and wires the parts: linking (attempt-index.ts),
 * what an event adds to its attempt (attempt-fields.ts), timers and release
 * (attempt-lifecycle.ts), decisions and anomaly versions (debit-decisions.ts),
 * card facts for stage 2 (card-facts.ts). The detectors decide
 * (src/detect/debit-detectors.ts) and read attempts through AttemptView.
 */
import type { Rules } from '../config/rules.js';
import { DEBIT_DETECTORS } from '../detect/debit-detectors.js';
import type { FaultSpikeDetector, HardwareSignal } from '../detect/patterns/types.js';
import { B, F_OWN_RRN, G, T, frCode, pack, rcCode } from '../events/codes.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../events/index.js';
import { TimeHeap } from '../util/heap.js';
import { Interner } from '../util/interner.js';
import { stateCensus } from '../util/state-census.js';
import { packUuid } from '../util/uuid-pack.js';
import { recordBankAuth, recordGateway, recordTerminal } from './attempt-fields.js';
import { AttemptIndex } from './attempt-index.js';
import { AttemptLifecycle } from './attempt-lifecycle.js';
import { PendingCardFacts } from './card-facts.js';
import { DebitDecisions } from './debit-decisions.js';
import { DebitGroups } from './debit-groups.js';
import type { EngineCounters, EngineOptions } from './engine-types.js';
import { H_LAST_HI, S_DECIDED, type LiveAttempt } from './live-attempt.js';
import { SharedDuplicates } from './shared-duplicates.js';
import type { AttemptRefs } from './state/attempt-refs.js';
import type { AttemptTable } from './state/attempt-table.js';
import { captureEngineSkeleton, restoreEngineSkeleton, type EngineSkeleton } from './state/engine-skeleton.js';
import { restoreEngine, snapshotEngine, type EngineParts, type EngineState } from './state/engine-state.js';
import { Watermarks } from './watermark.js';

export type { EngineCounters, EngineOptions, EngineOutput } from './engine-types.js';

const zero = (): Record<Stream, number> => ({ terminal: 0, gateway: 0, bank: 0 });
// Maps, not object lookups: a string-keyed Map.get is one hash probe on the hot path.
const T_CODE = new Map(Object.entries(T));
const G_CODE = new Map(Object.entries(G));
const B_CODE = new Map(Object.entries(B));
const ATTEMPT_GW_TYPES = new Set<number>([G.REQUEST_RECEIVED, G.FORWARDED_TO_ISSUER, G.ISSUER_RESPONSE, G.ISSUER_TIMEOUT, G.RESPONSE_SENT]);

export class Engine {
  readonly counters: EngineCounters = {
    events: zero(), duplicates: zero(), late: zero(), tooLate: zero(),
    linkConflicts: 0, anomalyVersions: 0, decisions: 0, released: 0,
  };
  private readonly rules: () => Rules;
  private readonly opts: EngineOptions;
  private readonly faults?: FaultSpikeDetector;
  private readonly wm: Watermarks;
  private readonly strings = new Interner();
  private readonly groups: DebitGroups;
  private readonly index: AttemptIndex;
  private readonly decisions: DebitDecisions;
  private readonly lifecycle: AttemptLifecycle;
  private readonly cardFacts?: PendingCardFacts;
  /** DEVICE_FAULT ids seen (they belong to no attempt), with the time they may be forgotten. */
  private readonly faultIds = new Map<string, number>();
  private readonly faultIdExpiry = new TimeHeap<string>();
  private ended = false;

  constructor(opts: EngineOptions) {
    this.opts = opts;
    this.rules = opts.rules;
    this.faults = opts.faultSpikes;
    this.wm = new Watermarks(() => this.rules().time);
    const dups = opts.duplicateGroups ?? new SharedDuplicates();
    this.groups = new DebitGroups(dups, this, opts.duplicateGroups !== undefined);
    this.index = new AttemptIndex(this.strings, this.groups, this.counters);
    this.decisions = new DebitDecisions(this.rules, opts.debitDetectors ?? DEBIT_DETECTORS, this.groups, opts.output, this.counters, opts.now ?? Date.now, this);
    this.lifecycle = new AttemptLifecycle(this.rules, this.index, this.groups, this.decisions, this.counters);
    if (opts.cardPatterns) this.cardFacts = new PendingCardFacts(opts.cardPatterns);
    dups.register(this, () => this.wm.value);
    // Memory bounds (docs/semantics.md): what this engine holds, for posguard_state_entries.
    stateCensus.track('attempts', this, (e) => e.index.open);
    stateCensus.track('attempt_timers', this, (e) => e.lifecycle.pendingTimers());
    stateCensus.track('device_fault_ids', this, (e) => e.faultIds.size);
    stateCensus.track('pending_card_facts', this, (e) => e.cardFacts?.pending() ?? 0);
  }

  /** The engine's event-time low watermark (true time, epoch ms). */
  get watermark(): number {
    return this.wm.value;
  }

  /** Per-stream watermarks (true time, epoch ms), for metrics. */
  watermarks(): Record<Stream, number> {
    return this.wm.perStream();
  }

  /**
   * Raises `stream`'s watermark floor to `t` (true time) and takes the
   * decisions that makes due: the live-feed rules' one hook into the engine
   * (an idle partition, a released stream). Wall clock stays outside.
   */
  raiseFloor(stream: Stream, t: number): void {
    if (!this.ended && this.wm.raiseFloor(stream, t)) this.advance();
  }

  /** Attempts currently held in state. */
  openAttempts(): number {
    return this.index.open;
  }

  push(stream: Stream, e: TerminalEvent | GatewayEvent | BankEvent): void {
    if (stream === 'terminal') this.pushTerminal(e as TerminalEvent);
    else if (stream === 'gateway') this.pushGateway(e as GatewayEvent);
    else this.pushBank(e as BankEvent);
  }

  /** This engine holds the attempt of `rrn` (where a reversal naming it belongs: src/runtime/kafka/reversal-router.ts). */
  holdsAttempt(rrn: string): boolean {
    return this.index.holdsAttempt(rrn);
  }

  pushTerminal(e: TerminalEvent): void {
    this.counters.events.terminal++;
    const hi = e.event_time + this.rules().time.terminalMaxDriftMs;
    const late = hi < this.wm.value;
    if (e.event_type === 'DEVICE_FAULT') return this.deviceFault(e, hi, late);
    // A reversal message belongs to the attempt it reverses.
    const stan = Number(e.event_type === 'REVERSAL_SENT' ? e.orig_stan! : e.stan);
    let x = this.index.find(e.terminal_id, stan);
    if (x === undefined) {
      if (late && hi + this.lifecycle.retentionMs() < this.wm.value) return this.tooLate('terminal', e);
      x = this.index.create();
      this.index.linkAttempt(x, e.terminal_id, stan);
    }
    if (this.redelivered(x, 'terminal', e.event_id)) return;
    if (late) this.noteLate('terminal', e);
    const word = pack(T_CODE.get(e.event_type)!, rcCode(e.response_code), frCode(e.failure_reason), 0);
    const idx = this.append(x, word, e.event_time, hi);
    recordTerminal(x, e, idx, this.strings);
    if (e.event_type === 'TXN_FAILED' && (e.failure_reason === 'CARD_READ_ERROR' || e.failure_reason === 'PRINTER_ERROR')) this.signal(e);
    this.lifecycle.changed(x);
    this.observe('terminal', e.event_time);
  }

  pushGateway(e: GatewayEvent): void {
    this.counters.events.gateway++;
    const hi = e.event_time + this.rules().time.clockSkewMs;
    const late = hi < this.wm.value;
    const type = G_CODE.get(e.event_type)!;
    const attemptEvent = ATTEMPT_GW_TYPES.has(type);
    const key = attemptEvent ? e.rrn : e.orig_rrn!;
    let x = this.index.forGateway(e, key, attemptEvent);
    if (x === undefined) {
      if (late && hi + this.lifecycle.retentionMs() < this.wm.value) return this.tooLate('gateway', e);
      x = this.index.createForGateway(e, key, attemptEvent);
    }
    if (this.redelivered(x, 'gateway', e.event_id)) return;
    if (late) this.noteLate('gateway', e);
    const own = e.rrn === x.rrn ? F_OWN_RRN : 0;
    this.append(x, pack(type, rcCode(e.response_code), 0, own), e.event_time, hi);
    if (attemptEvent) recordGateway(x, e, this.strings);
    this.lifecycle.changed(x);
    this.observe('gateway', e.event_time);
  }

  pushBank(e: BankEvent): void {
    this.counters.events.bank++;
    const clockSkewMs = this.rules().time.clockSkewMs;
    const hi = e.event_time + clockSkewMs;
    const late = hi < this.wm.value;
    const isAuth = e.event_type === 'AUTH_APPROVED' || e.event_type === 'AUTH_DECLINED';
    const key = isAuth ? e.rrn : e.orig_rrn!;
    let x = this.index.forBank(e, key, isAuth);
    if (x === undefined) {
      if (late && hi + this.lifecycle.retentionMs() < this.wm.value) return this.tooLate('bank', e);
      x = this.index.createForBank(e, key, isAuth);
    }
    if (this.redelivered(x, 'bank', e.event_id)) return;
    if (late) this.noteLate('bank', e);
    const idx = this.append(x, pack(B_CODE.get(e.event_type)!, rcCode(e.response_code), 0, 0), e.event_time, hi);
    if (isAuth) {
      recordBankAuth(x, e, idx, this.strings, this.groups);
      this.cardFacts?.hold(x, e, e.event_time + clockSkewMs);
    }
    this.lifecycle.changed(x);
    this.observe('bank', e.event_time);
  }

  /** End of a finite input: every window closes, every pending decision is taken. */
  end(): void {
    // Stryker disable next-line ConditionalExpression: equivalent: a second end() finds the watermark closed, no timer due, and release() skips released attempts
    if (this.ended) return;
    // Stryker disable next-line BooleanLiteral: equivalent, as above
    this.ended = true;
    this.lifecycle.end();
    this.wm.close();
    this.advance();
    this.faults?.end();
    // With groups shared between engines, the others may still decide against these debits.
    if (this.groups.shared) return;
    for (const x of this.index.terminalLinked()) this.lifecycle.release(x, this.wm.value);
    for (const x of this.index.rrnLinked()) this.lifecycle.release(x, this.wm.value);
  }

  /** Re-decides a held debit after evidence elsewhere changed (a shared duplicate group). */
  reevaluate(x: LiveAttempt): void {
    // Also after its release: it stays in the shared index until every engine is past it.
    if ((x.state & S_DECIDED) !== 0) this.decisions.evaluate(x);
  }

  /** True when x already holds event `eventId` (a redelivery, counted); leaves the packed id in idParts. */
  private redelivered(x: LiveAttempt, stream: Stream, eventId: string): boolean {
    packUuid(eventId, idParts, 0);
    if (!x.hasId(idParts[0], idParts[1], idParts[2])) return false;
    this.counters.duplicates[stream]++;
    return true;
  }

  /** Appends the event whose id redelivered() packed; returns its index. */
  private append(x: LiveAttempt, word: number, time: number, hi: number): number {
    const idx = x.add(word, time, idParts[0], idParts[1], idParts[2]);
    // Stryker disable next-line EqualityOperator: `>=` is equivalent: it stores the same value again (`<`/`<=`, killed, are hidden with it)
    if (hi > x.n[H_LAST_HI]) x.n[H_LAST_HI] = hi;
    return idx;
  }

  private observe(stream: Stream, eventTime: number): void {
    if (this.wm.observe(stream, eventTime)) this.advance();
  }

  private advance(): void {
    const w = this.wm.value;
    this.cardFacts?.release(w);
    this.lifecycle.advance(w);
    this.groups.prune();
    // Facts are released at t + clockSkew: the in-order frontier is that much behind W.
    this.opts.cardPatterns?.advance(w - this.rules().time.clockSkewMs);
    this.faults?.advance(w);
    while (this.faultIdExpiry.size > 0 && this.faultIdExpiry.peekTime() < w) this.faultIds.delete(this.faultIdExpiry.pop());
  }

  /** A DEVICE_FAULT belongs to no attempt: deduplicated by id here and handed to the fault spikes. */
  private deviceFault(e: TerminalEvent, hi: number, late: boolean): void {
    if (this.faultIds.has(e.event_id)) {
      this.counters.duplicates.terminal++;
      return;
    }
    this.faultIds.set(e.event_id, 0);
    this.faultIdExpiry.push(hi + this.lifecycle.retentionMs(), e.event_id);
    if (late) this.noteLate('terminal', e);
    this.signal(e);
    this.observe('terminal', e.event_time);
  }

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
    this.opts.output.late?.(stream, e);
  }

  private tooLate(stream: Stream, e: TerminalEvent | GatewayEvent | BankEvent): void {
    this.counters.tooLate[stream]++;
    this.noteLate(stream, e);
    this.observe(stream, e.event_time);
  }

  /**
   * This engine's state as plain data (issue 13; src/engine/state). With a shared duplicate index,
   * snapshot every engine of the process with one `refs`, then the index (shared.snapshot).
   */
  snapshot(refs: AttemptRefs, engineId: number): EngineState {
    return snapshotEngine(this.stateParts(), refs, engineId);
  }

  /** A new engine in the state `state` was taken in (restore order: src/engine/state/engine-state.ts). */
  static restore(opts: EngineOptions, state: EngineState, refs: AttemptRefs, engineId: number): Engine {
    const e = new Engine(opts);
    restoreEngine(e.stateParts(), state, refs, engineId);
    return e;
  }

  /**
   * This engine's skeleton for an incremental checkpoint (issue 13, STATE_FORMAT 2): its attempts are
   * items of `table`. Capture every engine of the process, then the shared index, then table.capture().
   */
  captureSkeleton(table: AttemptTable, engineId: number): EngineSkeleton {
    return captureEngineSkeleton(this.stateParts(), table, engineId);
  }

  /** A new engine from its skeleton and a restored table (order: src/engine/state/attempt-table.ts). */
  static restoreFrom(opts: EngineOptions, skeleton: unknown, table: AttemptTable, engineId: number): Engine {
    const e = new Engine(opts);
    restoreEngineSkeleton(e.stateParts(), skeleton as EngineSkeleton, table, engineId);
    return e;
  }

  /** @internal state: the private parts src/engine/state reads and fills. */
  private stateParts(): EngineParts {
    return {
      engine: this, counters: this.counters, wm: this.wm, strings: this.strings, index: this.index, lifecycle: this.lifecycle,
      cardFacts: this.cardFacts, dups: this.groups.stateIndex(), sharedDups: this.groups.shared, faultIds: this.faultIds,
      faultIdExpiry: this.faultIdExpiry, ended: this.ended,
      // Stryker disable next-line BlockStatement: equivalent (`{}`): a restored engine that had ended gets no more input, and a second end() finds nothing to do (the `ended` comments in end())
      setEnded: (ended) => { this.ended = ended; },
    };
  }
}

/** Scratch space for a packed event id (no allocation per event). */
// Stryker disable next-line ArrayDeclaration: equivalent (`[]`): packUuid writes all three slots before any is read
const idParts: number[] = [0, 0, 0];
