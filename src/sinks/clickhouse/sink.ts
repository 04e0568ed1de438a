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
 * Backpressure: one insert in flight per table, in order (the last write of a
 * key wins in ReplacingMergeTree, so order matters). While ClickHouse fails,
 * the batch is retried with capped exponential backoff and nothing is
 * dropped; rows keep buffering until the backlog reaches the high-water mark,
 * and from then on drain() does not resolve, which stops the input. The
 * failure is logged once when it starts, every 30 s while it lasts, and when
 * it ends, and stats() exposes it for metrics.
 *
 * Card data: a card_token that looks like a PAN, or a masked_pan that is not
 * masked, never reaches a table: the record goes to dead_letters instead, with
 * the payload PAN-scrubbed (the validator refuses these upstream; this is the
 * second line).
 */
import { createHash } from 'node:crypto';
import type { Anomaly } from '../../detect/anomaly.js';
import type { TransactionRecord } from '../../engine/transaction.js';
import { PosguardError } from '../../errors.js';
import { looksLikePan, scrubPans } from '../../ingest/pan.js';
import type { DeadLetter, RawEventRecord, Sink } from '../types.js';
import {
  COLUMNS, TABLES, encodeAnomaly, encodeDeadLetter, encodeRawEvent, encodeTransaction, type TableName,
} from './tables.js';
import { errorLine, isDataError, type BatchWriter, type InsertBatch } from './writer.js';

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
}

export type SinkLogger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>) => void;

export type ClickHouseSinkEvent =
  | { readonly type: 'batch_written'; readonly table: TableName; readonly rows: number; readonly ms: number }
  | { readonly type: 'write_failed'; readonly table: TableName; readonly rows: number; readonly attempt: number; readonly retryInMs: number; readonly error: string }
  | { readonly type: 'recovered'; readonly table: TableName; readonly downMs: number; readonly failures: number }
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
  /** Rows ClickHouse refused as data (parse/type errors), moved to dead_letters. */
  readonly rowsRejected: number;
  /** Rows lost: refused dead letters, or everything left when abort() was called. */
  readonly rowsDropped: number;
  /** Rows for tables in skipTables, not written by choice. */
  readonly rowsSkipped: number;
}

const DEFAULTS = {
  batchRows: 10_000,
  flushIntervalMs: 1_000,
  highWaterRows: 100_000,
  initialRetryDelayMs: 100,
  maxRetryDelayMs: 10_000,
  failureLogIntervalMs: 30_000,
  skipTables: [] as readonly TableName[],
} as const;

const MASKED_PAN = /^\d{6}[*X]{3,9}\d{4}$/;

interface Pending extends InsertBatch {
  readonly table: TableName;
  /** Seal order within the table; flush() waits for a sequence number. */
  readonly seq: number;
}

interface Queue {
  lines: string[];
  firstAt: number;
  pending: Pending[];
  running: boolean;
  sealed: number;
  attempt: number;
  waiters: { seq: number; resolve: () => void }[];
}

const defaultLogger: SinkLogger = (level, msg) => {
  if (level !== 'info') process.stderr.write(`posguard: clickhouse sink: ${level}: ${msg}\n`);
};

export class ClickHouseSink implements Sink {
  private readonly opts: Required<Omit<ClickHouseSinkOptions, 'log' | 'onEvent' | 'onClose'>>;
  private readonly log: SinkLogger;
  private readonly queues: Record<TableName, Queue>;
  private backlogRows = 0;
  private drainWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private retryTimers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closed = false;
  private aborted = false;
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

  constructor(private readonly writer: BatchWriter, private readonly options: ClickHouseSinkOptions = {}) {
    this.opts = Object.freeze({ ...DEFAULTS, ...stripUndefined(options) }) as Required<Omit<ClickHouseSinkOptions, 'log' | 'onEvent' | 'onClose'>>;
    validate(this.opts);
    this.log = options.log ?? defaultLogger;
    this.skip = new Set(this.opts.skipTables);
    this.queues = Object.fromEntries(TABLES.map((t) => [t, { lines: [], firstAt: 0, pending: [], running: false, sealed: 0, attempt: 0, waiters: [] }])) as unknown as Record<TableName, Queue>;
  }

  // ---- Sink: taking records (synchronous, cheap) ----

  anomaly(a: Anomaly): void {
    if (this.skipped('anomalies')) return;
    if (panLike(a.card_token)) return this.refuse('anomalies', a, 'card_token looks like a clear card number (PAN)', null);
    this.add('anomalies', encodeAnomaly(a));
  }

  transaction(t: TransactionRecord): void {
    if (this.skipped('transactions')) return;
    if (panLike(t.card_token)) return this.refuse('transactions', t, 'card_token looks like a clear card number (PAN)', null);
    if (t.masked_pan !== null && !MASKED_PAN.test(t.masked_pan)) return this.refuse('transactions', t, 'masked_pan is not masked (first 6 and last 4 digits only)', null);
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
    if (panLike(e.card_token)) return this.refuse(table, r.event, 'card_token looks like a clear card number (PAN)', r);
    const masked = 'masked_pan' in e ? e.masked_pan : null;
    if (masked !== null && !MASKED_PAN.test(masked)) return this.refuse(table, r.event, 'masked_pan is not masked (first 6 and last 4 digits only)', r);
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
    const q = this.queues[table];
    if (q.lines.length === 0) q.firstAt = Date.now();
    q.lines.push(line);
    this.backlogRows++;
    if (q.lines.length >= this.opts.batchRows) this.seal(table);
    else this.armTimer();
  }

  // ---- batching ----

  private seal(table: TableName): void {
    const q = this.queues[table];
    if (q.lines.length === 0) return;
    const body = q.lines.join('\n');
    const rows = q.lines.length;
    q.lines = [];
    q.pending.push({ table, columns: COLUMNS[table], body, rows, token: batchToken(table, body), seq: ++q.sealed });
    this.pump(table);
  }

  private armTimer(delayMs: number = this.opts.flushIntervalMs): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.onTimer(), delayMs);
    // Buffered rows must not keep a finished process alive; flush() is the way out.
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    const now = Date.now();
    let next = Infinity;
    for (const t of TABLES) {
      const q = this.queues[t];
      if (q.lines.length === 0) continue;
      const due = q.firstAt + this.opts.flushIntervalMs;
      if (due <= now) this.seal(t);
      else next = Math.min(next, due - now);
    }
    if (next !== Infinity) this.armTimer(next);
  }

  private pump(table: TableName): void {
    const q = this.queues[table];
    if (q.running || this.aborted) return;
    q.running = true;
    void this.run(table).finally(() => {
      q.running = false;
    });
  }

  private async run(table: TableName): Promise<void> {
    const q = this.queues[table];
    while (q.pending.length > 0 && !this.aborted) {
      const b = q.pending[0];
      const t0 = performance.now();
      try {
        await this.writer.write(b);
      } catch (e) {
        if (this.aborted) break;
        if (isDataError(e)) {
          q.pending.shift();
          this.reject(b, e);
          continue;
        }
        await this.failed(b, e, q.attempt++);
        continue;
      }
      q.pending.shift();
      q.attempt = 0;
      this.written(b, performance.now() - t0);
    }
    this.settleWaiters(table);
  }

  private written(b: Pending, ms: number): void {
    const n = b.rows;
    this.s.batchesWritten++;
    this.s.rowsWritten += n;
    this.byTable[b.table] += n;
    this.backlogRows -= n;
    if (this.s.failingSince !== null) {
      const downMs = Date.now() - this.s.failingSince;
      this.log('info', `writes to ClickHouse recovered after ${(downMs / 1000).toFixed(1)} s and ${this.s.failuresInRun} failed attempts`, { table: b.table, downMs });
      this.emit({ type: 'recovered', table: b.table, downMs, failures: this.s.failuresInRun });
      this.s.failingSince = null;
      this.s.failuresInRun = 0;
    }
    this.emit({ type: 'batch_written', table: b.table, rows: n, ms });
    this.settleWaiters(b.table);
    this.settleDrain();
  }

  private async failed(b: Pending, e: unknown, attempt: number): Promise<void> {
    const now = Date.now();
    const error = errorLine(e);
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
    await this.sleep(delay);
  }

  /**
   * ClickHouse refused the data itself: split the batch to isolate the bad
   * row(s) and dead-letter them; the good rows are written as usual.
   */
  private reject(b: Pending, e: unknown): void {
    const q = this.queues[b.table];
    if (b.rows > 1) {
      const lines = b.body.split('\n');
      const mid = lines.length >> 1;
      const halves = [lines.slice(0, mid), lines.slice(mid)].map((ls) => {
        const body = ls.join('\n');
        return { ...b, body, rows: ls.length, token: batchToken(b.table, body) };
      });
      q.pending.unshift(...halves);
      return;
    }
    const error = errorLine(e);
    this.backlogRows -= 1;
    this.emit({ type: 'row_rejected', table: b.table, error });
    if (b.table === 'dead_letters') {
      // Nowhere left to put it; say so loudly rather than loop.
      this.s.rowsDropped++;
      this.log('error', `ClickHouse refused a dead letter, dropped: ${error}`, { table: b.table });
    } else {
      this.s.rowsRejected++;
      this.log('warn', `ClickHouse refused a ${b.table} row, sent to dead_letters: ${error}`, { table: b.table });
      this.deadLetter({
        source: `clickhouse-sink:${b.table}`, stream: null, line: null, partition: null, offset: null,
        reason: `ClickHouse refused the row for ${b.table}: ${error}`, payload: b.body, received_at: Date.now(),
      });
    }
    this.settleDrain();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = { timer: setTimeout(() => { this.retryTimers.delete(entry); resolve(); }, ms), resolve };
      this.retryTimers.add(entry);
    });
  }

  // ---- backpressure and lifecycle ----

  backlog(): number {
    return this.backlogRows;
  }

  drain(): Promise<void> {
    if (this.backlogRows < this.opts.highWaterRows || this.aborted) return Promise.resolve();
    // Partly filled buffers count towards the backlog; write them now rather
    // than let the caller wait for the timer.
    for (const t of TABLES) this.seal(t);
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.settleDrain();
    });
  }

  private settleDrain(): void {
    if (this.drainWaiters.length === 0) return;
    if (this.backlogRows >= this.opts.highWaterRows && !this.aborted) return;
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }

  async flush(): Promise<void> {
    // Two rounds: rows ClickHouse refuses in the first become dead letters.
    for (let round = 0; round < 2; round++) {
      await Promise.all(TABLES.map((t) => {
        this.seal(t);
        return this.writtenThrough(t, this.queues[t].sealed);
      }));
      if (this.queues.dead_letters.lines.length === 0) break;
    }
  }

  private writtenThrough(table: TableName, seq: number): Promise<void> {
    const q = this.queues[table];
    if (this.aborted || q.pending.length === 0 || q.pending[0].seq > seq) return Promise.resolve();
    return new Promise((resolve) => q.waiters.push({ seq, resolve }));
  }

  private settleWaiters(table: TableName): void {
    const q = this.queues[table];
    const head = q.pending.length === 0 || this.aborted ? Infinity : q.pending[0].seq;
    q.waiters = q.waiters.filter((w) => {
      if (w.seq < head) w.resolve();
      return w.seq >= head;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.options.onClose?.();
  }

  /**
   * Gives up: stops retrying and discards what is buffered (counted in
   * rowsDropped and logged). For a shutdown that cannot wait for ClickHouse.
   */
  async abort(reason: string): Promise<void> {
    if (this.aborted) return;
    this.aborted = true;
    const lost = this.backlogRows;
    this.s.rowsDropped += lost;
    this.backlogRows = 0;
    for (const t of TABLES) {
      this.queues[t].lines = [];
      this.queues[t].pending = [];
      this.settleWaiters(t);
    }
    for (const r of this.retryTimers) {
      clearTimeout(r.timer);
      r.resolve();
    }
    this.retryTimers.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
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

/** card_token values are tokens; only digit strings can be PANs, so most are rejected on the first character. */
function panLike(s: string | null | undefined): boolean {
  if (s === null || s === undefined || s.length < 13) return false;
  const c = s.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 32 || c === 45)) return false;
  return looksLikePan(s);
}

/** One hash over the joined body: hashing line by line costs more than the insert's parsing. */
function batchToken(table: string, body: string): string {
  return `${table}-${createHash('sha256').update(table).update('\n').update(body).digest('hex').slice(0, 32)}`;
}

/** Capped exponential backoff with "equal jitter": half fixed, half random. */
export function backoff(attempt: number, initialMs: number, maxMs: number): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

function validate(o: Required<Omit<ClickHouseSinkOptions, 'log' | 'onEvent' | 'onClose'>>): void {
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

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'log' && k !== 'onEvent' && k !== 'onClose')) as Partial<T>;
}
