/**
 * IMPOSSIBLE_TRAVEL (docs/semantics.md, "Fraud-like patterns"): per card, bank
 * time, over debits that have a location (lat/lon of the attempt's earliest
 * TXN_STARTED that has both; debits without one are ignored). Fires at debit e
 * when an earlier debit d (in order) is dist >= minDistanceKm away and
 * e.time - d.time < dist / maxSpeedKmh hours. related_rrns: every such d.
 *
 * How long to keep a debit: until no later debit can conflict with it. Whatever
 * the next debit's location, dist <= half the circumference (MAX_DISTANCE_KM),
 * so nothing older than travelHorizonMs(maxSpeedKmh) (≈ 22.2 h at 900 km/h)
 * can matter. A tighter bound would need to know where future terminals can
 * be, which nothing in the input or the rules says; see docs/architecture.md,
 * "State and memory".
 */
import type { Rules } from '../../config/rules.js';
import { haversineKm, travelHorizonMs } from '../../util/geo.js';
import { isImpossibleTravel } from './geo.js';
import { cardPatternAnomaly } from './pattern-anomaly.js';
import type { CardFact, Emit } from './types.js';
import { after, dayOf, EventWindow, keepFrom, type Frame } from './window.js';

type R = Rules['impossibleTravel'];

/**
 * The card's located debits of the last travelHorizonMs (the window region)
 * plus the grace, and a bounding circle of where they were: every held debit
 * is within `radiusKm` of (cLat, cLon). By the triangle inequality a new debit
 * farther than radiusKm + dist(center, new) < minDistanceKm from nothing held
 * cannot be impossible travel, so the usual card (all its shops in one region)
 * costs one distance per debit instead of one per held debit. The circle only
 * grows (a safe over-estimate) and is reset when the window empties.
 */
export class TravelWindow extends EventWindow<CardFact> {
  cLat = NaN;
  cLon = NaN;
  radiusKm = 0;

  /** Distance from the center to f, widening the circle to include f. */
  include(f: CardFact): number {
    if (Number.isNaN(this.cLat)) {
      this.cLat = f.lat!;
      this.cLon = f.lon!;
      this.radiusKm = 0;
      return 0;
    }
    const d = haversineKm(this.cLat, this.cLon, f.lat!, f.lon!);
    // Stryker disable next-line EqualityOperator: equivalent (>=): on equality the same radius is stored again
    if (d > this.radiusKm) this.radiusKm = d;
    return d;
  }

  // Stryker disable next-line BlockStatement: equivalent (`{}`): the circle then only keeps growing, a safe over-estimate (it bounds every debit ever included, so every held one); it only saves scans
  protected override reset(): void {
    this.cLat = NaN;
    this.cLon = NaN;
    this.radiusKm = 0;
  }

  /** Called after a slide: an empty window starts a new circle. */
  // Stryker disable next-line BlockStatement: equivalent (`{}`): never resetting keeps a larger circle, a safe over-estimate, as for reset() above
  resetIfEmpty(): void {
    if (this.length === 0) this.reset();
  }
}

/** Floating-point slack for the triangle-inequality test (km): far below any meaningful distance. */
const SLACK_KM = 1e-6;
const HOUR_MS = 3_600_000;

/** Is d -> e impossible travel? d before e in order, within the horizon. */
function conflict(d: CardFact, e: CardFact, r: R): boolean {
  // Same place (the usual case: the same shop again): distance 0, which is never closer in time than 0 h.
  if (d.lat === e.lat && d.lon === e.lon) return false;
  return isImpossibleTravel(e.event_time - d.event_time, haversineKm(d.lat!, d.lon!, e.lat!, e.lon!), r.minDistanceKm, r.maxSpeedKmh);
}

export class ImpossibleTravel {
  /** Horizon cached for the last maxSpeedKmh seen (rules may be reloaded). */
  private speed = NaN;
  private horizon = 0;

  constructor(private readonly emit: Emit) {}

  static accepts(f: CardFact, r: R): boolean {
    return r.enabled && f.debit && f.lat !== null && f.lon !== null;
  }

  horizonMs(r: R): number {
    // Stryker disable next-line ConditionalExpression: equivalent (→ true): recomputes the same horizon from the same speed every time; the cache only saves work
    if (r.maxSpeedKmh !== this.speed) {
      this.speed = r.maxSpeedKmh;
      this.horizon = travelHorizonMs(r.maxSpeedKmh);
    }
    return this.horizon;
  }

  add(w: TravelWindow, f: CardFact, r: R, fr: Frame): void {
    const h = this.horizonMs(r);
    const lo = f.event_time - h;
    w.slide(lo, keepFrom(lo, h, fr));
    w.resetIfEmpty();
    const radius = w.radiusKm; // before f widens it: bounds the held debits only
    const fromCenter = w.include(f);
    const day = dayOf(f.event_time);
    // The card fired today, or nothing held can be minDistanceKm away (the usual card): no scan.
    // (One operand a line: the last two only skip scans that cannot find a conflict.)
    if (
      day >= fr.openDay && w.firedOn(day) === undefined &&
      // Stryker disable next-line ConditionalExpression: equivalent (→ true): with nothing held the scan below finds nothing
      w.size > 0 &&
      // Stryker disable next-line ConditionalExpression: equivalent (→ true): no held debit is farther from f than radius + fromCenter (triangle inequality), so a scan finds nothing
      radius + fromCenter + SLACK_KM >= r.minDistanceKm
    ) {
      // No held debit is farther from f than radius + fromCenter (triangle inequality), so none older than
      // that distance at maxSpeedKmh can conflict: the scan stops there (a hot card: its recent debits only).
      const reachMs = ((radius + fromCenter + SLACK_KM) / r.maxSpeedKmh) * HOUR_MS;
      let any = false;
      for (
        let i = w.length - 1;
        i >= w.start && !any &&
        // Stryker disable next-line ConditionalExpression: equivalent (→ true): reachMs only stops the scan where no held debit can conflict
        f.event_time - w.at(i).event_time < reachMs;
        i--
      ) any = conflict(w.at(i), f, r);
      if (any) {
        w.markFired(day, f);
        this.emitAt(w, w.length - 1, f, r, 1);
      }
    }
    w.append(f);
  }

  /**
   * Out-of-order debit: insert it, evaluate at it against the debits before
   * it, then at each later held debit within the horizon, for which it is the
   * only new candidate (they were evaluated against the others already).
   * Revisions as in CardTesting.addLate.
   */
  addLate(w: TravelWindow, f: CardFact, r: R, fr: Frame): void {
    const h = this.horizonMs(r);
    const p = w.insertLate(f);
    w.include(f);
    const fDay = dayOf(f.event_time);
    const fMark = w.firedOn(fDay);
    if (fDay >= fr.openDay && (fMark === undefined || !after(f, fMark.trigger))) {
      let any = false;
      for (let i = p - 1; i >= 0 && !any; i--) {
        const d = w.at(i);
        // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (→ false, >): no pair travelHorizonMs or more apart can conflict (geo.ts: dist / speed <= horizon), so scanning on finds nothing
        if (f.event_time - d.event_time >= h) break;
        any = conflict(d, f, r);
      }
      if (any) this.decide(w, p, f, fDay, r);
    }
    for (let j = p + 1; j < w.length; j++) {
      const e = w.at(j);
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (→ false, >): no pair travelHorizonMs or more apart can conflict (geo.ts: dist / speed <= horizon), so scanning on finds nothing
      if (e.event_time - f.event_time >= h) break;
      const day = dayOf(e.event_time);
      if (day < fr.openDay) continue;
      const mark = w.firedOn(day);
      if (mark !== undefined && after(e, mark.trigger)) continue;
      if (conflict(f, e, r)) this.decide(w, j, e, day, r);
    }
  }

  trim(w: TravelWindow, r: R, fr: Frame): void {
    w.trimTo(this.horizonMs(r), r.enabled, fr);
  }

  expiry(w: TravelWindow, r: R, fr: Frame): number {
    return w.expiryFor(this.horizonMs(r), fr);
  }

  /** e (at index j) holds: first fire of its day, or a revision (earlier trigger, or more evidence). */
  private decide(w: TravelWindow, j: number, e: CardFact, day: number, r: R): void {
    const mark = w.firedOn(day);
    if (mark === undefined) {
      w.markFired(day, e);
      this.emitAt(w, j - 1, e, r, 1);
    } else {
      mark.trigger = e;
      this.emitAt(w, j - 1, e, r, ++mark.version);
    }
  }

  /** e fires against every conflicting held debit among [0, upTo]. */
  private emitAt(w: TravelWindow, upTo: number, e: CardFact, r: R, version: number): void {
    const h = this.horizonMs(r);
    const events: CardFact[] = [];
    for (let i = 0; i <= upTo; i++) {
      const d = w.at(i);
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (the `< h` operand → true, <=): a pair travelHorizonMs or more apart never conflicts, conflict() decides alone
      if (e.event_time - d.event_time < h && conflict(d, e, r)) events.push(d);
    }
    events.push(e);
    this.emit(cardPatternAnomaly('IMPOSSIBLE_TRAVEL', r.severity, e, events, version));
  }
}
