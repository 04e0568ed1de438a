/**
 * The capture/restore calls of the checkpointed parts (issue 13, incremental
 * checkpoints): the engines and the shared duplicate index with their
 * attempt table (src/engine/state), fault spikes (src/detect/patterns/state)
 * and the card stage with its card table (card-stage*.ts). One place, so the
 * barrier and the restore read as plain steps.
 *
 * A capture session is one barrier: every skeleton, then (after the last
 * skeleton: the attempt table hands out what the skeletons reached) the item
 * tables as full captures or deltas, then the attempt table's own state. A
 * restore session is the reverse: the merged item tables first, then the
 * skeletons; it throws on any inconsistency (the caller falls back).
 */
import { Engine } from '../../../engine/engine.js';
import type { EngineOptions } from '../../../engine/engine-types.js';
import type { SharedDuplicates } from '../../../engine/shared-duplicates.js';
import { AttemptTable } from '../../../engine/state/index.js';
import type { TerminalFaultSpikes } from '../../../detect/patterns/fault-spike.js';
import type { FaultSpikeState } from '../../../detect/patterns/state/fault-spike-state.js';
import type { CardStage } from '../card-stage.js';
import type { GenerationParts } from '../partition-feed.js';
import type { ItemTables } from './segment.js';
import type { MergedItems } from './segment-read.js';

export interface CaptureSession {
  engine(e: Engine, engineId: number): unknown;
  shared(d: SharedDuplicates): unknown;
  stage(c: CardStage): unknown;
  /** After every skeleton. `full`: every item (a base), else what changed since the previous capture. */
  items(full: boolean): ItemTables;
  /** After items(): the attempt table's own state (its stable-id counter). */
  tableState(): unknown;
  /** The barrier failed between skeletons and items. */
  abandon(): void;
}

export interface RestoreSession {
  stage(c: CardStage, skeleton: unknown): void;
  engine(opts: EngineOptions, skeleton: unknown, engineId: number): Engine;
  shared(d: SharedDuplicates, skeleton: unknown): void;
  /** After every part: throws when an item was left unreached. */
  finish(): void;
}

/**
 * One attempt table per generation (it lives as long as the engines),
 * found by the generation's duplicate index (one per generation, task-manager
 * buildGeneration). Weak: a dropped generation takes its table with it.
 */
const tables = new WeakMap<SharedDuplicates, AttemptTable>();

function tableOf(d: SharedDuplicates): AttemptTable {
  let t = tables.get(d);
  if (t === undefined) tables.set(d, (t = new AttemptTable()));
  return t;
}

export function captureSession(parts: GenerationParts): CaptureSession {
  const table = tableOf(parts.duplicates);
  return {
    engine: (e, id) => e.captureSkeleton(table, id),
    shared: (d) => d.captureSkeleton(table),
    stage: (c) => c.captureSkeleton(),
    items: (full) => {
      // The card tracker may answer full where a delta was asked (after it overflowed): then attempts full too, a base.
      const cards = parts.stage.captureCards(full);
      return { attempts: table.capture(full || cards.full), cards };
    },
    tableState: () => table.toState(),
    abandon: () => table.discardRound(),
  };
}

/**
 * The heavy part of a restore, done before the (synchronous) build and
 * handing the event loop back every ~20 ms: the attempt table built item by
 * item. Measured before: a build of 350,150 attempts and 170,000 cards took
 * 7.4 s in one piece, longer than the bench's 6 s session, and the member
 * lost the group at every rejoin. Card items are not parsed here: cards
 * restore lazily (card-patterns-state.ts), their text kept until first touched.
 */
export async function prepareRestore(tableState: unknown, items: MergedItems): Promise<AttemptTable> {
  return AttemptTable.restoreYielding(tableState, items.attempts);
}

/** `table`: what prepareRestore built from the same items. */
export function restoreSession(table: AttemptTable, items: MergedItems, duplicates: SharedDuplicates): RestoreSession {
  tables.set(duplicates, table);
  return {
    stage: (c, s) => c.restoreFrom(s, items.cards),
    engine: (opts, s, id) => Engine.restoreFrom(opts, s, table, id),
    shared: (d, s) => d.restoreFrom(s, table),
    finish: () => table.checkComplete(),
  };
}

export const snapshotSpikes = (f: TerminalFaultSpikes): unknown => f.snapshot();
export const restoreSpikes = (f: TerminalFaultSpikes, state: unknown): void => f.restore(state as FaultSpikeState);
