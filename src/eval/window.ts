/**
 * The rule shared by the fraud-like patterns (docs/semantics.md "Fraud-like
 * patterns"): events of one key in order (event_time, event_id); at event e the
 * window is every event with e.time - windowMs <= time, up to and including e;
 * the trigger is the first e at which the condition holds; at most one trigger
 * per UTC day of the trigger's event_time.
 */
import { utcDay } from '../events/anomaly.js';
import { byTimeThenId } from './dataset.js';

export interface WindowCounter<T> {
  add(e: T): void;
  remove(e: T): void;
  /** Does the condition hold over the current window, whose last event is `e`? */
  holds(e: T): boolean;
}

export interface Trigger<T> {
  readonly trigger: T;
  /** The window at the trigger, in order; the trigger is last. */
  readonly window: readonly T[];
}

/** `events` of one key, any order. Returns the triggers, at most one per UTC day. */
export function dailyTriggers<T extends { event_time: number; event_id: string }>(
  events: readonly T[], windowMs: number, counter: WindowCounter<T>,
): Trigger<T>[] {
  const sorted = [...events].sort(byTimeThenId);
  const fired = new Set<string>();
  const out: Trigger<T>[] = [];
  let lo = 0;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i];
    counter.add(e);
    while (sorted[lo].event_time < e.event_time - windowMs) counter.remove(sorted[lo++]);
    if (!counter.holds(e)) continue;
    const day = utcDay(e.event_time);
    if (fired.has(day)) continue;
    fired.add(day);
    out.push({ trigger: e, window: sorted.slice(lo, i + 1) });
  }
  return out;
}

/** A multiset with the number of distinct members: merchants in a window, sums per currency. */
export class Tally {
  private readonly m = new Map<string, number>();
  add(k: string, by = 1): void {
    this.m.set(k, (this.m.get(k) ?? 0) + by);
  }
  remove(k: string, by = 1): void {
    const v = (this.m.get(k) ?? 0) - by;
    if (v === 0) this.m.delete(k);
    else this.m.set(k, v);
  }
  get(k: string): number {
    return this.m.get(k) ?? 0;
  }
  get distinct(): number {
    return this.m.size;
  }
}
