/**
 * TERMINAL_FAULT_SPIKE (docs/semantics.md, "Fraud-like patterns"): per
 * terminal_id, on the terminal's own clock. Signals are DEVICE_FAULT, and
 * TXN_FAILED with CARD_READ_ERROR or PRINTER_ERROR (the engine filters; see
 * isHardwareSignal). Fires at signal e when the terminal's signals with
 * e.time - windowMs <= time, up to e in order, number >= minSignals. One per
 * terminal and UTC day of e's terminal time.
 *
 * Signals arrive in any order. They wait in a min-heap until the engine's
 * true-time watermark W passes their stamp plus terminalMaxDriftMs (a terminal
 * clock may be that far ahead of true time), then are processed in
 * (event_time, event_id) order: the same order a batch program sorting all
 * signals would use, so arrival order never changes the result. A drifting
 * clock shifts all of one terminal's stamps alike and cannot open or close a
 * window by itself.
 *
 * A signal that arrives after W passed it (late) is inserted in place and the
 * held signals whose window now contains it are re-evaluated, as for card
 * facts (card-patterns.ts): exact when it is at most time.allowedLatenessMs
 * behind the frontier, never a new anomaly on a day closed since.
 */
import type { Rules } from '../../config/rules.js';
import { ExpiryHeap, type Schedulable } from './expiry-heap.js';
import { MinHeap } from '../../util/heap.js';
import { faultSpikeAnomaly } from './pattern-anomaly.js';
import type { Emit, FaultSpikeDetector, HardwareSignal, RulesSource } from './types.js';
import { after, dayOf, EventWindow, firstOpenDay, keepFrom, type Frame } from './window.js';
import { stateCensus } from '../../util/state-census.js';
import { restoreFaultSpikes, snapshotFaultSpikes, type FaultSpikeParts, type FaultSpikeState } from './state/fault-spike-state.js';

type R = Rules['terminalFaultSpike'];

/** The terminal-stream events that are hardware signals. */
export function isHardwareSignal(e: { event_type: string; failure_reason?: string | null }): boolean {
  return e.event_type === 'DEVICE_FAULT'
    || (e.event_type === 'TXN_FAILED' && (e.failure_reason === 'CARD_READ_ERROR' || e.failure_reason === 'PRINTER_ERROR'));
}

class TerminalState extends EventWindow<HardwareSignal> implements Schedulable {
  scheduled = false;
  lastT = -Infinity;
  lastId = '';

  constructor(readonly terminalId: string) {
    super(4);
  }
}

/** Pending signals, earliest (event_time, event_id) first. */
class SignalQueue extends MinHeap<HardwareSignal> {
  constructor() {
    super((a, b) => after(b, a));
  }
}

export interface FaultSpikeCounters {
  signals: number;
  duplicates: number;
  /** Processed out of order for their terminal. */
  late: number;
  released: number;
}

export class TerminalFaultSpikes implements FaultSpikeDetector {
  private readonly pending = new SignalQueue();
  private readonly pendingIds = new Set<string>();
  private readonly terminals = new Map<string, TerminalState>();
  private readonly expiries = new ExpiryHeap<TerminalState>();
  /** wm: the terminal-clock frontier, up to which every pending signal has been processed. */
  private readonly frame: Frame = { wm: -Infinity, grace: 0, openDay: -Infinity };
  readonly counters: FaultSpikeCounters = { signals: 0, duplicates: 0, late: 0, released: 0 };

  constructor(private readonly rules: RulesSource, private readonly emit: Emit) {
    stateCensus.track('fault_terminals', this, (f) => f.terminals.size);
  }

  push(s: HardwareSignal): void {
    this.counters.signals++;
    if (this.pendingIds.has(s.event_id)) {
      this.counters.duplicates++;
      return;
    }
    this.pendingIds.add(s.event_id);
    this.pending.push(s);
  }

  /** W: the engine's true-time watermark. Signals stamped <= W - terminalMaxDriftMs are processed. */
  advance(watermarkMs: number): void {
    const r = this.rules();
    this.drain(watermarkMs - r.time.terminalMaxDriftMs, r);
  }

  end(): void {
    this.drain(Infinity, this.rules());
  }

  activeTerminals(): number {
    return this.terminals.size;
  }

  pendingSignals(): number {
    return this.pending.size;
  }

  private drain(upTo: number, r: Rules): void {
    const tf = r.terminalFaultSpike;
    const fr = this.frame;
    fr.grace = r.time.allowedLatenessMs;
    // A signal stamped after the old frontier is in order; one before it is late, and may not fire on a closed day.
    const lateOpenDay = firstOpenDay(fr.wm - fr.grace);
    while (this.pending.size > 0 && this.pending.peek()!.event_time <= upTo) {
      const s = this.pending.pop()!;
      this.pendingIds.delete(s.event_id);
      if (tf.enabled) this.process(s, tf, lateOpenDay);
    }
    if (upTo > fr.wm) fr.wm = upTo;
    while (this.expiries.peekKey() < fr.wm) {
      const ts = this.expiries.pop();
      this.trim(ts, tf);
      if (ts.isEmpty()) {
        this.terminals.delete(ts.terminalId);
        this.counters.released++;
      } else {
        this.expiries.push(ts, this.expiry(ts, tf));
      }
    }
  }

  private process(s: HardwareSignal, r: R, lateOpenDay: number): void {
    const fr = this.frame;
    let ts = this.terminals.get(s.terminal_id);
    if (ts === undefined) {
      ts = new TerminalState(s.terminal_id);
      this.terminals.set(s.terminal_id, ts);
    }
    const t = s.event_time;
    fr.openDay = t > fr.wm ? -Infinity : lateOpenDay;
    if (t > ts.lastT || (t === ts.lastT && s.event_id > ts.lastId)) {
      ts.lastT = t;
      ts.lastId = s.event_id;
      const lo = t - r.windowMs;
      ts.slide(lo, keepFrom(lo, r.windowMs, fr));
      ts.append(s);
      const day = dayOf(t);
      if (ts.size >= r.minSignals && day >= fr.openDay && ts.firedOn(day) === undefined) {
        ts.markFired(day, s);
        this.emit(faultSpikeAnomaly(r.severity, s, ts.slice(ts.start, ts.length - 1)));
      }
    } else {
      if ((t === ts.lastT && s.event_id === ts.lastId) || ts.has(s)) {
        this.counters.duplicates++;
        return;
      }
      this.counters.late++;
      this.insertLate(ts, s, r);
    }
    if (!ts.scheduled) this.expiries.push(ts, this.expiry(ts, r));
  }

  /** As CardTesting.addLate: re-evaluate, in order, the held signals whose window now contains s. */
  private insertLate(ts: TerminalState, s: HardwareSignal, r: R): void {
    const p = ts.insertLate(s);
    const hi = s.event_time + r.windowMs;
    for (let j = p; j < ts.length; j++) {
      const e = ts.at(j);
      if (e.event_time > hi) break;
      const day = dayOf(e.event_time);
      if (day < this.frame.openDay) continue;
      const mark = ts.firedOn(day);
      if (mark !== undefined && after(e, mark.trigger)) continue;
      const from = ts.lowerIndex(e.event_time - r.windowMs, j);
      if (j - from + 1 < r.minSignals) continue;
      if (mark === undefined) {
        ts.markFired(day, e);
        this.emit(faultSpikeAnomaly(r.severity, e, ts.slice(from, j), 1));
      } else {
        mark.trigger = e;
        this.emit(faultSpikeAnomaly(r.severity, e, ts.slice(from, j), ++mark.version));
      }
    }
  }

  private trim(ts: TerminalState, r: R): void {
    const fr = this.frame;
    if (!r.enabled) ts.clearEvents();
    else {
      const lo = Math.max(ts.lo, fr.wm - r.windowMs);
      ts.slide(lo, keepFrom(lo, r.windowMs, fr));
    }
    ts.pruneFired(firstOpenDay(fr.wm - fr.grace));
  }

  private expiry(ts: TerminalState, r: R): number {
    return Math.max(ts.length > 0 ? ts.last().event_time + r.windowMs : -Infinity, ts.firedUntil()) + this.frame.grace;
  }

  /** Checkpoint (issue 13): this detector's whole state as plain data (state/fault-spike-state.ts). */
  snapshot(): FaultSpikeState {
    return snapshotFaultSpikes(this.stateParts());
  }

  /** On a fresh instance, before any push or advance: takes the state a snapshot() gave. */
  restore(s: FaultSpikeState): void {
    restoreFaultSpikes(s, this.stateParts());
  }

  private stateParts(): FaultSpikeParts<TerminalState> {
    return {
      pending: this.pending, pendingIds: this.pendingIds, terminals: this.terminals, expiries: this.expiries, frame: this.frame,
      counters: this.counters, newTerminal: (id) => new TerminalState(id),
    };
  }
}
