/**
 * CARD_VELOCITY (docs/semantics.md, "Fraud-like patterns"): per card, bank
 * time, over the card's debits (reversed or not). Fires at debit e when the
 * debits with e.time - windowMs <= time, up to e in order, number >= minDebits,
 * or those in e's currency sum to >= minSumMinor.
 *
 * Evidence: the whole window when the count holds, else the window's debits in
 * e's currency (the ones that made the sum).
 */
import type { Rules } from '../../config/rules.js';
import { cardPatternAnomaly } from './pattern-anomaly.js';
import type { CardFact, Emit } from './types.js';
import { after, dayOf, EventWindow, keepFrom, type Frame } from './window.js';

type R = Rules['cardVelocity'];

export class VelocityWindow extends EventWindow<CardFact> {}

export class CardVelocity {
  constructor(private readonly emit: Emit) {}

  static accepts(f: CardFact, r: R): boolean {
    return r.enabled && f.debit;
  }

  add(w: VelocityWindow, f: CardFact, r: R, fr: Frame): void {
    const lo = f.event_time - r.windowMs;
    w.slide(lo, keepFrom(lo, r.windowMs, fr));
    w.append(f);
    const day = dayOf(f.event_time);
    if (day < fr.openDay || w.firedOn(day) !== undefined) return;
    // Cheap: until the day fires the window holds at most minDebits debits
    // (a window that reached minDebits fired), so the sum scans a short window;
    // after it fires nothing is evaluated until the next UTC day.
    const behind = this.behind(w, w.start, w.length - 1, r);
    if (behind === null) return;
    w.markFired(day, f);
    this.emit(cardPatternAnomaly('CARD_VELOCITY', r.severity, f, behind));
  }

  /** Out-of-order debit: insert, then re-evaluate the held debits whose window now contains it (see CardTesting.addLate). */
  addLate(w: VelocityWindow, f: CardFact, r: R, fr: Frame): void {
    const p = w.insertLate(f);
    const hi = f.event_time + r.windowMs;
    for (let j = p; j < w.length; j++) {
      const e = w.at(j);
      // Stryker disable next-line ConditionalExpression: equivalent (→ false): held debits after the late debit's window do not contain it, so re-evaluating them changes nothing (`>=` is not: test/detect/patterns/late-window-end.test.ts)
      if (e.event_time > hi) break;
      const day = dayOf(e.event_time);
      if (day < fr.openDay) continue;
      const mark = w.firedOn(day);
      if (mark !== undefined && after(e, mark.trigger)) continue;
      const behind = this.behind(w, w.lowerIndex(e.event_time - r.windowMs, j), j, r);
      if (behind === null) continue;
      if (mark === undefined) {
        w.markFired(day, e);
        this.emit(cardPatternAnomaly('CARD_VELOCITY', r.severity, e, behind, 1));
      } else if (mark.trigger !== e || behind.includes(f)) {
        // An earlier trigger, or the same one with the late debit among its evidence (not when it is in another currency).
        mark.trigger = e;
        this.emit(cardPatternAnomaly('CARD_VELOCITY', r.severity, e, behind, ++mark.version));
      }
    }
  }

  trim(w: VelocityWindow, r: R, fr: Frame): void {
    w.trimTo(r.windowMs, r.enabled, fr);
  }

  expiry(w: VelocityWindow, r: R, fr: Frame): number {
    return w.expiryFor(r.windowMs, fr);
  }

  /** If the condition holds at debit `to` over [from, to]: the debits that made it fire; else null. */
  private behind(w: VelocityWindow, from: number, to: number, r: R): CardFact[] | null {
    if (to - from + 1 >= r.minDebits) return w.slice(from, to);
    const cur = w.at(to).currency;
    let sum = 0;
    for (let i = from; i <= to; i++) {
      const d = w.at(i);
      if (d.currency === cur) sum += d.amount_minor;
    }
    if (sum < r.minSumMinor) return null;
    const out: CardFact[] = [];
    for (let i = from; i <= to; i++) if (w.at(i).currency === cur) out.push(w.at(i));
    return out;
  }
}
