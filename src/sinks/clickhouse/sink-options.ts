/** ClickHouseSink's options, the events it reports and the figures it keeps. */
import type { Rules } from '../../config/rules.js';
import { PosguardError } from '../../errors.js';
import { TABLES, type TableName } from './tables.js';

export interface ClickHouseSinkOptions {
  /** Rows per insert, per table. Default 10,000. */
  readonly batchRows?: number;
  /** A buffered row is written at the latest this long after it arrived. Default 1,000 ms. */
  readonly flushIntervalMs?: number;
  /** drain() waits while more rows than this are buffered or being written. Default 100,000. */
  readonly highWaterRows?: number;
  /** First retry delay; doubles per failure up to maxRetryDelayMs, with jitter. Default 100 ms. */
  readonly initialRetryDelayMs?: number;
  /** Default 10,000 ms. */
  readonly maxRetryDelayMs?: number;
  /**
   * Tables not to write at all (counted in stats().rowsSkipped). events_raw is
   * most of the rows and most of the write cost; a bulk replay that does not
   * need the evidence copy can leave it out.
   */
  readonly skipTables?: readonly TableName[];
  /** While writes keep failing, a reminder is logged this often. Default 30,000 ms. */
  readonly failureLogIntervalMs?: number;
  readonly log?: SinkLogger;
  /** Instrumentation: every write, failure, recovery and refusal, for metrics. */
  readonly onEvent?: (e: ClickHouseSinkEvent) => void;
  /** Called by close() after the last write, e.g. to close the client. */
  readonly onClose?: () => Promise<void>;
  /**
   * The rules in force (a RulesHolder's source). Given, every anomaly row
   * records them (rules_version, rules: migration 008); decisions and their
   * emission are synchronous, so these are the rules the decision used.
   */
  readonly rules?: () => Rules;
}

export type SinkLogger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>) => void;

export type ClickHouseSinkEvent =
  | { readonly type: 'batch_written'; readonly table: TableName; readonly rows: number; readonly ms: number }
  | { readonly type: 'write_failed'; readonly table: TableName; readonly rows: number; readonly attempt: number; readonly retryInMs: number; readonly error: string }
  | { readonly type: 'recovered'; readonly table: TableName; readonly downMs: number; readonly failures: number }
  | { readonly type: 'batch_split'; readonly table: TableName; readonly rows: number; readonly error: string }
  | { readonly type: 'row_rejected'; readonly table: TableName; readonly error: string }
  | { readonly type: 'pan_refused'; readonly table: TableName };

export interface ClickHouseSinkStats {
  readonly batchesWritten: number;
  readonly rowsWritten: number;
  readonly rowsWrittenByTable: Readonly<Record<TableName, number>>;
  /** Failed insert attempts (each retry counts). */
  readonly writeFailures: number;
  /** Rows buffered or being written. */
  readonly backlogRows: number;
  readonly highWaterRows: number;
  /** Wall-clock ms when the current run of failures began; null while writes succeed. */
  readonly failingSince: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  /** Records refused because a card field looked like a clear card number. */
  readonly panRefused: number;
  /** Rows ClickHouse refused on their own (data errors, a limit even one row breaks), moved to dead_letters whole (reason store_refused). */
  readonly rowsRejected: number;
  /** rowsRejected by the table the row was for. */
  readonly rowsRefusedByTable: Readonly<Record<TableName, number>>;
  /** Rows lost: refused dead letters, or everything left when abort() was called. */
  readonly rowsDropped: number;
  /** Rows for tables in skipTables, not written by choice. */
  readonly rowsSkipped: number;
}

export const DEFAULTS = {
  batchRows: 10_000,
  flushIntervalMs: 1_000,
  highWaterRows: 100_000,
  initialRetryDelayMs: 100,
  maxRetryDelayMs: 10_000,
  failureLogIntervalMs: 30_000,
  skipTables: [] as readonly TableName[],
} as const;

export type ResolvedOptions = Required<Omit<ClickHouseSinkOptions, 'log' | 'onEvent' | 'onClose' | 'rules'>>;

/** Defaults filled in, checked once (naming the bad option), frozen. */
export function resolveOptions(options: ClickHouseSinkOptions): ResolvedOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k !== 'log' && k !== 'onEvent' && k !== 'onClose' && k !== 'rules'));
  const o = Object.freeze({ ...DEFAULTS, ...given }) as ResolvedOptions;
  validate(o);
  return o;
}

function validate(o: ResolvedOptions): void {
  for (const t of o.skipTables) {
    if (!(TABLES as readonly string[]).includes(t)) throw new PosguardError('PG_CONFIG_INVALID', `clickhouse sink skipTables: unknown table ${JSON.stringify(t)} (tables: ${TABLES.join(', ')})`);
  }
  const positive = ['batchRows', 'flushIntervalMs', 'highWaterRows', 'initialRetryDelayMs', 'maxRetryDelayMs', 'failureLogIntervalMs'] as const;
  for (const k of positive) {
    if (!Number.isInteger(o[k]) || o[k] <= 0) throw new PosguardError('PG_CONFIG_INVALID', `clickhouse sink ${k}: expected a positive integer, got ${o[k]}`);
  }
  if (o.highWaterRows < o.batchRows) {
    throw new PosguardError('PG_CONFIG_INVALID', `clickhouse sink highWaterRows (${o.highWaterRows}) is below batchRows (${o.batchRows}): a full batch would block the input before it is written; raise highWaterRows to at least ${o.batchRows}`);
  }
  if (o.maxRetryDelayMs < o.initialRetryDelayMs) {
    throw new PosguardError('PG_CONFIG_INVALID', `clickhouse sink maxRetryDelayMs (${o.maxRetryDelayMs}) is below initialRetryDelayMs (${o.initialRetryDelayMs})`);
  }
}
