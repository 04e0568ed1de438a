/**
 * The per-key sliding window the pattern detectors share.
 *
 * Events are kept in (event_time, event_id) order in a power-of-two ring
 * buffer, so the hot path (append at the back, evict at the front) allocates
 * nothing. The ring holds two regions:
 *
 *   [0, start)        grace: left the window of the newest event, kept for
 *                     `allowedLatenessMs` so that a late event still finds the
 *                     events its own window needs;
 *   [start, length)   the window of the newest in-order event (from `lo` on).
 *
 * Subclasses keep running aggregates of the window region through the
 * `enter`/`leave` hooks. Late events (rare) are inserted in place by shifting:
 * O(window), no sort.
 *
 * The window also remembers, per UTC day, the anomaly it fired (one per kind,
 * key and day) with its trigger and version, so a late event can move the
 * trigger earlier or add evidence by emitting the next version.
 */

export const DAY_MS = 86_400_000;

/** UTC day number (days since 1970-01-01) of an epoch-ms instant. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/**
 * The first UTC day on which an event can still arrive and be handled, when
 * everything before `w` is final: days before it are closed and may not fire.
 */
export function firstOpenDay(w: number): number {
  return w === -Infinity ? -Infinity : Math.floor(w / DAY_MS);
}

/**
 * Where the detector stands when it takes a decision, shared by the kinds (one
 * mutable object per detector, so passing it allocates nothing).
 */
export interface Frame {
  /** Low watermark: no in-order event older than this will come. */
  wm: number;
  /** How far behind wm a late event is still handled exactly (rules time.allowedLatenessMs). */
  grace: number;
  /** First UTC day on which this event may still fire (-Infinity for in-order events). */
  openDay: number;
}

/** Oldest time a window must keep for late events: grace behind both its own bound and the watermark's. */
export function keepFrom(lo: number, windowMs: number, f: Frame): number {
  return (f.wm === -Infinity ? lo : Math.min(lo, f.wm - windowMs)) - f.grace;
}

export interface Keyed {
  readonly event_time: number;
  readonly event_id: string;
}

/** a strictly after b in (event_time, event_id) order. */
export function after(a: Keyed, b: Keyed): boolean {
  return a.event_time > b.event_time || (a.event_time === b.event_time && a.event_id > b.event_id);
}

/** What a key fired on one UTC day. */
export interface Fired<T> {
  readonly day: number;
  /** Version of the last emission (1, then +1 per revision by late events). */
  version: number;
  trigger: T;
}

export class EventWindow<T extends Keyed> {
  private buf: Array<T | undefined>;
  private mask: number;
  private head = 0;
  /** Number of events held (grace + window). */
  length = 0;
  /** Index of the first event in the window region. */
  start = 0;
  /** Lower time bound of the window region. */
  lo = -Infinity;
  /** Fired days still open; null until the first fire (most keys never fire). */
  private fired: Fired<T>[] | null = null;

  constructor(capacity = 4) {
    this.buf = new Array<T | undefined>(capacity);
    this.mask = capacity - 1;
  }

  /** Events in the window region. */
  get size(): number {
    return this.length - this.start;
  }

  /** i = 0 is the oldest held. */
  at(i: number): T {
    return this.buf[(this.head + i) & this.mask] as T;
  }

  first(): T {
    return this.buf[this.head] as T;
  }

  last(): T {
    return this.buf[(this.head + this.length - 1) & this.mask] as T;
  }

  /** Hooks for running aggregates of the window region. */
  protected enter(_x: T): void {}
  protected leave(_x: T): void {}

  /**
   * Sets the window's lower bound to `lo`: events before it leave the window
   * region; grace events before `keepFrom` are dropped. `lo` moves back only
   * when a rules reload widened the window: grace events then re-enter.
   */
  slide(lo: number, keepFrom: number): void {
    this.lo = lo;
    while (this.start > 0 && this.at(this.start - 1).event_time >= lo) this.enter(this.at(--this.start));
    while (this.start < this.length && this.at(this.start).event_time < lo) this.leave(this.at(this.start++));
    while (this.start > 0 && this.first().event_time < keepFrom) this.shift();
  }

  /** Appends an in-order event (after slide). */
  append(x: T): void {
    this.push(x);
    this.enter(x);
  }

  /** Inserts an out-of-order event at its place; returns its index. */
  insertLate(x: T): number {
    let p = this.length;
    while (p > 0 && after(this.at(p - 1), x)) p--;
    this.push(x);
    for (let i = this.length - 1; i > p; i--) this.buf[(this.head + i) & this.mask] = this.buf[(this.head + i - 1) & this.mask];
    this.buf[(this.head + p) & this.mask] = x;
    // Everything before `start` is older than `lo` and everything from it on is not, so x lands on the right side.
    if (x.event_time < this.lo) this.start++;
    else this.enter(x);
    return p;
  }

  /** Is an event with x's event_id (and so x's time) already held? Scans only the events at x's time. */
  has(x: Keyed): boolean {
    for (let i = this.length - 1; i >= 0; i--) {
      const e = this.at(i);
      if (e.event_time < x.event_time) return false;
      if (e.event_time === x.event_time && e.event_id === x.event_id) return true;
    }
    return false;
  }

  /** Index of the oldest held event with event_time >= lo, searching back from index `to`. */
  lowerIndex(lo: number, to: number): number {
    let i = to;
    while (i > 0 && this.at(i - 1).event_time >= lo) i--;
    return i;
  }

  /** Events [from, to] in order, as a fresh array (only when firing). */
  slice(from: number, to: number): T[] {
    const out: T[] = [];
    for (let i = from; i <= to; i++) out.push(this.at(i));
    return out;
  }

  /** Drops every event (the kind was disabled); keeps the fired days. */
  clearEvents(): void {
    while (this.length > 0) this.shift();
    this.start = 0;
    this.lo = -Infinity;
    this.reset();
  }

  /** Resets the subclass's aggregates (called by clearEvents). */
  protected reset(): void {}

  firedOn(day: number): Fired<T> | undefined {
    const f = this.fired;
    if (f === null) return undefined;
    for (let i = 0; i < f.length; i++) if (f[i].day === day) return f[i];
    return undefined;
  }

  markFired(day: number, trigger: T): void {
    const m: Fired<T> = { day, version: 1, trigger };
    if (this.fired === null) this.fired = [m];
    else this.fired.push(m);
  }

  /** Forgets fired days before `openDay` (closed: nothing may fire on them any more). */
  pruneFired(openDay: number): void {
    const f = this.fired;
    if (f === null) return;
    let k = 0;
    for (let i = 0; i < f.length; i++) if (f[i].day >= openDay) f[k++] = f[i];
    f.length = k;
    if (k === 0) this.fired = null;
  }

  /**
   * Drops what no fact at or after fr.wm (or late by at most fr.grace) can
   * need, for a window spanning `spanMs`; clears the events when the kind is
   * disabled. Fired days before the first open day are forgotten either way.
   */
  trimTo(spanMs: number, enabled: boolean, fr: Frame): void {
    if (!enabled) this.clearEvents();
    else {
      const lo = Math.max(this.lo, fr.wm - spanMs);
      this.slide(lo, keepFrom(lo, spanMs, fr));
    }
    this.pruneFired(firstOpenDay(fr.wm - fr.grace));
  }

  /** The watermark up to which this window (spanning `spanMs`) still holds something needed. */
  expiryFor(spanMs: number, fr: Frame): number {
    return Math.max(this.length > 0 ? this.last().event_time + spanMs : -Infinity, this.firedUntil()) + fr.grace;
  }

  /** Last instant (epoch ms) of the latest fired day; -Infinity when none. */
  firedUntil(): number {
    const f = this.fired;
    if (f === null) return -Infinity;
    let d = -Infinity;
    for (let i = 0; i < f.length; i++) if (f[i].day > d) d = f[i].day;
    return (d + 1) * DAY_MS - 1;
  }

  /** Nothing held: neither events nor open fired days. */
  isEmpty(): boolean {
    return this.length === 0 && this.fired === null;
  }

  private push(x: T): void {
    if (this.length === this.buf.length) this.grow();
    this.buf[(this.head + this.length) & this.mask] = x;
    this.length++;
  }

  /** Drops the oldest (grace) event. */
  private shift(): void {
    this.buf[this.head] = undefined; // let the event be collected
    this.head = (this.head + 1) & this.mask;
    this.length--;
    if (this.start > 0) this.start--;
  }

  private grow(): void {
    const n = this.buf.length;
    const next = new Array<T | undefined>(n * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.buf[(this.head + i) & this.mask];
    this.buf = next;
    this.mask = n * 2 - 1;
    this.head = 0;
  }

  /** The fired days still open, for a checkpoint (state/window-state.ts; restored through markFired). */
  firedDays(): readonly Fired<T>[] {
    return this.fired ?? [];
  }
}
