/**
 * Stage 2 over the card-facts topic (docs/architecture.md): one task per
 * card-facts partition q. It reads q's records in offset order and feeds the
 * same merge as one process does (card-stage.ts): one FIFO per stage-1
 * source p, released by a k-way merge in (event_time, event_id) order up to
 * frontier(q) = the minimum over the sources of the highest frontier each
 * has announced on q, into CardPatterns (CARD_TESTING, CARD_VELOCITY,
 * IMPOSSIBLE_TRAVEL, keyed by card).
 *
 * - Every one of the N stage-1 sources exists from the start with frontier
 *   −∞, so nothing is released before each has spoken: a source read late
 *   holds the cards back rather than let them be decided on missing facts.
 * - A source whose writer declares it idle (no traffic on its input
 *   partition) is left out of the minimum while it holds no facts; a fact it
 *   sends later behind the frontier is flagged late (feeds.md).
 * - Identity is the input partition, not the instance: after a takeover the
 *   new writer of p continues p's markers; the highest frontier is kept, so a
 *   replayed older marker never moves it back. A new epoch is counted.
 * - At least once is enough: a fact read twice carries its event_id, which
 *   CardPatterns drops while it holds the card.
 *
 * A record that does not decode is returned as a reason (the caller logs it
 * with its offset; it stays on the topic); it never stops the task.
 *
 * Memory: the facts held back (bounded by how far the slowest source trails,
 * in event time, times the fact rate of q) plus CardPatterns' windows.
 */
import type { Emit, RulesSource } from '../../../detect/patterns/types.js';
import { CardStage } from '../card-stage.js';
import { decodeCardFactsRecord } from './record.js';

export interface CardFactsTaskCounters {
  facts: number;
  markers: number;
  bad: number;
  /** Markers of a source with an epoch other than the last one seen (a takeover of its input partition). */
  takeovers: number;
}

export class CardFactsTask {
  readonly stage: CardStage;
  readonly counters: CardFactsTaskCounters = { facts: 0, markers: 0, bad: 0, takeovers: 0 };
  private readonly epochs = new Map<number, number>();

  /**
   * `partition`: q. `sources`: N, the input topics' partition count. `emit`: the card anomalies (ids from
   * card|day, versions from CardPatterns; the caller stamps its own epoch into the version as stage 1 does).
   */
  constructor(readonly partition: number, readonly sources: number, rules: RulesSource, emit: Emit, now: () => number = Date.now) {
    this.stage = new CardStage(rules, emit, Infinity, now);
    for (let p = 0; p < sources; p++) this.stage.source(p);
  }

  /** One record of q, in offset order: null when taken, else why it is bad. */
  record(value: Buffer | null): string | null {
    const d = decodeCardFactsRecord(value);
    if (!d.ok) return this.bad(d.reason);
    const r = d.record;
    if (r.source >= this.sources) return this.bad(`source ${r.source} is not one of the ${this.sources} input partitions`);
    if (r.type === 'fact') {
      this.counters.facts++;
      this.stage.source(r.source).push(r.fact);
      return null;
    }
    this.counters.markers++;
    const last = this.epochs.get(r.source);
    if (last !== undefined && last !== r.epoch) this.counters.takeovers++;
    this.epochs.set(r.source, r.epoch);
    this.stage.declareIdle(r.source, r.idle);
    // advance() pumps: every fact all sources have passed goes to CardPatterns, in order.
    this.stage.source(r.source).advance(r.frontierMs);
    return null;
  }

  /** Facts held back, waiting for a slower source. */
  pending(): number {
    return this.stage.pending();
  }

  /** The frontier handed to CardPatterns so far (−∞ until every source has spoken). */
  get frontier(): number {
    return this.stage.cardFrontier;
  }

  private bad(reason: string): string {
    this.counters.bad++;
    return reason;
  }
}
