/** What a backtest is asked (the command's flags) and what it finds (src/runtime/backtest-job.ts runs it; ./render.ts prints it). */
import type { Rules } from '../config/rules.js';
import type { DiffEntry, FinalStates } from './diff.js';
import type { SourceStats } from './events-source.js';
import type { LatestLabel } from './labels.js';
import type { Period } from './period.js';

export interface BacktestOptions {
  readonly baseline: Rules;
  readonly candidate: Rules;
  /** Counted period (epoch ms); a missing bound defaults to the edge of the data in events_raw. */
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Overrides of the computed margins (docs/backtest.md, "Edges"). */
  readonly warmupMs?: number;
  readonly settleMs?: number;
  readonly pageRows?: number;
  readonly maxAnomalies?: number;
}

export interface BacktestResult {
  readonly period: Period;
  /** The event_time range events_raw holds (null: empty). */
  readonly data: { readonly minMs: number; readonly maxMs: number } | null;
  readonly events: number;
  /** Rows whose payload is not a valid event of its stream (skipped, counted). */
  readonly invalidRows: number;
  readonly source: SourceStats;
  readonly elapsedMs: number;
  readonly baseline: FinalStates;
  readonly candidate: FinalStates;
  readonly entries: readonly DiffEntry[];
  readonly labels: ReadonlyMap<string, LatestLabel>;
}
