/**
 * A batch the store refuses (docs/storage.md, "Rows the store refuses"): the
 * classification of ClickHouse errors, and the bisection that isolates the
 * refused rows, against a fake writer that refuses rows chosen by the test.
 */
import { describe, expect, it } from 'vitest';
import { ClickHouseSink, type ClickHouseSinkOptions } from '../../src/sinks/clickhouse/sink.js';
import type { BatchWriter, InsertBatch } from '../../src/sinks/clickhouse/writer.js';
import { classifyWriteError, curedBySplitting } from '../../src/sinks/clickhouse/write-errors.js';
import type { DeadLetter } from '../../src/sinks/types.js';
import type { TransactionRecord } from '../../src/events/transaction.js';
import { COLUMNS } from '../../src/sinks/clickhouse/tables.js';
import { buildSinkInput } from './fixtures.js';

/** What @clickhouse/client throws: `code` as a string, `type` the name. */
const chError = (code: number, type: string, message: string) => Object.assign(new Error(message), { code: String(code), type });

describe('classifyWriteError', () => {
  it.each([
    [chError(27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 'Cannot parse input'), 'data'],
    [chError(53, 'TYPE_MISMATCH', 'Type mismatch'), 'data'],
    [chError(252, 'TOO_MANY_PARTS', 'Too many partitions for single INSERT block (more than 100). The limit is controlled by max_partitions_per_insert_block'), 'limit'],
    [chError(565, 'TOO_MANY_PARTITIONS', 'Too many partitions'), 'limit'],
    // The same code for the merge backlog: overload, cured by waiting, never by dead-lettering.
    [chError(252, 'TOO_MANY_PARTS', 'Too many parts (300 with average size of 1.2 MiB) in table. Merges are processing significantly slower than inserts'), 'transient'],
    [chError(241, 'MEMORY_LIMIT_EXCEEDED', 'Memory limit (total) exceeded'), 'transient'],
    [chError(159, 'TIMEOUT_EXCEEDED', 'Timeout exceeded'), 'transient'],
    [chError(202, 'TOO_MANY_SIMULTANEOUS_QUERIES', 'Too many simultaneous queries'), 'transient'],
    [chError(60, 'UNKNOWN_TABLE', 'Table posguard.anomalies does not exist'), 'setup'],
    [chError(516, 'AUTHENTICATION_FAILED', 'Authentication failed'), 'setup'],
    [chError(497, 'ACCESS_DENIED', 'Not enough privileges'), 'setup'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }), 'transient'],
    [new Error('socket hang up'), 'transient'],
    [chError(99999, 'SOMETHING_NEW', 'a code this build does not know'), 'transient'],
  ])('%s → %s', (e, cls) => {
    expect(classifyWriteError(e)).toBe(cls);
  });

  it('only data errors and limits are split; transient and setup errors are retried', () => {
    expect(['data', 'limit', 'transient', 'setup'].filter((c) => curedBySplitting(c as never))).toEqual(['data', 'limit']);
  });
});

const DAY = 86_400_000;
const dl = (i: number, day = 0): DeadLetter => ({ source: 'test', stream: 'bank', line: i, partition: null, offset: null, reason: `r${i}`, payload: `{"n":${i}}`, received_at: day * DAY + i });
const TEMPLATE = buildSinkInput({ days: 1, attemptsPerDay: 1 }).transactions[0];
const txn = (i: number): TransactionRecord => ({ ...TEMPLATE, txn_key: `k${i}` });

/**
 * Refuses with a data error every transactions batch holding a row whose
 * txn_key is in `bad`, and with the partition limit every dead_letters batch
 * spanning more than `maxDays` distinct days of received_at.
 */
class ChoosyWriter implements BatchWriter {
  inserts = 0;
  /** Inserts into transactions (the dead letters of refused rows follow in dead_letters). */
  txnInserts = 0;
  stored: { table: string; row: unknown[] }[] = [];
  constructor(private readonly bad: ReadonlySet<string>, private readonly maxDays = Infinity) {}

  async write(b: InsertBatch): Promise<void> {
    this.inserts++;
    await new Promise((r) => setImmediate(r));
    const rows = b.body.split('\n').map((l) => JSON.parse(l) as unknown[]);
    if (b.table === 'transactions') {
      this.txnInserts++;
      if (rows.some((r) => this.bad.has(String(r[0])))) throw chError(27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 'Cannot parse input: the row is bad');
    }
    if (b.table === 'dead_letters') {
      const days = new Set(rows.map((r) => Math.floor(Number(r[8]) / 86_400)));
      if (days.size > this.maxDays) throw chError(252, 'TOO_MANY_PARTS', `Too many partitions for single INSERT block (more than ${this.maxDays})`);
    }
    this.stored.push(...rows.map((row) => ({ table: b.table, row })));
  }
}

const opts: ClickHouseSinkOptions = { initialRetryDelayMs: 2, maxRetryDelayMs: 10, log: () => {} };

describe('bisection of a refused batch', () => {
  it.each([
    [1024, [17]],
    [1024, [0, 511, 512, 1023]],
    [1000, [3, 4, 5, 6, 7, 8, 9, 10]],
    [777, [776]],
  ])('%i rows, bad rows %j: exactly those are dead letters, the rest stored, O(k log n) inserts', async (n, badRows) => {
    const bad = new Set(badRows.map((i) => `k${i}`));
    const w = new ChoosyWriter(bad);
    const sink = new ClickHouseSink(w, { ...opts, batchRows: n, highWaterRows: 2 * n });
    for (let i = 0; i < n; i++) sink.transaction(txn(i));
    await sink.flush();
    const stored = w.stored.filter((s) => s.table === 'transactions').map((s) => String(s.row[0]));
    expect(stored.sort()).toEqual([...Array(n).keys()].map((i) => `k${i}`).filter((k) => !bad.has(k)).sort());
    const refused = w.stored.filter((s) => s.table === 'dead_letters').map((s) => s.row);
    expect(refused.map((r) => (JSON.parse(String(r[7])) as { row: { txn_key: string } }).row.txn_key).sort()).toEqual([...bad].sort());
    for (const r of refused) {
      expect(r[1]).toBe('clickhouse-sink:transactions');
      expect(String(r[6])).toMatch(/^store_refused: ClickHouse refused the row for transactions \(code 27 CANNOT_PARSE_INPUT_ASSERTION_FAILED\): Cannot parse input/);
      // The whole row: every column of the transaction is in the payload.
      expect(Object.keys((JSON.parse(String(r[7])) as { row: object }).row)).toHaveLength(COLUMNS.transactions.length);
    }
    const k = bad.size;
    // Every refused batch costs two more inserts, and a bad row is in one refused batch per level.
    expect(w.txnInserts).toBeLessThanOrEqual(1 + 2 * k * Math.ceil(Math.log2(n)));
    expect(w.txnInserts).toBeLessThan(n / 4);
    expect(sink.stats()).toMatchObject({ rowsRejected: k, rowsDropped: 0, writeFailures: 0, failingSince: null, backlogRows: 0 });
    expect(sink.stats().rowsRefusedByTable).toMatchObject({ transactions: k, dead_letters: 0 });
  });

  it('101 days in one insert (limit 100): split in two, everything stored, nothing dead-lettered', async () => {
    const w = new ChoosyWriter(new Set(), 100);
    const splits: unknown[] = [];
    const sink = new ClickHouseSink(w, { ...opts, batchRows: 101, onEvent: (e) => e.type === 'batch_split' && splits.push(e) });
    for (let i = 0; i < 101; i++) sink.deadLetter(dl(i, i));
    await sink.flush();
    expect(w.stored.map((s) => Number(s.row[5])).sort((a, b) => a - b)).toEqual([...Array(101).keys()]);
    expect(w.inserts).toBe(3);
    expect(splits).toEqual([{ type: 'batch_split', table: 'dead_letters', rows: 101, error: 'Too many partitions for single INSERT block (more than 100)' }]);
    expect(sink.stats()).toMatchObject({ rowsRejected: 0, writeFailures: 0, failingSince: null });
  });

  it('a transient failure before the refusal: failing_seconds goes back to 0 when ClickHouse refuses the row, before any write succeeds', async () => {
    let down = 2;
    const inner = new ChoosyWriter(new Set(['k0']));
    const w: BatchWriter = {
      async write(b) {
        if (down-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return inner.write(b);
      },
    };
    const atRefusal: (number | null)[] = [];
    const sink: ClickHouseSink = new ClickHouseSink(w, {
      ...opts, batchRows: 1,
      onEvent: (e) => {
        if (e.type === 'row_rejected') atRefusal.push(sink.stats().failingSince);
      },
    });
    sink.transaction(txn(0));
    await sink.flush();
    expect(sink.stats().writeFailures).toBe(2);
    // The refusal is the store's first answer after the outage: the failure run ends there.
    expect(atRefusal).toEqual([null]);
    expect(inner.txnInserts).toBe(1);
    expect(sink.stats()).toMatchObject({ rowsRejected: 1, failingSince: null });
  });
});
