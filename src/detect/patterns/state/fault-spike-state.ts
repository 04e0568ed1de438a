/**
 * Checkpoint of TerminalFaultSpikes (fault-spike.ts): the signals waiting for
 * the watermark (heap in array order), every terminal's window with its
 * fired days, the expiry heap entry by entry, the frame and the counters.
 * The pending ids are not stored: they are exactly the pending signals' ids.
 * Same exactness rules as card-patterns-state.ts.
 */
import { snapNum, unsnapNum, type SnapNum } from '../../../util/snapshot-num.js';
import type { ExpiryHeap } from '../expiry-heap.js';
import type { FaultSpikeCounters } from '../fault-spike.js';
import type { HardwareSignal } from '../types.js';
import type { EventWindow, Frame } from '../window.js';
import type { MinHeap } from '../../../util/heap.js';
import {
  checkFresh, checkVersion, decodeSignal, encodeFrame, encodeKeyed, encodeSignal, PATTERN_STATE_VERSION, restoreCounters, restoreFrame, restoreHeap,
  type FrameState, type HeapEntry, type SignalTuple,
} from './codec.js';
import { encodeWindow, EventTable, refillWindow, type WindowState } from './window-state.js';

export interface TerminalEntryState extends WindowState {
  terminalId: string;
  lastT: SnapNum;
  lastId: string;
  /** The window's signals and any trigger no longer in it, once each; `events` and `fired` index into it. */
  signals: SignalTuple[];
}

export interface FaultSpikeState {
  v: typeof PATTERN_STATE_VERSION;
  frame: FrameState;
  counters: FaultSpikeCounters;
  /** Signals not yet processed, in the queue's heap order. */
  pending: SignalTuple[];
  /** In the detector's Map order. */
  terminals: TerminalEntryState[];
  /** The expiry heap in array order; items are indices into `terminals`. */
  expiries: HeapEntry[];
}

/** What fault-spike.ts lets the checkpoint see of a terminal. */
export interface TerminalSlot extends EventWindow<HardwareSignal> {
  readonly terminalId: string;
  scheduled: boolean;
  lastT: number;
  lastId: string;
}

/** TerminalFaultSpikes' internals, lent to the checkpoint by fault-spike.ts. */
export interface FaultSpikeParts<T extends TerminalSlot> {
  readonly pending: MinHeap<HardwareSignal>;
  readonly pendingIds: Set<string>;
  readonly terminals: Map<string, T>;
  readonly expiries: ExpiryHeap<T>;
  readonly frame: Frame;
  readonly counters: FaultSpikeCounters;
  newTerminal(id: string): T;
}

function encodeTerminal(ts: TerminalSlot): TerminalEntryState {
  const table = new EventTable<HardwareSignal>();
  const w = encodeWindow(ts, table);
  return { terminalId: ts.terminalId, lastT: snapNum(ts.lastT), lastId: ts.lastId, signals: table.list.map(encodeSignal), ...w };
}

export function snapshotFaultSpikes<T extends TerminalSlot>(p: FaultSpikeParts<T>): FaultSpikeState {
  const { list, expiries } = encodeKeyed(p.terminals.values(), encodeTerminal, p.expiries.entries());
  return {
    v: PATTERN_STATE_VERSION, frame: encodeFrame(p.frame), counters: { ...p.counters }, pending: p.pending.values().map(encodeSignal), terminals: list, expiries,
  };
}

export function restoreFaultSpikes<T extends TerminalSlot>(s: FaultSpikeState, p: FaultSpikeParts<T>): void {
  checkVersion('TerminalFaultSpikes', s.v);
  checkFresh('TerminalFaultSpikes', p.pending.size === 0 && p.terminals.size === 0 && p.counters.signals === 0);
  // Pushed in heap order: the same heap (see card-patterns-state.ts).
  for (const t of s.pending) {
    const sig = decodeSignal(t);
    p.pending.push(sig);
    p.pendingIds.add(sig.event_id);
  }
  const terminals = s.terminals.map((e) => {
    const ts = p.newTerminal(e.terminalId);
    ts.lastT = unsnapNum(e.lastT);
    ts.lastId = e.lastId;
    refillWindow(ts, e, e.signals.map(decodeSignal));
    p.terminals.set(e.terminalId, ts);
    return ts;
  });
  restoreHeap(p.expiries, terminals, s.expiries);
  restoreFrame(p.frame, s.frame);
  restoreCounters(p.counters, s.counters);
}
