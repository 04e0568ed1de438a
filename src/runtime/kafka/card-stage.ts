/**
 * Stage 2 inside one process (docs/architecture.md): several stage-1 engines,
 * one per input partition, feed one CardPatterns. Each engine releases its
 * card facts in (event_time, event_id) order and announces its fact frontier
 * through advance(); a fact is handed to CardPatterns only when every
 * source's frontier has passed it, merged across sources in
 * (event_time, event_id) order. That is the sequence a single engine over all
 * partitions would produce, so the result equals a single-process replay.
 *
 * The same "minimum over inputs" rule as the distributed design, without the
 * topic. A source that has seen no event for `idleMs` (wall clock) and holds
 * no facts is left out of the minimum while others progress (an idle
 * partition would otherwise hold every card pattern back); a fact it sends
 * later behind the frontier is flagged late, which CardPatterns handles.
 * Across processes (card-facts/stage2-task.ts) no event is seen here: the
 * writer declares its source idle in its watermarks instead (declareIdle),
 * and the wall-clock rule is off (idleMs Infinity).
 */
import { CardPatterns } from '../../detect/patterns/card-patterns.js';
import type { CardFact, CardPatternDetector, Emit, RulesSource } from '../../detect/patterns/types.js';
import { stateCensus } from '../../util/state-census.js';
import type { ItemDelta } from '../../util/item-delta.js';
import { cardStageSkeleton, restoreCardStage, type CardStageSkeleton, type CardStageState } from './card-stage-state.js';

class Source implements CardPatternDetector {
  fifo: CardFact[] = [];
  head = 0;
  frontier = -Infinity;
  lastActivity: number;
  /** Its writer said it carries no traffic (a card-facts watermark marked idle): left out of the minimum like a quiet one. */
  declaredIdle = false;

  constructor(private readonly stage: CardStage, now: number) {
    this.lastActivity = now;
  }

  push(f: CardFact): void {
    const q = this.fifo;
    const n = q.length;
    if (n === this.head || !before(f, q[n - 1])) q.push(f);
    else {
      // Late facts can arrive behind released ones: insert in order among the held ones.
      let lo = this.head;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(f, q[mid])) hi = mid;
        else lo = mid + 1;
      }
      q.splice(lo, 0, f);
    }
  }

  advance(w: number): void {
    if (w > this.frontier) this.frontier = w;
    this.stage.pump();
  }

  activeCards(): number {
    return this.stage.patterns.activeCards();
  }

  pending(): number {
    return this.fifo.length - this.head;
  }
}

function before(a: CardFact, b: CardFact): boolean {
  return a.event_time < b.event_time || (a.event_time === b.event_time && a.event_id < b.event_id);
}

export class CardStage {
  readonly patterns: CardPatterns;
  private readonly sources = new Map<number, Source>();
  /** The frontier handed to CardPatterns so far. */
  private frontier = -Infinity;
  private readonly ready: CardFact[] = [];

  constructor(rules: RulesSource, emit: Emit, private readonly idleMs: number, private readonly now: () => number = Date.now) {
    this.patterns = new CardPatterns(rules, emit);
    stateCensus.track('card_stage_facts', this, (c) => c.pending());
  }

  /** The detector a partition's engine pushes to. */
  source(partition: number): CardPatternDetector {
    let s = this.sources.get(partition);
    if (s === undefined) this.sources.set(partition, (s = new Source(this, this.now())));
    return s;
  }

  /** The partition took an event: it is not idle. */
  touch(partition: number): void {
    const s = this.sources.get(partition);
    if (s !== undefined) s.lastActivity = this.now();
  }

  /** The source's writer says whether it carries traffic (stage 2 over the card-facts topic, where no event is seen here). */
  declareIdle(partition: number, idle: boolean): void {
    (this.source(partition) as Source).declaredIdle = idle;
  }

  get cardFrontier(): number {
    return this.frontier;
  }

  /** Releases every fact all (non-idle) sources have passed, in order. */
  pump(): void {
    const now = this.now();
    let min = Infinity;
    let minActive = Infinity;
    let anyActive = false;
    for (const s of this.sources.values()) {
      if (s.frontier < min) min = s.frontier;
      const idle = s.pending() === 0 && (s.declaredIdle || now - s.lastActivity > this.idleMs) && s.frontier !== Infinity;
      if (!idle) {
        anyActive = true;
        if (s.frontier < minActive) minActive = s.frontier;
      }
    }
    const m = anyActive ? minActive : min;
    if (m === Infinity && this.sources.size === 0) return;
    const ready = this.ready;
    ready.length = 0;
    for (const s of this.sources.values()) {
      const q = s.fifo;
      while (s.head < q.length && q[s.head].event_time <= m) ready.push(q[s.head++]);
      if (s.head > 4096 && s.head * 2 > q.length) {
        s.fifo = q.slice(s.head);
        s.head = 0;
      }
    }
    if (ready.length > 1) ready.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    for (const f of ready) {
      // Behind what CardPatterns was already told: out of order for it.
      this.patterns.push(f.late || f.event_time >= this.frontier ? f : { ...f, late: true });
    }
    ready.length = 0;
    if (m > this.frontier) {
      this.frontier = m;
      this.patterns.advance(m);
    }
  }

  /** Each source's frontier (what it announced last). */
  sourceFrontiers(): [partition: number, frontier: number][] {
    return [...this.sources.entries()].map(([p, s]) => [p, s.frontier]);
  }

  /** Facts held back, waiting for a slower source. */
  pending(): number {
    let n = 0;
    for (const s of this.sources.values()) n += s.pending();
    return n;
  }

  /** Checkpoint (issue 13): sources (frontier, held facts), frontier and CardPatterns' skeleton; with captureCards at the same instant. */
  captureSkeleton(): CardStageSkeleton {
    return cardStageSkeleton(this.frontier, this.sources, this.patterns);
  }

  /** CardPatterns' card table, whole or as a delta (CardPatterns.captureCards). */
  captureCards(full: boolean): ItemDelta {
    return this.patterns.captureCards(full);
  }

  /**
   * On a fresh stage (no source asked for yet): a skeleton and its whole card table (base and deltas merged);
   * every source's lastActivity is now(). Throws unless the table is the one the skeleton names.
   */
  restoreFrom(skeleton: unknown, cards: ReadonlyMap<string, unknown>): void {
    const fresh = this.sources.size === 0 && this.frontier === -Infinity;
    this.frontier = restoreCardStage(skeleton, cards, fresh, (p) => this.source(p) as Source, this.patterns);
  }

  /** The full form at once (skeleton and every card), without touching the change tracking: tests, and parts.ts until it calls the above. */
  snapshot(): CardStageState {
    return { skeleton: this.captureSkeleton(), cards: this.patterns.snapshot().cards };
  }

  /** On a fresh stage: takes the state a snapshot() gave. */
  restore(s: CardStageState): void {
    this.restoreFrom(s.skeleton, new Map(s.cards));
  }
}
