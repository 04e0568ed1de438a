/**
 * Checkpoint of the in-process stage 2 (card-stage.ts), split as CardPatterns'
 * (issue 13, incremental checkpoints): the skeleton holds per source (in the
 * stage's Map order) its frontier and the facts it holds back, the frontier
 * handed to CardPatterns so far, and CardPatterns' skeleton; the card table is
 * CardPatterns' (card-patterns-state.ts). The held facts stay in the skeleton:
 * they wait at most until the slowest source's frontier passes them.
 *
 * Not stored:
 * - the facts a source already released (before its `head`): they are never
 *   read again, so a restored FIFO holds the pending facts only, head 0;
 * - `lastActivity`, a wall-clock instant: meaningless in another process or
 *   after a restart. A restored source counts as active from the restore on
 *   (lastActivity = now()), so for idleMs after a restore the stage waits for
 *   every source rather than flag a slow one's facts late: the conservative
 *   choice, and the one the exact result needs when the sources are not idle.
 */
import type { CardPatterns } from '../../detect/patterns/card-patterns.js';
import { checkFresh, checkVersion, decodeFact, encodeFact, PATTERN_STATE_VERSION, type FactTuple } from '../../detect/patterns/state/codec.js';
import type { CardItem, CardPatternsSkeleton } from '../../detect/patterns/state/card-patterns-state.js';
import type { CardFact } from '../../detect/patterns/types.js';
import { snapNum, unsnapNum, type SnapNum } from '../../util/snapshot-num.js';

export interface CardStageSourceState {
  partition: number;
  frontier: SnapNum;
  /** Facts held back (not yet handed to CardPatterns), in FIFO order: [card_token, fact]. */
  held: [card_token: string, fact: FactTuple][];
}

export interface CardStageSkeleton {
  v: typeof PATTERN_STATE_VERSION;
  /** The frontier handed to CardPatterns so far. */
  frontier: SnapNum;
  sources: CardStageSourceState[];
  patterns: CardPatternsSkeleton;
}

/** The full form: the skeleton and every card (CardStage.snapshot()). */
export interface CardStageState {
  skeleton: CardStageSkeleton;
  cards: [card_token: string, item: CardItem][];
}

/** What card-stage.ts lets the checkpoint see of a source. */
export interface SourceSlot {
  fifo: CardFact[];
  head: number;
  frontier: number;
}

export function cardStageSkeleton(frontier: number, sources: ReadonlyMap<number, SourceSlot>, patterns: CardPatterns): CardStageSkeleton {
  return {
    v: PATTERN_STATE_VERSION,
    frontier: snapNum(frontier),
    sources: [...sources].map(([partition, s]) => ({
      partition, frontier: snapNum(s.frontier), held: s.fifo.slice(s.head).map((f) => [f.card_token, encodeFact(f)]),
    })),
    patterns: patterns.captureSkeleton(),
  };
}

/**
 * Fills a fresh stage: `source(p)` creates each source (in the skeleton's
 * order, so the stage's Map order is the same) with lastActivity = now().
 * Returns the stage frontier to set.
 */
export function restoreCardStage(
  skeleton: unknown, cards: ReadonlyMap<string, unknown>, fresh: boolean, source: (partition: number) => SourceSlot, patterns: CardPatterns,
): number {
  const s = skeleton as CardStageSkeleton;
  checkVersion('CardStage', s?.v);
  checkFresh('CardStage', fresh);
  for (const x of s.sources) {
    const src = source(x.partition);
    src.fifo = x.held.map(([token, t]) => decodeFact(t, token));
    src.head = 0;
    src.frontier = unsnapNum(x.frontier);
  }
  patterns.restoreFrom(s.patterns, cards);
  return unsnapNum(s.frontier);
}
