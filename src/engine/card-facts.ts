/**
 * Card facts for stage 2 (the card patterns): one per bank authorization,
 * held until the watermark passes it, then completed with what the attempt
 * learned meanwhile (location, whether it is the attempt's debit) and handed
 * over in (event_time, event_id) order.
 */
import type { BankEvent } from '../events/index.js';
import type { CardFact, CardPatternDetector } from '../detect/patterns/types.js';
import { TimeHeap } from '../util/heap.js';
import { H_DEBIT_IDX, H_LAT, H_LON, type LiveAttempt } from './live-attempt.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A card fact waiting for the watermark; lat/lon/debit/late are filled in on release. */
interface PendingFact {
  fact: Mutable<CardFact>;
  attempt: LiveAttempt;
}

const DEBIT_TYPES = new Set(['SALE', 'PREAUTH']);

export class PendingCardFacts {
  private readonly facts = new TimeHeap<PendingFact>();
  /**
   * The watermark of the last release: every fact held until before it has
   * been handed over, and the card patterns were advanced to it − clockSkew.
   * A fact held until before it arrived after that: late for the card
   * patterns (they may have closed its day), whatever facts came before it.
   */
  private releasedBelow = -Infinity;

  constructor(private readonly cards: CardPatternDetector) {}

  /** Facts held until the watermark passes them. */
  pending(): number {
    return this.facts.size;
  }

  /** Holds the fact of bank authorization e (of attempt x) until the watermark reaches `releaseAt`. */
  hold(x: LiveAttempt, e: BankEvent, releaseAt: number): void {
    this.facts.push(releaseAt, {
      attempt: x,
      fact: {
        event_id: e.event_id, event_time: e.event_time, rrn: e.rrn, card_token: e.card_token, merchant_id: e.merchant_id,
        terminal_id: e.terminal_id, stan: e.stan, issuer_id: e.issuer_id, txn_type: e.txn_type, amount_minor: e.amount_minor,
        currency: e.currency, approved: e.event_type === 'AUTH_APPROVED',
        // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent (→ true, `||`): complete() recomputes debit before the fact is handed over (→ false, killed, is hidden with them)
        debit: e.event_type === 'AUTH_APPROVED' && DEBIT_TYPES.has(e.txn_type),
        // Stryker disable next-line BooleanLiteral: equivalent: complete() sets late before the fact is handed over
        lat: null, lon: null, late: false,
      },
    });
  }

  /**
   * Hands every fact the watermark w has passed to the card patterns. Passed
   * means strictly: a bank event at t is still on time at W = t + clockSkew
   * (the engine's lateness), so a fact held until t + clockSkew waits for a
   * watermark above it, or an on-time fact of equal time and lower event_id
   * could still follow it (results would depend on arrival order).
   */
  release(w: number): void {
    let ready: { p: PendingFact; late: boolean }[] | null = null;
    // An empty heap's peekTime() is +∞: the loop ends there.
    while (this.facts.peekTime() < w) {
      const late = this.facts.peekTime() < this.releasedBelow;
      (ready ??= []).push({ p: this.facts.pop(), late });
    }
    // The watermark never decreases.
    this.releasedBelow = w;
    if (ready === null) return;
    // Stage 2 needs (event_time, event_id) order; one batch is all facts the watermark passed.
    ready.sort((a, b) => a.p.fact.event_time - b.p.fact.event_time || (a.p.fact.event_id < b.p.fact.event_id ? -1 : 1));
    for (const r of ready) this.cards.push(this.complete(r.p, r.late));
  }

  private complete(p: PendingFact, late: boolean): CardFact {
    let x = p.attempt;
    while (x.info?.mergedInto) x = x.info.mergedInto;
    const f = p.fact;
    // Only the attempt's debit (its earliest SALE/PREAUTH approval) is a debit (docs/semantics.md).
    const debitIdx = x.n[H_DEBIT_IDX];
    if (f.debit) f.debit = debitIdx >= 0 && x.eventId(debitIdx) === f.event_id.toLowerCase();
    const lat = x.n[H_LAT];
    const lon = x.n[H_LON];
    f.lat = Number.isNaN(lat) ? null : lat;
    f.lon = Number.isNaN(lon) ? null : lon;
    f.late = late;
    return f;
  }

  /** @internal state: the held facts (heap order) and the frontier (`releasedBelow`, under its older name), for src/engine/state (issue 13). */
  stateParts(): { facts: TimeHeap<{ fact: Mutable<CardFact>; attempt: LiveAttempt }>; lastFactTime: number; setLastFactTime(t: number): void } {
    return { facts: this.facts, lastFactTime: this.releasedBelow, setLastFactTime: (t) => { this.releasedBelow = t; } };
  }
}
