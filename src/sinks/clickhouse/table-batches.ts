/**
 * The ClickHouse sink's write path: rows buffered per table, sealed into a
 * batch by size or age, and written one insert in flight per table, in order
 * (the last write of a key wins in ReplacingMergeTree, so order matters). A
 * batch that fails transiently is retried after the delay the sink's
 * accounting returns; one ClickHouse refuses as data or for a per-insert limit
 * (write-errors.ts) is halved, and each half that is refused again is halved
 * in turn, until the refused rows are alone: k bad rows among n cost at most
 * 1 + 2·k·⌈log2 n⌉ inserts, and a limit that halving cures (101 days in one
 * insert) costs two more inserts and loses nothing.
 * What a written, failed or refused batch means (stats, logs, dead letters,
 * backpressure) is the sink's (sink.ts).
 */
import { createHash } from 'node:crypto';
import type { ResolvedOptions } from './sink-options.js';
import { ANOMALY_RULES_COLUMNS, COLUMNS, TABLES, type TableName } from './tables.js';
import type { BatchWriter, InsertBatch } from './writer.js';
import { classifyWriteError, curedBySplitting, type WriteErrorClass } from './write-errors.js';

export interface Pending extends InsertBatch {
  readonly table: TableName;
  /** Seal order within the table; flush() waits for a sequence number. */
  readonly seq: number;
}

/** What the sink does with each outcome. */
export interface BatchOutcomes {
  written(b: Pending, ms: number): void;
  /** Called after a written batch's flush waiters are settled: the backlog shrank. */
  backlogShrank(): void;
  /** A failed attempt that a retry may cure (the batch stays first in line); returns how long to wait before the next one, ms. */
  failed(b: Pending, e: unknown, attempt: number, cls: WriteErrorClass): number;
  /** ClickHouse refused this batch of several rows (data or limit): it is split in two and each half written. */
  split(b: Pending, e: unknown): void;
  /** ClickHouse refused this one-row batch (its data, or a limit even one row breaks). */
  refused(b: Pending, e: unknown): void;
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

export class TableBatches {
  private readonly queues: Record<TableName, Queue>;
  private timer: NodeJS.Timeout | null = null;
  private retryTimers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private stopped = false;

  constructor(
    private readonly writer: BatchWriter,
    private readonly opts: ResolvedOptions,
    /** Anomaly rows carry the rules stamp columns. */
    private readonly anomalyRules: boolean,
    private readonly outcomes: BatchOutcomes,
  ) {
    this.queues = Object.fromEntries(TABLES.map((t) => [t, { lines: [], firstAt: 0, pending: [], running: false, sealed: 0, attempt: 0, waiters: [] }])) as unknown as Record<TableName, Queue>;
  }

  /** True once abort() gave up on everything buffered. */
  get aborted(): boolean {
    return this.stopped;
  }

  add(table: TableName, line: string): void {
    const q = this.queues[table];
    if (q.lines.length === 0) q.firstAt = Date.now();
    q.lines.push(line);
    if (q.lines.length >= this.opts.batchRows) this.seal(table);
    else this.armTimer();
  }

  /** Seals every partly filled buffer now. */
  sealAll(): void {
    for (const t of TABLES) this.seal(t);
  }

  /** Writes everything buffered; resolves when written (or aborted). */
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

  stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Stops retrying and drops every buffered and pending row; waiters resolve. */
  abort(): void {
    this.stopped = true;
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
    this.stopTimer();
  }

  private seal(table: TableName): void {
    const q = this.queues[table];
    if (q.lines.length === 0) return;
    const body = q.lines.join('\n');
    const rows = q.lines.length;
    q.lines = [];
    const columns = table === 'anomalies' && this.anomalyRules ? ANOMALY_RULES_COLUMNS : COLUMNS[table];
    q.pending.push({ table, columns, body, rows, token: batchToken(table, body), seq: ++q.sealed });
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
    if (q.running || this.stopped) return;
    q.running = true;
    void this.run(table).finally(() => {
      q.running = false;
    });
  }

  private async run(table: TableName): Promise<void> {
    const q = this.queues[table];
    while (q.pending.length > 0 && !this.stopped) {
      const b = q.pending[0];
      const t0 = performance.now();
      try {
        await this.writer.write(b);
      } catch (e) {
        if (this.stopped) break;
        const cls = classifyWriteError(e);
        if (curedBySplitting(cls)) {
          q.pending.shift();
          this.refuse(b, e);
          continue;
        }
        await this.sleep(this.outcomes.failed(b, e, q.attempt++, cls));
        continue;
      }
      q.pending.shift();
      q.attempt = 0;
      this.outcomes.written(b, performance.now() - t0);
      this.settleWaiters(b.table);
      this.outcomes.backlogShrank();
    }
    this.settleWaiters(table);
  }

  /** ClickHouse refused the data itself: split the batch to isolate the bad row(s); the good rows are written as usual. */
  private refuse(b: Pending, e: unknown): void {
    if (b.rows === 1) return this.outcomes.refused(b, e);
    this.outcomes.split(b, e);
    const lines = b.body.split('\n');
    const mid = lines.length >> 1;
    const halves = [lines.slice(0, mid), lines.slice(mid)].map((ls) => {
      const body = ls.join('\n');
      return { ...b, body, rows: ls.length, token: batchToken(b.table, body) };
    });
    this.queues[b.table].pending.unshift(...halves);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = { timer: setTimeout(() => { this.retryTimers.delete(entry); resolve(); }, ms), resolve };
      this.retryTimers.add(entry);
    });
  }

  private writtenThrough(table: TableName, seq: number): Promise<void> {
    const q = this.queues[table];
    if (this.stopped || q.pending.length === 0 || q.pending[0].seq > seq) return Promise.resolve();
    return new Promise((resolve) => q.waiters.push({ seq, resolve }));
  }

  private settleWaiters(table: TableName): void {
    const q = this.queues[table];
    const head = q.pending.length === 0 || this.stopped ? Infinity : q.pending[0].seq;
    q.waiters = q.waiters.filter((w) => {
      if (w.seq < head) w.resolve();
      return w.seq >= head;
    });
  }
}

/** One hash over the joined body: hashing line by line costs more than the insert's parsing. */
function batchToken(table: string, body: string): string {
  return `${table}-${createHash('sha256').update(table).update('\n').update(body).digest('hex').slice(0, 32)}`;
}
