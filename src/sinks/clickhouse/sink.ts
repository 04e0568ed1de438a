/**
 * ClickHouseSink: buffers records per table and writes them in batches, by
 * size (default 10,000 rows) or age (default 1 s), whichever comes first.
 *
 * Effectively once, in three layers:
 *  1. Every batch carries insert_deduplication_token = hash(table, rows), and
 *     every table keeps a non_replicated_deduplication_window, so a batch that
 *     is retried after a timeout (it may have been written) is stored once.
 *  2. Every row has a deterministic key (anomaly_id+version, txn_key,
 *     event_id, dead_letter_id) in a ReplacingMergeTree, so a replay of the
 *     same input cut into different batches still shows one row per key to
 *     FINAL / anomalies_current.
 *  3. The per-minute aggregates count distinct ids, so duplicates that reach
 *     them change nothing either.
 *
 * Backpressure: one insert in flight per table, in order (table-batches.ts
 * batches and writes; this file accounts for what happens). While ClickHouse fails,
 * the batch is retried with capped exponential backoff and nothing is
 * dropped; rows keep buffering until the backlog reaches the high-water mark,
 * and from then on drain() does not resolve, which stops the input. The
 * failure is logged once when it starts, every 30 s while it lasts, and when
 * it ends, and stats() exposes it for metrics.
 *
 * Card data: a record with a clear card number in any string field, or a
 * masked_pan that is not masked, never reaches a table: the record goes to
 * dead_letters instead, with the payload PAN-masked (the validator refuses these upstream; this is the
 * second line).
 */
import type { Anomaly } from '../../events/anomaly.js';
import type { TransactionRecord } from '../../events/transaction.js';
import { PosguardError } from '../../errors.js';
import { maskPans, scrubPans } from '../../util/pan.js';
import type { DeadLetter, RawEventRecord, Sink } from '../types.js';
import { backoff } from './backoff.js';
import { cardDataProblem } from './card-data.js';
import { resolveOptions, type ClickHouseSinkEvent, type ClickHouseSinkOptions, type ClickHouseSinkStats, type ResolvedOptions, type SinkLogger } from './sink-options.js';
import { TableBatches, type Pending } from './table-batches.js';
import { TABLES, encodeAnomaly, encodeAnomalyWithRules, encodeDeadLetter, encodeRawEvent, encodeTransaction, type TableName } from './tables.js';
import { rulesStamp } from '../../config/rules-version.js';
import { errorLine, type BatchWriter } from './writer.js';
import { refusedDeadLetter } from './refused-row.js';
import { codeLabel, type WriteErrorClass } from './write-errors.js';
import { logger } from '../../util/log.js';

export type { ClickHouseSinkEvent, ClickHouseSinkOptions, ClickHouseSinkStats, SinkLogger } from './sink-options.js';
export { backoff } from './backoff.js';

/** The one logger's `clickhouse-sink` child; its info lines (each batch written) are debug here. */
function defaultLogger(): SinkLogger {
  const log = logger().child({ component: 'clickhouse-sink' });
  return (level, msg, fields) => (level === 'info' ? log.debug(fields ?? {}, msg) : log[level](fields ?? {}, msg));
}

export class ClickHouseSink implements Sink {
  private readonly opts: ResolvedOptions;
  private readonly log: SinkLogger;
  private readonly batches: TableBatches;
  private backlogRows = 0;
  private drainWaiters: (() => void)[] = [];
  private closed = false;
  private lastFailureLogAt = 0;
  private s = {
    batchesWritten: 0,
    rowsWritten: 0,
    writeFailures: 0,
    failingSince: null as number | null,
    failuresInRun: 0,
    lastError: null as string | null,
    lastErrorAt: null as number | null,
    panRefused: 0,
    rowsRejected: 0,
    rowsDropped: 0,
    rowsSkipped: 0,
  };
  private readonly skip: ReadonlySet<TableName>;
  private readonly byTable = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<TableName, number>;
  private readonly refusedByTable = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<TableName, number>;

  constructor(writer: BatchWriter, private readonly options: ClickHouseSinkOptions = {}) {
    this.opts = resolveOptions(options);
    const log = options.log ?? defaultLogger();
    // ClickHouse's own error texts may quote the row they refused.
    this.log = (level, msg, ctx) => log(level, maskPans(msg), ctx);
    this.skip = new Set(this.opts.skipTables);
    this.batches = new TableBatches(writer, this.opts, options.rules !== undefined, {
      written: (b, ms) => this.written(b, ms),
      backlogShrank: () => this.settleDrain(),
      failed: (b, e, attempt, cls) => this.failed(b, e, attempt, cls),
      split: (b, e) => this.split(b, e),
      refused: (b, e) => this.rejected(b, e),
    });
  }

  // ---- Sink: taking records (synchronous, cheap) ----

  anomaly(a: Anomaly): void {
    if (this.skipped('anomalies')) return;
    const bad = cardDataProblem(a);
    if (bad !== null) return this.refuse('anomalies', a, bad, null);
    const rules = this.options.rules;
    this.add('anomalies', rules === undefined ? encodeAnomaly(a) : encodeAnomalyWithRules(a, rulesStamp(rules())));
  }

  transaction(t: TransactionRecord): void {
    if (this.skipped('transactions')) return;
    const bad = cardDataProblem(t);
    if (bad !== null) return this.refuse('transactions', t, bad, null);
    this.add('transactions', encodeTransaction(t));
  }

  rawEvent(r: RawEventRecord): void {
    this.event('events_raw', r);
  }

  lateEvent(r: RawEventRecord): void {
    this.event('late_events', r);
  }

  deadLetter(d: DeadLetter): void {
    if (this.skipped('dead_letters')) return;
    // Upstream scrubs already; scrubbing is idempotent and dead letters are few.
    this.add('dead_letters', encodeDeadLetter({ ...d, reason: scrubPans(d.reason), payload: scrubPans(d.payload) }));
  }

  private event(table: 'events_raw' | 'late_events', r: RawEventRecord): void {
    if (this.skipped(table)) return;
    const e = r.event;
    const bad = cardDataProblem(e);
    if (bad !== null) return this.refuse(table, e, bad, r);
    this.add(table, encodeRawEvent(r));
  }

  private skipped(table: TableName): boolean {
    if (!this.skip.has(table)) return false;
    this.s.rowsSkipped++;
    return true;
  }

  private refuse(table: TableName, record: unknown, why: string, raw: RawEventRecord | null): void {
    this.s.panRefused++;
    this.emit({ type: 'pan_refused', table });
    this.deadLetter({
      source: raw?.ref?.source ?? `clickhouse-sink:${table}`,
      stream: raw?.stream ?? null,
      line: raw?.ref?.line ?? null,
      partition: raw?.ref?.partition ?? null,
      offset: raw?.ref?.offset ?? null,
      reason: `${why}: refused by the ClickHouse sink (table ${table})`,
      payload: scrubPans(JSON.stringify(record)),
      received_at: Date.now(),
    });
  }

  private add(table: TableName, line: string): void {
    if (this.closed) throw new PosguardError('PG_INTERNAL', `ClickHouse sink: a ${table} row arrived after close()`);
    this.backlogRows++;
    this.batches.add(table, line);
  }

  // ---- what a written, failed or refused batch means ----

  private written(b: Pending, ms: number): void {
    const n = b.rows;
    this.s.batchesWritten++;
    this.s.rowsWritten += n;
    this.byTable[b.table] += n;
    this.backlogRows -= n;
    this.answered(b.table);
    this.emit({ type: 'batch_written', table: b.table, rows: n, ms });
  }

  /** ClickHouse answered for a batch (stored it, or refused its rows as such): a run of failures is over. */
  private answered(table: TableName): void {
    if (this.s.failingSince === null) return;
    const downMs = Date.now() - this.s.failingSince;
    this.log('info', `writes to ClickHouse recovered after ${(downMs / 1000).toFixed(1)} s and ${this.s.failuresInRun} failed attempts`, { table, downMs });
    this.emit({ type: 'recovered', table, downMs, failures: this.s.failuresInRun });
    this.s.failingSince = null;
    this.s.failuresInRun = 0;
  }

  /** Accounts for a failed attempt; returns the delay before the next one, ms. */
  private failed(b: Pending, e: unknown, attempt: number, cls: WriteErrorClass): number {
    const now = Date.now();
    // A setup error (missing table, grants, credentials) holds every row alike: say it is not the data.
    const error = cls === 'setup' ? `${errorLine(e)} (the store is set up wrongly for every row, not a bad row: fix the table or the grants; retrying)` : errorLine(e);
    this.s.writeFailures++;
    this.s.failuresInRun++;
    this.s.lastError = error;
    this.s.lastErrorAt = now;
    const delay = backoff(attempt, this.opts.initialRetryDelayMs, this.opts.maxRetryDelayMs);
    if (this.s.failingSince === null) {
      this.s.failingSince = now;
      this.lastFailureLogAt = now;
      this.log('warn', `cannot write ${b.rows} rows to ${b.table}: ${error}; holding ${this.backlogRows} rows and retrying (input stops at ${this.opts.highWaterRows})`, { table: b.table, error });
    } else if (now - this.lastFailureLogAt >= this.opts.failureLogIntervalMs) {
      this.lastFailureLogAt = now;
      this.log('warn', `ClickHouse still failing after ${((now - this.s.failingSince) / 1000).toFixed(0)} s (${this.s.failuresInRun} attempts): ${error}; holding ${this.backlogRows} rows`, { table: b.table, error });
    }
    this.emit({ type: 'write_failed', table: b.table, rows: b.rows, attempt: attempt + 1, retryInMs: delay, error });
    return delay;
  }

  /** ClickHouse refused a batch as such (table-batches.ts splits it): a store answer, not an outage. */
  private split(b: Pending, e: unknown): void {
    const error = errorLine(e);
    this.answered(b.table);
    this.log('warn', `ClickHouse refused a batch of ${b.rows} rows for ${b.table} (${codeLabel(e) ?? 'no code'}): ${error}; writing it in two halves`, { table: b.table });
    this.emit({ type: 'batch_split', table: b.table, rows: b.rows, error });
  }

  /** ClickHouse refused one row on its own (table-batches.ts isolated it): dead-letter it, whole. */
  private rejected(b: Pending, e: unknown): void {
    const error = errorLine(e);
    this.backlogRows -= 1;
    this.answered(b.table);
    this.emit({ type: 'row_rejected', table: b.table, error });
    if (b.table === 'dead_letters') {
      // Nowhere left to put it; say so loudly rather than loop.
      this.s.rowsDropped++;
      this.log('error', `ClickHouse refused a dead letter, dropped: ${error}`, { table: b.table });
    } else {
      this.s.rowsRejected++;
      this.refusedByTable[b.table]++;
      this.log('warn', `ClickHouse refused a ${b.table} row, kept whole in dead_letters (reason store_refused): ${error}`, { table: b.table });
      this.deadLetter(refusedDeadLetter({ table: b.table, columns: b.columns, line: b.body }, e, Date.now()));
    }
    this.settleDrain();
  }

  // ---- backpressure and lifecycle ----

  backlog(): number {
    return this.backlogRows;
  }

  drain(): Promise<void> {
    if (this.backlogRows < this.opts.highWaterRows || this.batches.aborted) return Promise.resolve();
    // Partly filled buffers count towards the backlog; write them now rather
    // than let the caller wait for the timer.
    this.batches.sealAll();
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.settleDrain();
    });
  }

  private settleDrain(): void {
    if (this.drainWaiters.length === 0) return;
    if (this.backlogRows >= this.opts.highWaterRows && !this.batches.aborted) return;
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }

  flush(): Promise<void> {
    return this.batches.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.batches.stopTimer();
    await this.options.onClose?.();
  }

  /**
   * Gives up: stops retrying and discards what is buffered (counted in
   * rowsDropped and logged). For a shutdown that cannot wait for ClickHouse.
   */
  async abort(reason: string): Promise<void> {
    if (this.batches.aborted) return;
    const lost = this.backlogRows;
    this.s.rowsDropped += lost;
    this.backlogRows = 0;
    this.batches.abort();
    this.settleDrain();
    if (lost > 0) this.log('error', `aborted (${reason}): ${lost} rows were not written to ClickHouse`);
    this.closed = true;
    await this.options.onClose?.();
  }

  stats(): ClickHouseSinkStats {
    return Object.freeze({
      batchesWritten: this.s.batchesWritten,
      rowsWritten: this.s.rowsWritten,
      rowsWrittenByTable: Object.freeze({ ...this.byTable }),
      writeFailures: this.s.writeFailures,
      backlogRows: this.backlogRows,
      highWaterRows: this.opts.highWaterRows,
      failingSince: this.s.failingSince,
      lastError: this.s.lastError,
      lastErrorAt: this.s.lastErrorAt,
      panRefused: this.s.panRefused,
      rowsRejected: this.s.rowsRejected,
      rowsRefusedByTable: Object.freeze({ ...this.refusedByTable }),
      rowsDropped: this.s.rowsDropped,
      rowsSkipped: this.s.rowsSkipped,
    });
  }

  private emit(e: ClickHouseSinkEvent): void {
    if (this.options.onEvent === undefined) return;
    try {
      this.options.onEvent(e);
    } catch {
      // A broken metrics listener must not break writes.
    }
  }
}
