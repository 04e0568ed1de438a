/**
 * Checkpoint of CardPatterns (card-patterns.ts), split for incremental
 * checkpoints (issue 13, STATE_FORMAT 2): a skeleton (frame, counters, the
 * card count) written whole every barrier, and one item per card keyed by its
 * card_token (its windows, last in-order fact and expiry-heap key), of which a
 * barrier writes only those changed since the previous capture
 * (change-tracker.ts).
 *
 * Exactness: a restored CardPatterns takes every later call exactly as the
 * original would. The expiry heap is not stored: every card is in it exactly
 * once (card-patterns.ts), under the key its item carries (`due`, possibly
 * stale: lazily updated, see expiry-heap.ts), so pushing every card with its
 * key rebuilds a heap that pops the same keys. Cards with equal keys may pop
 * in another order than in the original, and the Map's order may differ:
 * neither is observable, because trimming a card emits nothing and touches
 * no other card, and the Map is only looked up by key. Derived values are
 * rebuilt, not stored: CARD_TESTING's counts (by the window's own hooks), a
 * card's `scheduled` flag, IMPOSSIBLE_TRAVEL's horizon cache.
 *
 * Lazy cards: a card restored from its item text (a segment's bytes) gets its
 * header and its heap key at restore and its windows at its first touch
 * (decodeCardWindows: a fact for it, or its expiry popping; a capture or a
 * snapshot of it gives its text back and leaves it as it is).
 * Decoding is a pure function of the text, so when it happens changes
 * nothing observable; until then the text is the card's item (cardJson and
 * encodeCard give it back as it is). Memory: the text instead of the windows.
 */
import { PosguardError } from '../../../errors.js';
import { snapNum, unsnapNum, type SnapNum } from '../../../util/snapshot-num.js';
import { TestingWindow } from '../card-testing.js';
import { VelocityWindow } from '../card-velocity.js';
import type { ExpiryHeap } from '../expiry-heap.js';
import { TravelWindow } from '../impossible-travel.js';
import type { CardPatternCounters } from '../card-patterns.js';
import type { CardFact } from '../types.js';
import type { EventWindow, Frame } from '../window.js';
import {
  checkFresh, checkVersion, decodeFact, encodeFact, encodeFrame, PATTERN_STATE_VERSION, restoreCounters, restoreFrame,
  type FactTuple, type FrameState,
} from './codec.js';
import { encodeWindow, EventTable, refillWindow, type WindowState } from './window-state.js';
import { itemText, itemValue } from '../../../util/item-delta.js';

export interface TravelWindowState extends WindowState {
  /** The bounding circle of the held debits (it only grows, so it is state, not derived). */
  cLat: SnapNum;
  cLon: SnapNum;
  radiusKm: SnapNum;
}

/** One card's item (its key, the card_token, is not repeated in it). */
export interface CardItem {
  /** The last in-order fact's (event_time, event_id). */
  lastT: SnapNum;
  lastId: string;
  /** The card's key in the expiry heap. */
  due: SnapNum;
  /** Every fact the card's windows hold or name as a trigger, once each; the windows index into it. */
  facts: FactTuple[];
  testing: WindowState | null;
  velocity: WindowState | null;
  travel: TravelWindowState | null;
}

export interface CardPatternsSkeleton {
  v: typeof PATTERN_STATE_VERSION;
  frame: FrameState;
  counters: CardPatternCounters;
  /** How many cards (items) the table holds: a restore given another number refuses. */
  cards: number;
}

/** The full form (skeleton and every card, in the detector's Map order): tests, benches, and the full-snapshot API. */
export interface CardPatternsState {
  skeleton: CardPatternsSkeleton;
  cards: [card_token: string, item: CardItem][];
}

/** What card-patterns.ts lets the checkpoint see of a card. */
export interface CardSlot {
  readonly token: string;
  scheduled: boolean;
  due: number;
  lastT: number;
  lastId: string;
  /**
   * A restored card's item text while its windows are not decoded yet (lazy:
   * decodeCardWindows at the card's first touch); null once decoded or for a
   * card never restored. Its header (lastT, lastId, due) is set at restore.
   */
  raw: string | null;
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

export function encodeCard(c: CardSlot): CardItem {
  // Restored and untouched: its text is its item; left undecoded (a snapshot does not change what is lazy).
  if (c.raw !== null) return JSON.parse(c.raw) as CardItem;
  const table = new EventTable<CardFact>();
  const testing = c.testing === null ? null : encodeWindow(c.testing, table);
  const velocity = c.velocity === null ? null : encodeWindow(c.velocity, table);
  const travel = c.travel === null ? null : {
    ...encodeWindow(c.travel, table), cLat: snapNum(c.travel.cLat), cLon: snapNum(c.travel.cLon), radiusKm: snapNum(c.travel.radiusKm),
  };
  return { lastT: snapNum(c.lastT), lastId: c.lastId, due: snapNum(c.due), facts: table.list.map(encodeFact), testing, velocity, travel };
}

/** A number as JSON writes its SnapNum (NaN and ±Infinity as strings); finite numbers print as JSON.stringify prints them. */
const numJson = (x: number): string => (Number.isFinite(x) ? String(x) : Number.isNaN(x) ? '"NaN"' : x > 0 ? '"Inf"' : '"-Inf"');
/** A value JSON.stringify would write in an array (undefined as null). */
const valJson = (x: unknown): string => (x === undefined ? 'null' : JSON.stringify(x));

function factJson(f: CardFact): string {
  const flags = (f.approved ? 1 : 0) | (f.debit ? 2 : 0) | (f.late ? 4 : 0);
  return `[${valJson(f.event_id)},${numJson(f.event_time)},${valJson(f.rrn)},${valJson(f.merchant_id)},${valJson(f.terminal_id)},${valJson(f.stan)},${valJson(f.issuer_id)},${valJson(f.txn_type)},${numJson(f.amount_minor)},${valJson(f.currency)},${flags},${f.lat === null ? 'null' : numJson(f.lat)},${f.lon === null ? 'null' : numJson(f.lon)}]`;
}

function windowJson(w: EventWindow<CardFact>, table: EventTable<CardFact>, extra = ''): string {
  let events = '';
  for (let i = 0; i < w.length; i++) events += (i === 0 ? '' : ',') + table.of(w.at(i));
  let fired = '';
  for (const f of w.firedDays()) fired += `${fired === '' ? '' : ','}[${f.day},${f.version},${table.of(f.trigger)}]`;
  return `{"events":[${events}],"start":${w.start},"lo":${numJson(w.lo)},"fired":[${fired}]${extra}}`;
}

/**
 * encodeCard's item as its JSON text, written directly (the same text
 * JSON.stringify(encodeCard(c)) gives: the checkpoint test compares them):
 * a base writes every card, and building the plain item first, then its
 * JSON, cost twice the time (bench/pattern-snapshot.ts).
 */
export function cardJson(c: CardSlot): string {
  // Restored and untouched since: its text is its item (a base right after a restore writes most cards so).
  if (c.raw !== null) return c.raw;
  const table = new EventTable<CardFact>();
  const testing = c.testing === null ? 'null' : windowJson(c.testing, table);
  const velocity = c.velocity === null ? 'null' : windowJson(c.velocity, table);
  const t = c.travel;
  const travel = t === null ? 'null' : windowJson(t, table, `,"cLat":${numJson(t.cLat)},"cLon":${numJson(t.cLon)},"radiusKm":${numJson(t.radiusKm)}`);
  let facts = '';
  for (const f of table.list) facts += (facts === '' ? '' : ',') + factJson(f);
  return `{"lastT":${numJson(c.lastT)},"lastId":${valJson(c.lastId)},"due":${numJson(c.due)},"facts":[${facts}],"testing":${testing},"velocity":${velocity},"travel":${travel}}`;
}

function decodeCard<C extends CardSlot>(s: CardItem, c: C): C {
  c.lastT = unsnapNum(s.lastT);
  c.lastId = s.lastId;
  c.due = unsnapNum(s.due);
  return decodeWindows(s, c);
}

/** The windows of a card item (its header is the caller's). */
function decodeWindows<C extends CardSlot>(s: CardItem, c: C): C {
  const facts = s.facts.map((t) => decodeFact(t, c.token));
  if (s.testing !== null) refillWindow((c.testing = new TestingWindow()), s.testing, facts);
  if (s.velocity !== null) refillWindow((c.velocity = new VelocityWindow()), s.velocity, facts);
  if (s.travel !== null) {
    const w = (c.travel = new TravelWindow());
    refillWindow(w, s.travel, facts);
    w.cLat = unsnapNum(s.travel.cLat);
    w.cLon = unsnapNum(s.travel.cLon);
    w.radiusKm = unsnapNum(s.travel.radiusKm);
  }
  if (c.testing === null && c.velocity === null && c.travel === null) throw new Error('no window');
  return c;
}

/**
 * A lazily restored card's windows, decoded from its item text at its first
 * touch (a fact for it, or its expiry popping). The text
 * passed the segment's sha256 and its header decoded at restore; a body that
 * does not decode is a defect of the writer, reported as PG_INTERNAL.
 */
export function decodeCardWindows(c: CardSlot): void {
  const text = c.raw;
  if (text === null) return;
  c.raw = null;
  try {
    decodeWindows(JSON.parse(text) as CardItem, c);
  } catch (e) {
    throw new PosguardError('PG_INTERNAL', `CardPatterns state: the item of a restored card does not decode (${(e as Error).message})`);
  }
}

/** Where the item text's header ends: cardJson writes `{"lastT":..,"lastId":..,"due":..,"facts":[` (an unescaped `,"facts":[` cannot occur inside lastId). */
const FACTS_AT = ',"facts":[';

/** A restored card left undecoded: its header from the item text (parsed alone), its windows at first touch. */
function lazyCard<C extends CardSlot>(text: string, c: C): C {
  const end = text.indexOf(FACTS_AT);
  if (!text.startsWith('{"lastT":') || end < 0 || !text.endsWith('}')) throw new Error('not a card item text');
  const h = JSON.parse(`${text.slice(0, end)}}`) as Pick<CardItem, 'lastT' | 'lastId' | 'due'>;
  if (typeof h.lastId !== 'string' || h.due === undefined || h.lastT === undefined) throw new Error('a card item text without its header');
  c.lastT = unsnapNum(h.lastT);
  c.lastId = h.lastId;
  c.due = unsnapNum(h.due);
  c.raw = text;
  return c;
}

export function cardPatternsSkeleton<C extends CardSlot>(p: CardPatternsParts<C>): CardPatternsSkeleton {
  return { v: PATTERN_STATE_VERSION, frame: encodeFrame(p.frame), counters: { ...p.counters }, cards: p.cards.size };
}

/**
 * Fills a fresh detector from a skeleton and its complete card table (base and deltas merged), in the table's
 * order. Throws PG_INTERNAL on anything else: another version, a card count that differs, an item that is not one.
 */
export function restoreCardPatterns<C extends CardSlot>(skeleton: unknown, cards: ReadonlyMap<string, unknown>, p: CardPatternsParts<C>): void {
  const s = skeleton as CardPatternsSkeleton;
  checkVersion('CardPatterns', s?.v);
  checkFresh('CardPatterns', p.cards.size === 0 && p.expiries.size === 0 && p.counters.facts === 0);
  if (cards.size !== s.cards) {
    throw new PosguardError('PG_INTERNAL', `CardPatterns state names ${s.cards} cards, the card table holds ${cards.size}`);
  }
  for (const [token, item] of cards) {
    let c: C;
    try {
      // A card still as its text (a checkpoint's segment) stays so until it is touched: a restore of the 6 h
      // workload spent 7.7 s of its 31 s parsing and decoding 191,540 cards, most of which nothing touches for minutes.
      const text = itemText(item);
      c = text !== null ? lazyCard(text, p.newCard(token)) : decodeCard(itemValue(item) as CardItem, p.newCard(token));
    } catch (e) {
      if (e instanceof PosguardError) throw e;
      throw new PosguardError('PG_INTERNAL', `CardPatterns state: the item of a card is not a card state (${(e as Error).message})`);
    }
    p.cards.set(token, c);
    p.expiries.push(c, c.due);
  }
  restoreFrame(p.frame, s.frame);
  restoreCounters(p.counters, s.counters);
}
