/**
 * Checkpoint of one EventWindow (window.ts): its held events (grace and
 * window regions), where the window region starts, its lower bound, and the
 * fired days with their trigger and version. Events are indices into a table
 * the owner keeps per key, so an event held by several windows of a card (or
 * a trigger still in its window) is written once and restored as one object:
 * CARD_VELOCITY compares triggers by identity.
 */
import { PosguardError } from '../../../errors.js';
import { snapNum, unsnapNum, type SnapNum } from '../../../util/snapshot-num.js';
import type { EventWindow, Keyed } from '../window.js';

export interface WindowState {
  /** Held events, oldest first, as indices into the owner's table. */
  events: number[];
  /** Index of the first event of the window region (those before it are grace). */
  start: number;
  /** Lower time bound of the window region. */
  lo: SnapNum;
  /** Fired days: [UTC day, version, trigger's index in the owner's table]. */
  fired: [day: number, version: number, trigger: number][];
}

/** Gives each distinct event object one index, in order of first sight. */
export class EventTable<T> {
  private readonly index = new Map<T, number>();
  readonly list: T[] = [];

  of(x: T): number {
    let i = this.index.get(x);
    if (i === undefined) {
      i = this.list.length;
      this.index.set(x, i);
      this.list.push(x);
    }
    return i;
  }
}

export function encodeWindow<T extends Keyed>(w: EventWindow<T>, table: EventTable<T>): WindowState {
  return {
    events: w.slice(0, w.length - 1).map((e) => table.of(e)),
    start: w.start,
    lo: snapNum(w.lo),
    fired: w.firedDays().map((f) => [f.day, f.version, table.of(f.trigger)]),
  };
}

/**
 * Refills a fresh window through its public operations, so a subclass's
 * running aggregates (CARD_TESTING's declined and merchant counts) are
 * rebuilt by its own enter/leave hooks: every event enters, then those older
 * than `lo` leave. That puts exactly the events before `lo` in the grace
 * region, which is the window's invariant; a state breaking it is refused.
 */
export function refillWindow<T extends Keyed>(w: EventWindow<T>, s: WindowState, events: readonly T[]): void {
  for (const i of s.events) w.append(events[i]);
  w.slide(unsnapNum(s.lo), -Infinity);
  if (w.start !== s.start || w.length !== s.events.length) {
    throw new PosguardError('PG_INTERNAL', `pattern state: a window's region starts at ${w.start} of ${w.length} after restore, the snapshot says ${s.start} of ${s.events.length}`);
  }
  for (const [day, version, trigger] of s.fired) {
    w.markFired(day, events[trigger]);
    w.firedOn(day)!.version = version;
  }
}
