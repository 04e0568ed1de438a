/**
 * CARD_TESTING (docs/semantics.md, "Fraud-like patterns"): per card_token, bank
 * time. Small attempts are AUTH_APPROVED or AUTH_DECLINED (any txn_type) of at
 * most maxAmountMinor. Fires at small attempt e when the card's small attempts
 * with e.time - windowMs <= time, up to e in order, number >= minAttempts, of
 * which >= minDeclined declined, over >= minMerchants distinct merchants.
 */
import type { Rules } from '../../config/rules.js';
import { cardPatternAnomaly } from './pattern-anomaly.js';
import type { CardFact, Emit } from './types.js';
import { after, dayOf, EventWindow, keepFrom, type Frame } from './window.js';

type R = Rules['cardTesting'];

/**
 * The card's small attempts, with running counts over the window region: the
 * declined ones, and the attempts per merchant (so a hot card at one or two
 * merchants is not rescanned at every attempt: O(1) instead of O(window)).
 */
export class TestingWindow extends EventWindow<CardFact> {
  declined = 0;
  /** Attempts per merchant_id in the window region; null until the first one. */
  private perMerchant: Map<string, number> | null = null;
  /** Distinct merchant_ids in the window region. */
  get merchants(): number {
    return this.perMerchant === null ? 0 : this.perMerchant.size;
  }
  protected override enter(x: CardFact): void {
    if (!x.approved) this.declined++;
    const m = (this.perMerchant ??= new Map());
    m.set(x.merchant_id, (m.get(x.merchant_id) ?? 0) + 1);
  }
  protected override leave(x: CardFact): void {
    if (!x.approved) this.declined--;
    const m = this.perMerchant!;
    const k = m.get(x.merchant_id)! - 1;
    if (k === 0) m.delete(x.merchant_id);
    else m.set(x.merchant_id, k);
  }
  protected override reset(): void {
    this.declined = 0;
    this.perMerchant = null;
  }
}

export class CardTesting {
  /** Scratch for the distinct-merchant count: reused, so evaluating allocates nothing. */
  // Stryker disable next-line ArrayDeclaration: equivalent: the scratch array is emptied (seen.length = 0) before each use
  private readonly seen: string[] = [];

  constructor(private readonly emit: Emit) {}

  static accepts(f: CardFact, r: R): boolean {
    return r.enabled && f.amount_minor <= r.maxAmountMinor;
  }

  /** In-order fact: slide, append, evaluate at f. Days before fr.openDay are closed (late facts only). */
  add(w: TestingWindow, f: CardFact, r: R, fr: Frame): void {
    const lo = f.event_time - r.windowMs;
    w.slide(lo, keepFrom(lo, r.windowMs, fr));
    w.append(f);
    // Cheapest tests first: almost every push stops here.
    if (w.size < r.minAttempts || w.declined < r.minDeclined) return;
    const day = dayOf(f.event_time);
    if (day < fr.openDay || w.firedOn(day) !== undefined) return;
    if (w.merchants >= r.minMerchants) {
      w.markFired(day, f);
      this.emitAt(w, w.start, w.length - 1, r, 1);
    }
  }

  /**
   * Out-of-order fact: insert it, then re-evaluate, in order, every held
   * attempt whose window now contains it. An open day that had not fired
   * fires; a day that fired at a later trigger gets a new version with the
   * earlier one; a trigger whose window gained the fact gets a new version
   * with the larger evidence.
   */
  addLate(w: TestingWindow, f: CardFact, r: R, fr: Frame): void {
    const p = w.insertLate(f);
    const hi = f.event_time + r.windowMs;
    for (let j = p; j < w.length; j++) {
      const e = w.at(j);
      if (e.event_time > hi) break;
      const day = dayOf(e.event_time);
      if (day < fr.openDay) continue;
      const mark = w.firedOn(day);
      if (mark !== undefined && after(e, mark.trigger)) continue;
      const from = w.lowerIndex(e.event_time - r.windowMs, j);
      if (j - from + 1 < r.minAttempts) continue;
      let declined = 0;
      for (let i = from; i <= j; i++) if (!w.at(i).approved) declined++;
      if (declined < r.minDeclined || !this.merchantsAtLeast(w, from, j, r.minMerchants)) continue;
      if (mark === undefined) {
        w.markFired(day, e);
        this.emitAt(w, from, j, r, 1);
      } else {
        mark.trigger = e;
        this.emitAt(w, from, j, r, ++mark.version);
      }
    }
  }

  trim(w: TestingWindow, r: R, fr: Frame): void {
    w.trimTo(r.windowMs, r.enabled, fr);
  }

  expiry(w: TestingWindow, r: R, fr: Frame): number {
    return w.expiryFor(r.windowMs, fr);
  }

  /** At least k distinct merchant_ids among events [from, to]? Newest first, stops at k. */
  private merchantsAtLeast(w: TestingWindow, from: number, to: number, k: number): boolean {
    const seen = this.seen;
    seen.length = 0;
    for (let i = to; i >= from; i--) {
      const m = w.at(i).merchant_id;
      if (!seen.includes(m)) {
        seen.push(m);
        if (seen.length >= k) return true;
      }
    }
    return false;
  }

  private emitAt(w: TestingWindow, from: number, to: number, r: R, version: number): void {
    this.emit(cardPatternAnomaly('CARD_TESTING', r.severity, w.at(to), w.slice(from, to), version));
  }
}
