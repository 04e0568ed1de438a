/**
 * Checkpoint of CardPatterns (card-patterns.ts): every card with its three
 * windows, the expiry heap entry by entry, the frame and the counters.
 *
 * Exactness: a restored CardPatterns takes every later call exactly as the
 * original would. The cards keep their Map order; the heap entries keep their
 * keys (which may be stale: lazily updated, see expiry-heap.ts) and their
 * array order, so the same cards are trimmed at the same watermarks in the
 * same order. Derived values are rebuilt, not stored: CARD_TESTING's counts
 * (by the window's own hooks), a card's `scheduled` flag (it is in the heap),
 * IMPOSSIBLE_TRAVEL's horizon cache (from the rules at the next call).
 */
import { snapNum, unsnapNum, type SnapNum } from '../../../util/snapshot-num.js';
import { TestingWindow } from '../card-testing.js';
import { VelocityWindow } from '../card-velocity.js';
import type { ExpiryHeap } from '../expiry-heap.js';
import { TravelWindow } from '../impossible-travel.js';
import type { CardPatternCounters } from '../card-patterns.js';
import type { CardFact } from '../types.js';
import type { Frame } from '../window.js';
import {
  checkFresh, checkVersion, decodeFact, encodeFact, encodeFrame, encodeKeyed, PATTERN_STATE_VERSION, restoreCounters, restoreFrame, restoreHeap,
  type FactTuple, type FrameState, type HeapEntry,
} from './codec.js';
import { encodeWindow, EventTable, refillWindow, type WindowState } from './window-state.js';

export interface TravelWindowState extends WindowState {
  /** The bounding circle of the held debits (it only grows, so it is state, not derived). */
  cLat: SnapNum;
  cLon: SnapNum;
  radiusKm: SnapNum;
}

export interface CardEntryState {
  token: string;
  /** The last in-order fact's (event_time, event_id). */
  lastT: SnapNum;
  lastId: string;
  /** Every fact the card's windows hold or name as a trigger, once each; the windows index into it. */
  facts: FactTuple[];
  testing: WindowState | null;
  velocity: WindowState | null;
  travel: TravelWindowState | null;
}

export interface CardPatternsState {
  v: typeof PATTERN_STATE_VERSION;
  frame: FrameState;
  counters: CardPatternCounters;
  /** In the detector's Map order. */
  cards: CardEntryState[];
  /** The expiry heap in array order; items are indices into `cards`. */
  expiries: HeapEntry[];
}

/** What card-patterns.ts lets the checkpoint see of a card. */
export interface CardSlot {
  readonly token: string;
  scheduled: boolean;
  lastT: number;
  lastId: string;
  testing: TestingWindow | null;
  velocity: VelocityWindow | null;
  travel: TravelWindow | null;
}

/** CardPatterns' internals, lent to the checkpoint by card-patterns.ts. */
export interface CardPatternsParts<C extends CardSlot> {
  readonly cards: Map<string, C>;
  readonly expiries: ExpiryHeap<C>;
  readonly frame: Frame;
  readonly counters: CardPatternCounters;
  newCard(token: string): C;
}

function encodeCard(c: CardSlot): CardEntryState {
  const table = new EventTable<CardFact>();
  const testing = c.testing === null ? null : encodeWindow(c.testing, table);
  const velocity = c.velocity === null ? null : encodeWindow(c.velocity, table);
  const travel = c.travel === null ? null : {
    ...encodeWindow(c.travel, table), cLat: snapNum(c.travel.cLat), cLon: snapNum(c.travel.cLon), radiusKm: snapNum(c.travel.radiusKm),
  };
  return { token: c.token, lastT: snapNum(c.lastT), lastId: c.lastId, facts: table.list.map(encodeFact), testing, velocity, travel };
}

function decodeCard<C extends CardSlot>(s: CardEntryState, c: C): C {
  c.lastT = unsnapNum(s.lastT);
  c.lastId = s.lastId;
  const facts = s.facts.map((t) => decodeFact(t, s.token));
  if (s.testing !== null) refillWindow((c.testing = new TestingWindow()), s.testing, facts);
  if (s.velocity !== null) refillWindow((c.velocity = new VelocityWindow()), s.velocity, facts);
  if (s.travel !== null) {
    const w = (c.travel = new TravelWindow());
    refillWindow(w, s.travel, facts);
    w.cLat = unsnapNum(s.travel.cLat);
    w.cLon = unsnapNum(s.travel.cLon);
    w.radiusKm = unsnapNum(s.travel.radiusKm);
  }
  return c;
}

export function snapshotCardPatterns<C extends CardSlot>(p: CardPatternsParts<C>): CardPatternsState {
  const { list, expiries } = encodeKeyed(p.cards.values(), encodeCard, p.expiries.entries());
  return { v: PATTERN_STATE_VERSION, frame: encodeFrame(p.frame), counters: { ...p.counters }, cards: list, expiries };
}

export function restoreCardPatterns<C extends CardSlot>(s: CardPatternsState, p: CardPatternsParts<C>): void {
  checkVersion('CardPatterns', s.v);
  checkFresh('CardPatterns', p.cards.size === 0 && p.expiries.size === 0 && p.counters.facts === 0);
  const cards = s.cards.map((cs) => {
    const c = decodeCard(cs, p.newCard(cs.token));
    p.cards.set(cs.token, c);
    return c;
  });
  restoreHeap(p.expiries, cards, s.expiries);
  restoreFrame(p.frame, s.frame);
  restoreCounters(p.counters, s.counters);
}
