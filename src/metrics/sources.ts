/**
 * What the metrics read, as narrow structural views: the engine, the card
 * pattern detector, the ClickHouse sink's stats and a Kafka consumer's lag.
 * Views rather than the classes themselves, so `posguard demo`, `posguard run`
 * and tests can all hand in what they have (or nothing: a family whose source
 * is missing exports no series).
 */
import type { Stream } from '../events/index.js';

export interface EngineCountersView {
  readonly events: Readonly<Record<Stream, number>>;
  readonly duplicates: Readonly<Record<Stream, number>>;
  readonly late: Readonly<Record<Stream, number>>;
  readonly tooLate: Readonly<Record<Stream, number>>;
  readonly linkConflicts: number;
  readonly decisions: number;
}

/** src/engine/engine.ts Engine, as far as metrics read it. */
export interface EngineView {
  readonly counters: EngineCountersView;
  /** Combined event-time watermark, epoch ms (−∞ before every stream spoke, +∞ after end()). */
  readonly watermark: number;
  openAttempts(): number;
  /** Per-stream watermarks, epoch ms (−∞ for a stream not heard from yet). */
  watermarks?(): Readonly<Record<Stream, number>>;
}

/** src/detect/patterns/card-patterns.ts CardPatterns, as far as metrics read it. */
export interface CardPatternsView {
  activeCards(): number;
}

/** ClickHouseSink.stats(), the fields metrics read. */
export interface SinkStatsView {
  readonly rowsWrittenByTable: Readonly<Record<string, number>>;
  readonly batchesWritten: number;
  readonly writeFailures: number;
  readonly backlogRows: number;
  readonly highWaterRows: number;
  readonly failingSince: number | null;
  readonly panRefused: number;
  readonly rowsRejected: number;
  /** Rows refused on their own by the table they were for (absent: no series). */
  readonly rowsRefusedByTable?: Readonly<Record<string, number>>;
  readonly rowsDropped: number;
}

/** ClickHouseSink's onEvent events that metrics use (the others are ignored). */
export type SinkEventView =
  | { readonly type: 'batch_written'; readonly table: string; readonly rows: number; readonly ms: number }
  | { readonly type: 'row_rejected'; readonly table: string }
  | { readonly type: 'pan_refused'; readonly table: string }
  | { readonly type: string; readonly table: string };

/** One partition's lag (log-end offset − the consumer's position; null: not held here) and commit trail (log-end − committed). */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number | null;
  readonly commitTrail?: number;
}

/** Called at scrape time; may fetch offsets (async). */
export type ConsumerLagSource = () => Iterable<PartitionLag> | Promise<Iterable<PartitionLag>>;

/** The engine's per-stream watermarks, when the engine offers them. */
export function perStreamWatermarks(engine: EngineView): Readonly<Record<Stream, number>> | null {
  return typeof engine.watermarks === 'function' ? engine.watermarks() : null;
}

/** src/suppress/suppressor.ts Suppressor, as far as metrics read it. */
export interface SuppressionsView {
  readonly stats: {
    readonly active: number;
    readonly leftOut: number;
    readonly reloads: number;
    readonly reloadFailures: number;
  };
}

/**
 * What a checkpoint store reports (the shape of ingest/checkpoint-store.ts
 * CheckpointObserver, so the runtime passes `metrics.checkpoint` as its
 * observer), plus `forget` for a partition this process no longer holds.
 */
export interface CheckpointEventsView {
  written(e: { readonly partition: number; readonly bytes: number; readonly chunks: number; readonly durationMs: number; readonly takenAtWallMs: number }): void;
  writeFailed(e: { readonly partition: number }): void;
  read(e: {
    readonly partition: number;
    readonly result: string;
    readonly skipped: readonly string[];
    readonly durationMs: number;
    readonly bytes: number;
    readonly takenAtWallMs: number | null;
  }): void;
  forget(partition: number): void;
  /** A restore attempt's result: restored, or the fallback reason (runtime/kafka/checkpoint/restore.ts). */
  restore(result: string): void;
  /** A barrier's segment once its checkpoint is durable (runtime/kafka/checkpoint/checkpointer.ts). */
  segment(e: { readonly kind: 'base' | 'delta'; readonly bytes: number; readonly upserts: number; readonly removes: number }): void;
}
