/**
 * Fake run parts for the checkpointer's tests: two partitions, an item table
 * with change tracking (as the engine's and card patterns' trackers behave: a delta is
 * what changed since the previous capture; a full capture lists everything),
 * and the in-memory store. The generation can be replaced (a rebuild).
 */
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { RebuildPlan } from '../../src/ingest/kafka/rebuild.js';
import { ChainPolicy } from '../../src/runtime/kafka/checkpoint/chain.js';
import { Checkpointer, type SegmentWrittenEvent } from '../../src/runtime/kafka/checkpoint/checkpointer.js';
import type { BarrierSnapshot } from '../../src/runtime/kafka/checkpoint/snapshot.js';
import { STATE_FORMAT, type StateRecord } from '../../src/runtime/kafka/checkpoint/state.js';
import type { CommitPlan } from '../../src/ingest/kafka/partition-targets.js';
import type { ItemDelta } from '../../src/util/item-delta.js';
import { createLogger } from '../../src/util/log.js';
import { MemoryCheckpointStore } from './memory-checkpoint-store.js';

/** A keyed table that remembers what changed since its last capture. */
export class TrackedTable {
  readonly items = new Map<string, unknown>();
  private readonly changed = new Set<string>();
  private readonly gone = new Set<string>();
  /** Answers the next capture full whatever is asked (a tracker that overflowed) / a delta (a broken part). */
  answer: 'full' | 'delta' | null = null;

  set(k: string, v: unknown): void {
    this.items.set(k, v);
    this.changed.add(k);
    this.gone.delete(k);
  }

  delete(k: string): void {
    this.items.delete(k);
    this.changed.delete(k);
    this.gone.add(k);
  }

  capture(asked: boolean): ItemDelta {
    const full = this.answer === null ? asked : this.answer === 'full';
    this.answer = null;
    const items = this.items;
    const changed = [...this.changed];
    const removes = full ? [] : [...this.gone];
    this.changed.clear();
    this.gone.clear();
    // A generator: items are serialized one by one.
    const upserts = function* (): Generator<readonly [string, unknown]> {
      if (full) yield* items;
      else for (const k of changed) yield [k, items.get(k)];
    };
    return { full, upserts: upserts(), removes };
  }
}

export const record = (p: number, barrier: number, partitions = [0, 1]): StateRecord => ({
  v: STATE_FORMAT, barrier, epoch: 1, task: {} as StateRecord['task'], engineId: p, engine: { p }, faultSpikes: {},
  process: p === partitions[0] ? { partitions, cardStage: {}, sharedDuplicates: {}, attemptTable: { next: barrier }, ledger: [] } : null,
});

export function lines(): { log: ReturnType<typeof createLogger>; got: { level: string; msg: string }[] } {
  const got: { level: string; msg: string }[] = [];
  const log = createLogger({ level: 'info', destination: { write: (l: string) => void got.push(JSON.parse(l) as { level: string; msg: string }) } });
  return { log, got };
}

export interface Harness {
  readonly ck: Checkpointer;
  readonly store: MemoryCheckpointStore;
  readonly steps: string[];
  readonly commits: CommitPlan[];
  readonly got: { level: string; msg: string }[];
  readonly restores: string[];
  readonly segments: SegmentWrittenEvent[];
  /** The live tables of the current generation. */
  attempts: TrackedTable;
  cards: TrackedTable;
  /** A new generation (a rebuild): fresh tables, fresh tracking. */
  newGeneration(): void;
}

/** `store`: a store another harness wrote (this one is the restarted process). */
/** `clock`: a settable wall clock; `holdMs` is added to it while a barrier holds the input (the hold budget's measure). */
export function harness(o: { maxSegments?: number; chunkBytes?: number; store?: MemoryCheckpointStore; epoch?: number; clock?: { ms: number; holdMs: number }; backlogged?: () => boolean; stateItems?: () => number } = {}): Harness {
  const store = o.store ?? new MemoryCheckpointStore(o.chunkBytes ?? 64);
  const steps = store.steps;
  const commits: CommitPlan[] = [];
  const restores: string[] = [];
  const segments: SegmentWrittenEvent[] = [];
  const { log, got } = lines();
  let generation = 1;
  const h = {
    store, steps, commits, got, restores, segments, attempts: new TrackedTable(), cards: new TrackedTable(),
    newGeneration() {
      generation++;
      h.attempts = new TrackedTable();
      h.cards = new TrackedTable();
    },
  } as Omit<Harness, 'ck'> & { ck?: Checkpointer };
  const metrics = { restore: (r: string) => void restores.push(r), segment: (e: SegmentWrittenEvent) => void segments.push(e) };
  const now = o.clock === undefined ? Date.now : () => o.clock!.ms;
  h.ck = new Checkpointer({ group: 'g', rules: () => DEFAULT_RULES, store, log, now, metrics, chain: new ChainPolicy(o.maxSegments), backlogged: o.backlogged, stateItems: o.stateItems }, {
    snapshot: (barrier, items): BarrierSnapshot => {
      steps.push(`snapshot ${barrier}`);
      const full = items.full(generation);
      items.consume({ attempts: h.attempts.capture(full), cards: h.cards.capture(full) });
      const meta = { offsets: { terminal: 5, gateway: 6, bank: 7 }, takenAtEventMs: 1, takenAtWallMs: 2 };
      return {
        barrier, writer: { partition: 0, epoch: o.epoch ?? 1 },
        records: [0, 1].map((p) => ({ key: { group: 'g', partition: p }, record: record(p, barrier), meta })),
        plan: { entries: [], committed: () => void steps.push('committed'), current: () => true },
      };
    },
    atBatchBoundary: async (fn) => {
      steps.push('hold');
      const r = await fn();
      if (o.clock !== undefined) o.clock.ms += o.clock.holdMs;
      return r;
    },
    flushOutputs: async () => void steps.push('flush'),
    commitExactly: async (plan) => {
      steps.push('commit');
      commits.push(plan);
    },
  });
  return h as Harness;
}

/** The plans of a restart of this process (epoch 2; the commits never named a checkpoint, so the newest of epoch 1 is taken). */
export const restartPlans = (): RebuildPlan[] => [0, 1].map((p) => ({
  p, epoch: 2, floor: 0, starts: { terminal: 0, gateway: 0, bank: 0 }, checkpoint: null, committed: { terminal: 5, gateway: 6, bank: 7 }, logStart: { terminal: 0, gateway: 0, bank: 0 },
}));
