/**
 * The rules of docs/semantics.md applied to one scenario's own events, to
 * write exact labels. Scenario cards and fault-spike terminals are used by
 * nothing else, so a scenario's events are all the events that matter for
 * its key. Times are the stamped event times (bank clock for cards, the
 * terminal's own clock for spikes), so clock jitter can never make a label lie.
 */
import type { Rules } from '../config/rules.js';
import { haversineKm } from '../util/geo.js';

interface Ordered {
  readonly t: number;
  readonly id: string;
}

function byTimeThenId(a: Ordered, b: Ordered): number {
  return a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export interface Trigger<T> {
  readonly trigger: T;
  /** The other events in the window that made it fire. */
  readonly related: T[];
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The pattern's anomalies: at most one per UTC day of the trigger, the first
 * event (in order) of that day at which `fires` holds. A burst that straddles
 * midnight still holds after it, and so fires again for the new day.
 */
function perDay<T extends Ordered>(xs: readonly T[], fires: (i: number) => T[] | null): Trigger<T>[] {
  const days = new Set<string>();
  const out: Trigger<T>[] = [];
  for (let i = 0; i < xs.length; i++) {
    const day = utcDay(xs[i].t);
    if (days.has(day)) continue;
    const related = fires(i);
    if (related === null) continue;
    days.add(day);
    out.push({ trigger: xs[i], related });
  }
  return out;
}

export interface SmallAuth extends Ordered {
  readonly rrn: string;
  readonly amount: number;
  readonly declined: boolean;
  readonly merchant: string;
}

export function cardTestingTriggers(attempts: readonly SmallAuth[], rules: Rules): Trigger<SmallAuth>[] {
  const r = rules.cardTesting;
  const xs = attempts.filter((x) => x.amount <= r.maxAmountMinor).sort(byTimeThenId);
  return perDay(xs, (i) => {
    const e = xs[i];
    const win = xs.slice(0, i + 1).filter((x) => e.t - r.windowMs <= x.t);
    const declined = win.filter((x) => x.declined).length;
    const merchants = new Set(win.map((x) => x.merchant)).size;
    return win.length >= r.minAttempts && declined >= r.minDeclined && merchants >= r.minMerchants ? win.filter((x) => x !== e) : null;
  });
}

export interface Debit extends Ordered {
  readonly rrn: string;
  readonly amount: number;
  readonly currency: string;
}

export function velocityTriggers(debits: readonly Debit[], rules: Rules): Trigger<Debit>[] {
  const r = rules.cardVelocity;
  const xs = [...debits].sort(byTimeThenId);
  return perDay(xs, (i) => {
    const e = xs[i];
    const win = xs.slice(0, i + 1).filter((x) => e.t - r.windowMs <= x.t);
    if (win.length >= r.minDebits) return win.filter((x) => x !== e);
    const same = win.filter((x) => x.currency === e.currency);
    return same.reduce((s, x) => s + x.amount, 0) >= r.minSumMinor ? same.filter((x) => x !== e) : null;
  });
}

export interface LocatedDebit extends Ordered {
  readonly rrn: string;
  readonly lat: number;
  readonly lon: number;
}

export function travelTriggers(debits: readonly LocatedDebit[], rules: Rules): Trigger<LocatedDebit>[] {
  const r = rules.impossibleTravel;
  const xs = [...debits].sort(byTimeThenId);
  return perDay(xs, (i) => {
    const e = xs[i];
    const related = xs.slice(0, i).filter((d) => {
      const km = haversineKm(d.lat, d.lon, e.lat, e.lon);
      return km >= r.minDistanceKm && (e.t - d.t) / 3_600_000 < km / r.maxSpeedKmh;
    });
    return related.length > 0 ? related : null;
  });
}

export interface Signal extends Ordered {
  readonly stan: string;
}

/** Times are the terminal's own clock, and so is the UTC day. */
export function faultSpikeTriggers(signals: readonly Signal[], rules: Rules): Trigger<Signal>[] {
  const r = rules.terminalFaultSpike;
  const xs = [...signals].sort(byTimeThenId);
  return perDay(xs, (i) => {
    const e = xs[i];
    const win = xs.slice(0, i + 1).filter((x) => e.t - r.windowMs <= x.t);
    return win.length >= r.minSignals ? win.filter((x) => x !== e) : null;
  });
}

export interface DupDebit {
  readonly t: number;
  readonly rrn: string;
  /** Bank times of the reversals/refunds of this debit. */
  readonly reversals: readonly number[];
}

/**
 * DUPLICATE_DEBIT among debits of one card, merchant, amount and currency:
 * for each debit, every earlier one within the window, when neither was
 * reversed within its grace. Status AUTO_RESOLVED when any of them was
 * reversed later (within the horizon).
 */
export function duplicates(debits: readonly DupDebit[], rules: Rules): { rrn: string; t: number; related: string[]; status: 'OPEN' | 'AUTO_RESOLVED' }[] {
  const grace = rules.debits.reversalGraceMs;
  const horizon = rules.debits.resolutionHorizonMs;
  const inGrace = (d: DupDebit) => d.reversals.some((r) => r - d.t <= grace);
  const resolved = (d: DupDebit) => d.reversals.some((r) => r - d.t > grace && r - d.t <= horizon);
  const out: { rrn: string; t: number; related: string[]; status: 'OPEN' | 'AUTO_RESOLVED' }[] = [];
  for (const d2 of debits) {
    if (inGrace(d2)) continue;
    const earlier = debits.filter((d1) => d1 !== d2 && (d1.t < d2.t || (d1.t === d2.t && d1.rrn < d2.rrn)) && d2.t - d1.t <= rules.duplicateDebit.windowMs && !inGrace(d1));
    if (earlier.length === 0) continue;
    const status = resolved(d2) || earlier.some(resolved) ? 'AUTO_RESOLVED' : 'OPEN';
    out.push({ rrn: d2.rrn, t: d2.t, related: earlier.map((d) => d.rrn).sort(), status });
  }
  return out;
}

/** ORPHAN_DEBIT status for a debit at t, given its reversals' bank times; null when reversed within grace (no orphan). */
export function orphanStatus(t: number, reversals: readonly number[], rules: Rules): 'OPEN' | 'AUTO_RESOLVED' | null {
  const grace = rules.debits.reversalGraceMs;
  if (reversals.some((r) => r - t <= grace)) return null;
  return reversals.some((r) => r - t > grace && r - t <= rules.debits.resolutionHorizonMs) ? 'AUTO_RESOLVED' : 'OPEN';
}
