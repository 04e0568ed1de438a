/**
 * Incremental checkpoints of the card table (issue 13, STATE_FORMAT 2), as the
 * checkpoint chain uses them: at each cut a skeleton and a delta capture;
 * the delta is applied to a running item map (a full capture replaces it,
 * upserts overwrite, removes delete) that must then deep-equal a full
 * capture taken at the same cut; at the cuts chosen, a fresh detector is
 * restored from skeleton + map and takes the rest (its own deltas continue
 * the same map). Probes and the final state are compared with the cards in
 * key order: a restored detector's Map order is the item map's, and nothing
 * observable depends on it.
 */
import { expect } from 'vitest';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { itemValue, JsonText, type ItemDelta } from '../../../src/util/item-delta.js';
import { expectPlainData, roundTrip, type Run } from './snapshot-helpers.js';

/** The full form every card-table owner gives (CardPatterns, CardStage). */
export interface FullForm {
  skeleton: unknown;
  cards: [string, unknown][];
}

export interface DeltaCapturable {
  captureSkeleton(): unknown;
  captureCards(full: boolean): ItemDelta;
  restoreFrom(skeleton: unknown, cards: ReadonlyMap<string, unknown>): void;
  snapshot(): FullForm;
}

/** What the captures of one run looked like. */
export interface CaptureStats {
  /** Captures asked as deltas that answered full (the first of a detector never restored). */
  bases: number;
  deltas: number;
  /** Items upserted by the deltas, and the table sizes at those cuts (what full captures would have written). */
  upserted: number;
  tableItems: number;
  removed: number;
  restores: number;
  /** Restores from the items' JSON bytes (the others from plain items). */
  textRestores: number;
  /** Summed at each cut, before its capture: cards an earlier restore left as text and nothing touched since (when the detector tells). */
  undecoded: number;
}

const PROBE_EVERY = 40;

/** The full form with its cards in key order. */
export function canonical(s: FullForm): FullForm {
  return { skeleton: s.skeleton, cards: [...s.cards].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** Applies one capture to the running item map; returns how many items it upserted. */
function applyCapture(table: Map<string, unknown>, delta: ItemDelta): number {
  if (delta.full) {
    expect(delta.removes).toEqual([]);
    table.clear();
  }
  const keys = new Set<string>();
  for (const [key, item] of delta.upserts) {
    // Cards come as their JSON text (cardJson), the same text as the plain item's: the table keeps the item it reads as.
    const value = itemValue(item);
    expectPlainData(value);
    keys.add(key);
    table.set(key, roundTrip(value));
  }
  expect(delta.removes.filter((k) => keys.has(k)), 'a key both upserted and removed').toEqual([]);
  for (const key of delta.removes) table.delete(key);
  return keys.size;
}

/**
 * Runs `ops`; before op i for each i in `cuts` (i = ops.length: after the last) a skeleton and a delta are
 * captured and checked as above; at the k-th cut (0-based) a fresh detector is restored when `restoreAt(k)`.
 */
export function driveDeltas<D extends DeltaCapturable, O>(
  make: (emit: (a: Anomaly) => void) => D, ops: readonly O[], apply: (d: D, op: O) => void, cuts: readonly number[], restoreAt: (k: number) => boolean,
): Run<FullForm> & { stats: CaptureStats } {
  const out: Anomaly[] = [];
  const emit = (a: Anomaly): void => void out.push(a);
  let d = make(emit);
  const table = new Map<string, unknown>();
  const stats: CaptureStats = { bases: 0, deltas: 0, upserted: 0, tableItems: 0, removed: 0, restores: 0, textRestores: 0, undecoded: 0 };
  const states = new Map<number, FullForm>();
  let k = 0;
  const cut = (i: number): void => {
    stats.undecoded += (d as { undecodedCards?: () => number }).undecodedCards?.() ?? 0;
    const skeleton = roundTrip(d.captureSkeleton());
    expectPlainData(skeleton);
    const delta = d.captureCards(false);
    const upserted = applyCapture(table, delta);
    if (delta.full) stats.bases++;
    else {
      expect(upserted + delta.removes.length, 'a delta with more items than the table (it should have come whole)').toBeLessThanOrEqual(table.size);
      stats.deltas++;
      stats.upserted += upserted;
      stats.tableItems += table.size;
      stats.removed += delta.removes.length;
    }
    const full = roundTrip(d.snapshot());
    expect(skeleton, `cut at op ${i}: skeleton`).toEqual(full.skeleton);
    expect(table, `cut at op ${i}: base + deltas = full capture`).toEqual(new Map(full.cards));
    states.set(i, full);
    if (restoreAt(k++)) {
      d = make(emit);
      // Every other restore from the items' JSON text, as a checkpoint's segment gives them: cards restore lazily then.
      const fromText = stats.restores % 2 === 0;
      d.restoreFrom(skeleton, fromText ? new Map([...table].map(([key, v]) => [key, new JsonText(JSON.stringify(v))])) : new Map(table));
      stats.restores++;
      if (fromText) stats.textRestores++;
      expect(canonical(d.snapshot())).toEqual(canonical(full));
    }
  };
  const emitted: number[] = [];
  const probes: FullForm[] = [];
  ops.forEach((op, i) => {
    if (cuts.includes(i)) cut(i);
    apply(d, op);
    emitted.push(out.length);
    if (i % PROBE_EVERY === PROBE_EVERY - 1) probes.push(canonical(d.snapshot()));
  });
  if (cuts.includes(ops.length)) cut(ops.length);
  return { out, emitted, states, probes, final: canonical(d.snapshot()), stats };
}

/**
 * Checks the captures were real deltas: some asked, smaller than the table, all after one base; with
 * `removes`, some with removes (in a table of a few items, a delta with removes often outweighs the table
 * and comes whole).
 */
export function expectRealDeltas(stats: CaptureStats, removes = true): void {
  expect(stats.bases).toBeGreaterThan(0);
  expect(stats.deltas).toBeGreaterThan(stats.bases);
  expect(stats.upserted).toBeGreaterThan(0);
  expect(stats.upserted).toBeLessThan(stats.tableItems);
  if (removes) expect(stats.removed).toBeGreaterThan(0);
}
