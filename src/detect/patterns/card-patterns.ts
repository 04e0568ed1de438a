/**
 * Stage 2 of the engine (docs/architecture.md): the card patterns, keyed by
 * card_token. Composes CARD_TESTING, CARD_VELOCITY and IMPOSSIBLE_TRAVEL over
 * one Map<card_token, CardState>.
 *
 * Hot path (one call per bank AUTH_APPROVED / AUTH_DECLINED): one rules read,
 * one Map lookup, append/evict on at most three ring buffers. No sorting (the
 * input is in (event_time, event_id) order) and no allocation unless a card is
 * new, a ring grows, or a pattern fires.
 *
 * State is bounded: each window keeps only what a later fact can still need,
 * and a card is released (dropped from the Map) as soon as `advance(w)` shows
 * that none of its windows, and none of its "already fired today" markers, can
 * matter any more. Release is driven by a min-heap of per-card expiries, so
 * `advance` costs nothing when nothing expires.
 *
 * Rules are read through the RulesSource at every decision: a reload applies to
 * the next fact without losing any state. Windows are trimmed with the rules in
 * force at the time, so widening a window after a reload brings back only what
 * the lateness grace still held, not what a narrower window already released.
 * A kind disabled by reload keeps no state (dropped at the card's next
 * clean-up), but remembers the days it fired, so re-enabling it the same day
 * cannot emit an anomaly_id twice.
 *
 * Contract with the caller (the engine, or stage 2's merge): facts in
 * (event_time, event_id) order except those flagged late; `advance(w)` with
 * the fact frontier; `debit` true only for the rrn's debit (its earliest
 * AUTH_APPROVED SALE/PREAUTH).
 *
 * Late facts (`late: true`, or out of (event_time, event_id) order for their
 * card) are inserted in place and every held event whose window now contains
 * them is re-evaluated: a day that had not fired fires; a day that fired gets
 * version + 1 when the late fact moves its first trigger earlier or adds to
 * the trigger's evidence. Each window keeps `time.allowedLatenessMs` of
 * history behind it, and fired days stay known that long after midnight, so a
 * fact late by at most allowedLatenessMs behind the watermark gives exactly
 * the batch result. A fact later than that may find the events its window
 * needs released and miss an anomaly, and it never creates one on a UTC day
 * closed since (the detector no longer knows whether that card fired that day,
 * and an anomaly_id must not get a second version 1).
 */
import type { Rules } from '../../config/rules.js';
import { CardTesting, TestingWindow } from './card-testing.js';
import { CardVelocity, VelocityWindow } from './card-velocity.js';
import { ExpiryHeap, type Schedulable } from './expiry-heap.js';
import { ImpossibleTravel, TravelWindow } from './impossible-travel.js';
import type { CardFact, CardPatternDetector, Emit, RulesSource } from './types.js';
import { stateCensus } from '../../util/state-census.js';
import { firstOpenDay, type Frame } from './window.js';
import { JsonText, type ItemDelta } from '../../util/item-delta.js';
import { ChangeTracker } from './change-tracker.js';
import {
  cardJson, cardPatternsSkeleton, decodeCardWindows, encodeCard, restoreCardPatterns, type CardItem, type CardPatternsParts, type CardPatternsSkeleton, type CardPatternsState,
} from './state/card-patterns-state.js';

/** One card's windows; a window is null while the card has nothing in it. */
class CardState implements Schedulable {
  scheduled = false;
  /** In the change tracker's list (change-tracker.ts). */
  marked = false;
  /** Its key in the expiry heap (it is there exactly once while in the Map). */
  due = -Infinity;
  /** The last in-order fact's (event_time, event_id): anything not after it is late or a duplicate. */
  lastT = -Infinity;
  lastId = '';
  /** Restored, windows not decoded yet (card-patterns-state.ts lazyCard): decoded at its first touch. */
  raw: string | null = null;
  testing: TestingWindow | null = null;
  velocity: VelocityWindow | null = null;
  travel: TravelWindow | null = null;

  constructor(readonly token: string) {}
}

export interface CardPatternCounters {
  /** Facts pushed. */
  facts: number;
  /** Facts no enabled pattern looks at (large declines, non-small non-debits): no state kept. */
  ignored: number;
  /** Facts with an event_id the card already holds. */
  duplicates: number;
  /** Facts out of order for their card (inserted in place, best effort). */
  late: number;
  /** Cards released since start. */
  released: number;
}

export class CardPatterns implements CardPatternDetector {
  private readonly cards = new Map<string, CardState>();
  private readonly expiries = new ExpiryHeap<CardState>();
  /** Reused for every decision: no allocation per push. */
  private readonly frame: Frame = { wm: -Infinity, grace: 0,
    // Stryker disable next-line UnaryOperator: equivalent: push() sets openDay before every decision that reads it (in order and late)
    openDay: -Infinity };
  private readonly testing: CardTesting;
  private readonly velocity: CardVelocity;
  private readonly travel: ImpossibleTravel;
  readonly counters: CardPatternCounters = { facts: 0, ignored: 0, duplicates: 0, late: 0, released: 0 };
  /** Cards changed or released since the previous checkpoint capture (issue 13); bounds in change-tracker.ts. */
  private readonly changes = new ChangeTracker<CardState>(() => this.cards.size, (c) => this.cards.get(c.token) === c);

  constructor(private readonly rules: RulesSource, emit: Emit) {
    this.testing = new CardTesting(emit);
    this.velocity = new CardVelocity(emit);
    this.travel = new ImpossibleTravel(emit);
    stateCensus.track('cards', this, (p) => p.cards.size);
  }

  push(f: CardFact): void {
    this.counters.facts++;
    const r = this.rules();
    const small = CardTesting.accepts(f, r.cardTesting);
    const debit = CardVelocity.accepts(f, r.cardVelocity);
    const located = ImpossibleTravel.accepts(f, r.impossibleTravel);
    if (!small && !debit && !located) {
      this.counters.ignored++;
      return;
    }
    let c = this.cards.get(f.card_token);
    if (c === undefined) {
      c = new CardState(f.card_token);
      this.cards.set(f.card_token, c);
      this.changes.added(c);
    } else {
      decodeCardWindows(c);
      // Every path below may change the card (a duplicate does not, but telling it apart costs more than an item).
      this.changes.changed(c);
    }
    const fr = this.frame;
    fr.grace = r.time.allowedLatenessMs;
    const t = f.event_time;
    if (t > c.lastT || (t === c.lastT && f.event_id > c.lastId)) {
      c.lastT = t;
      c.lastId = f.event_id;
      // In order for this card. A fact flagged late may still fall on a day that is closed.
      fr.openDay = f.late ? firstOpenDay(fr.wm - fr.grace) : -Infinity;
      if (small) this.testing.add(c.testing ??= new TestingWindow(), f, r.cardTesting, fr);
      if (debit) this.velocity.add(c.velocity ??= new VelocityWindow(), f, r.cardVelocity, fr);
      if (located) this.travel.add(c.travel ??= new TravelWindow(), f, r.impossibleTravel, fr);
    } else if (
      // Stryker disable next-line BooleanLiteral,BlockStatement: equivalent: a card found in the map is always in the expiry heap (a new card's first fact is in order), so skipping or running the scheduling below changes nothing
      !this.pushOutOfOrder(c, f, r, small, debit, located)) {
      return;
    }
    if (!c.scheduled) this.schedule(c, this.expiry(c, r));
  }

  private schedule(c: CardState, due: number): void {
    c.due = due;
    this.expiries.push(c, due);
  }

  /** Returns false for a duplicate. */
  private pushOutOfOrder(c: CardState, f: CardFact, r: Rules, small: boolean, debit: boolean, located: boolean): boolean {
    if ((f.event_time === c.lastT && f.event_id === c.lastId)
      || (small && c.testing?.has(f)) || (debit && c.velocity?.has(f)) || (located && c.travel?.has(f))) {
      this.counters.duplicates++;
      // Stryker disable next-line BooleanLiteral: equivalent: the caller's only use of the result is to skip scheduling a card that is already scheduled (see push)
      return false;
    }
    this.counters.late++;
    const fr = this.frame;
    fr.openDay = firstOpenDay(fr.wm - fr.grace);
    if (small) this.testing.addLate(c.testing ??= new TestingWindow(), f, r.cardTesting, fr);
    if (debit) this.velocity.addLate(c.velocity ??= new VelocityWindow(), f, r.cardVelocity, fr);
    if (located) this.travel.addLate(c.travel ??= new TravelWindow(), f, r.impossibleTravel, fr);
    // Stryker disable next-line BooleanLiteral: equivalent: as above
    return true;
  }

  /**
   * `w`: no in-order fact with event_time < w will be pushed any more (the
   * frontier of facts handed over, not the engine's raw watermark if facts
   * are held back for a decision delay). Releases what no later fact needs.
   */
  advance(w: number): void {
    const fr = this.frame;
    if (w > fr.wm) fr.wm = w;
    if (this.expiries.peekKey() >= fr.wm) return;
    const r = this.rules();
    fr.grace = r.time.allowedLatenessMs;
    while (this.expiries.peekKey() < fr.wm) {
      const c = this.expiries.pop();
      decodeCardWindows(c);
      if (this.trim(c, r)) {
        this.cards.delete(c.token);
        this.changes.gone(c);
        this.counters.released++;
      } else {
        // Still needed: the heap entry was stale (the card got later facts). Re-schedule at its real expiry (>= wm).
        // Trimmed windows and a new heap key: the card's item changed.
        this.changes.changed(c);
        this.schedule(c, this.expiry(c, r));
      }
    }
  }

  activeCards(): number {
    return this.cards.size;
  }

  /** Cards restored and not touched since (windows still as their item text): tests and benches; O(cards). */
  undecodedCards(): number {
    let n = 0;
    for (const c of this.cards.values()) if (c.raw !== null) n++;
    return n;
  }

  /** Trims every window of c for the current watermark; true when the card holds nothing any more. */
  private trim(c: CardState, r: Rules): boolean {
    const fr = this.frame;
    if (c.testing !== null) {
      this.testing.trim(c.testing, r.cardTesting, fr);
      if (c.testing.isEmpty()) c.testing = null;
    }
    if (c.velocity !== null) {
      this.velocity.trim(c.velocity, r.cardVelocity, fr);
      if (c.velocity.isEmpty()) c.velocity = null;
    }
    if (c.travel !== null) {
      this.travel.trim(c.travel, r.impossibleTravel, fr);
      if (c.travel.isEmpty()) c.travel = null;
    }
    return c.testing === null && c.velocity === null && c.travel === null;
  }

  /** The watermark up to which c must be kept: the latest of its windows' needs. */
  private expiry(c: CardState, r: Rules): number {
    const fr = this.frame;
    let x = -Infinity;
    if (c.testing !== null) x = Math.max(x, this.testing.expiry(c.testing, r.cardTesting, fr));
    if (c.velocity !== null) x = Math.max(x, this.velocity.expiry(c.velocity, r.cardVelocity, fr));
    if (c.travel !== null) x = Math.max(x, this.travel.expiry(c.travel, r.impossibleTravel, fr));
    return x;
  }

  /** Checkpoint (issue 13): what is not per card (frame, counters, card count), small; with captureCards at the same instant. */
  captureSkeleton(): CardPatternsSkeleton {
    return cardPatternsSkeleton(this.stateParts());
  }

  /**
   * The card table keyed by card_token: every card (`full`, and also when no delta can be given: the first capture
   * of a detector not restored, or the tracker gave up, see change-tracker.ts; or when the delta would hold more
   * items than the table), else the cards changed and the
   * tokens released since the previous capture. Items are encoded as `upserts` is iterated: consume it before the
   * next push or advance.
   */
  captureCards(full: boolean): ItemDelta {
    const tracked = this.changes.tracking;
    const { dirty, removed } = this.changes.take();
    // A delta with more items than the whole table (a catch-up replaces most cards between barriers) goes whole: less to write and to merge.
    const base = full || !tracked || dirty.length + removed.size > this.cards.size;
    if (base) return { full: true, upserts: this.items(this.cards.values()), removes: [] };
    return { full: false, upserts: this.items(dirty), removes: [...removed] };
  }

  /** Each card's item as its JSON text (cardJson: a base writes every card). */
  private *items(cards: Iterable<CardState>): Generator<readonly [string, JsonText]> {
    for (const c of cards) yield [c.token, new JsonText(cardJson(c))];
  }

  /** On a fresh instance, before any push or advance: the state of a skeleton and its whole card table (base and deltas merged). */
  restoreFrom(skeleton: unknown, cards: ReadonlyMap<string, unknown>): void {
    restoreCardPatterns(skeleton, cards, this.stateParts());
    this.changes.take(); // a delta from here is against the restored table
  }

  /** The full form at once (skeleton and every card in Map order), without touching the change tracking: tests, benches. */
  snapshot(): CardPatternsState {
    return { skeleton: this.captureSkeleton(), cards: [...this.cards.values()].map((c): [string, CardItem] => [c.token, encodeCard(c)]) };
  }

  /** On a fresh instance: takes the state a snapshot() gave. */
  restore(s: CardPatternsState): void {
    this.restoreFrom(s.skeleton, new Map(s.cards));
  }

  private stateParts(): CardPatternsParts<CardState> {
    return { cards: this.cards, expiries: this.expiries, frame: this.frame, counters: this.counters, newCard: (token) => new CardState(token) };
  }
}
