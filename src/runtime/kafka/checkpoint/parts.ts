/**
 * The capture/restore calls of the parts other branches own (issue 13,
 * contract 13b): the engines and the shared duplicate index with their
 * attempt table (src/engine/state, branch ck-eng), fault spikes
 * (src/detect/patterns/state) and the card stage with its card table
 * (card-stage*.ts, branch ck-pat). One place, so the barrier and the restore
 * read as plain steps, and the only file to change when those APIs land.
 *
 * A capture session is one barrier: every skeleton, then (after the last
 * skeleton: the attempt table hands out what the skeletons reached) the item
 * tables as full captures or deltas, then the attempt table's own state. A
 * restore session is the reverse: the merged item tables first, then the
 * skeletons; it throws on any inconsistency (the caller falls back).
 *
 * ADAPTER (until ck-eng / ck-pat are merged): today's parts have no item
 * tables, so a skeleton is still the part's whole snapshot and the tables are
 * empty (a "full" capture of nothing). The chain, segments and merge around
 * them are the real ones. The lead replaces the bodies marked CONTRACT with
 * the contract's calls (listed beside each).
 */
import { Engine } from '../../../engine/engine.js';
import type { EngineOptions } from '../../../engine/engine-types.js';
import type { SharedDuplicates } from '../../../engine/shared-duplicates.js';
import { AttemptRefs, type EngineState, type SharedDuplicatesState } from '../../../engine/state/index.js';
import type { TerminalFaultSpikes } from '../../../detect/patterns/fault-spike.js';
import type { FaultSpikeState } from '../../../detect/patterns/state/fault-spike-state.js';
import type { ItemDelta } from '../../../util/item-delta.js';
import type { CardStage } from '../card-stage.js';
import type { CardStageState } from '../card-stage-state.js';
import type { GenerationParts } from '../partition-feed.js';
import type { ItemTables, MergedItems } from './segment.js';

export interface CaptureSession {
  engine(e: Engine, engineId: number): unknown;
  shared(d: SharedDuplicates): unknown;
  stage(c: CardStage): unknown;
  /** After every skeleton. `full`: every item (a base), else what changed since the previous capture. */
  items(full: boolean): ItemTables;
  /** After items(): the attempt table's own state (its stable-id counter). */
  tableState(): unknown;
  /** The barrier failed between skeletons and items (ck-eng: table.discardRound()). */
  abandon(): void;
}

export interface RestoreSession {
  stage(c: CardStage, skeleton: unknown): void;
  engine(opts: EngineOptions, skeleton: unknown, engineId: number): Engine;
  shared(d: SharedDuplicates, skeleton: unknown): void;
  /** After every part: throws when an item was left unreached (ck-eng: table.checkComplete()). */
  finish(): void;
}

const nothing = (full: boolean): ItemDelta => ({ full, upserts: [], removes: [] });

/**
 * CONTRACT: the generation's AttemptTable (ck-eng: one per process, living as
 * long as its engines), e.g. a WeakMap<SharedDuplicates, AttemptTable> keyed by
 * `parts.duplicates` (one per generation); today a per-barrier AttemptRefs
 * names attempts across engines.
 */
export function captureSession(parts: GenerationParts): CaptureSession {
  const refs = new AttemptRefs();
  return {
    engine: (e, id) => e.snapshot(refs, id), // CONTRACT: e.captureSkeleton(table, id)
    shared: (d) => d.snapshot(refs), // CONTRACT: d.captureSkeleton(table)
    stage: (c) => c.snapshot(), // CONTRACT: c.captureSkeleton()
    // CONTRACT: cards = parts.stage.captureCards(full) first (it may answer full where a delta was asked),
    // then { attempts: table.capture(full || cards.full), cards }: a base when both are full.
    items: (full) => (void parts, { attempts: nothing(full), cards: nothing(full) }),
    tableState: () => null, // CONTRACT: table.toState()
    abandon: () => undefined, // CONTRACT: table.discardRound()
  };
}

/**
 * CONTRACT: AttemptTable.restore(tableState, items.attempts) first, kept as the
 * generation's table (keyed by its duplicate index, as captureSession finds it), then the skeletons against it.
 */
export function restoreSession(tableState: unknown, items: MergedItems, duplicates: SharedDuplicates): RestoreSession {
  void tableState;
  void duplicates;
  if (items.attempts.size > 0 || items.cards.size > 0) throw new Error(`the chain holds ${items.attempts.size} attempts and ${items.cards.size} cards, and this build's parts take none`);
  const refs = new AttemptRefs();
  return {
    stage: (c, s) => c.restore(s as CardStageState), // CONTRACT: c.restoreFrom(s, items.cards)
    engine: (opts, s, id) => Engine.restore(opts, s as EngineState, refs, id), // CONTRACT: Engine.restoreFrom(opts, s, table, id)
    shared: (d, s) => d.restore(s as SharedDuplicatesState, refs), // CONTRACT: d.restoreFrom(s, table)
    finish: () => undefined, // CONTRACT: table.checkComplete()
  };
}

export const snapshotSpikes = (f: TerminalFaultSpikes): unknown => f.snapshot();
export const restoreSpikes = (f: TerminalFaultSpikes, state: unknown): void => f.restore(state as FaultSpikeState);
