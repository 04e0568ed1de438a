/**
 * Batching, retries and backpressure of ClickHouseSink, with a fake writer in
 * front of "ClickHouse" (no engine needed): it fails N times, stays down until
 * told otherwise, or refuses particular rows as bad data.
 */
import { describe, expect, it, vi } from 'vitest';
import { ClickHouseSink, backoff, type ClickHouseSinkEvent, type ClickHouseSinkOptions } from '../../src/sinks/clickhouse/sink.js';
import type { BatchWriter, InsertBatch } from '../../src/sinks/clickhouse/writer.js';
import type { DeadLetter } from '../../src/sinks/types.js';

/** Records what reached "ClickHouse"; fails while `down` or for the first `failFirst` attempts. */
class FakeWriter implements BatchWriter {
  written: InsertBatch[] = [];
  attempts: InsertBatch[] = [];
  failFirst = 0;
  down = false;
  badMarker: string | null = null;
  /** Only this table refuses the marker (null: every table). */
  badTable: string | null = null;

  async write(b: InsertBatch): Promise<void> {
    this.attempts.push(b);
    await new Promise((r) => setImmediate(r));
    if (this.down || this.failFirst > 0) {
      this.failFirst = Math.max(0, this.failFirst - 1);
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    }
    if (this.badMarker !== null && (this.badTable === null || this.badTable === b.table) && b.body.includes(this.badMarker)) {
      throw Object.assign(new Error('Code: 27. DB::Exception: Cannot parse input: expected \'"\' before: \'oops\'\nRow 1: ...'), { code: '27' });
    }
    this.written.push(b);
  }

  rows(table: string): string[] {
    return this.written.filter((b) => b.table === table).flatMap((b) => b.body.split('\n'));
  }
}

const dl = (i: number): DeadLetter => ({ source: 'test', stream: 'bank', line: i, partition: null, offset: null, reason: `bad line ${i}`, payload: `{"n":${i}}`, received_at: 1_767_225_600_000 + i });
const fast: ClickHouseSinkOptions = { initialRetryDelayMs: 2, maxRetryDelayMs: 10, log: () => {} };
/** True when `p` is still pending after `ms`: used only where slowness cannot flip the answer (still blocked). */
const pending = async (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => false), new Promise((r) => setTimeout(() => r(true), ms))]);

describe('ClickHouseSink batching', () => {
  it('writes a batch as soon as it is full, and the rest after the flush interval', async () => {
    // Fake clock for the sink's timer, real setImmediate for the writer: the interval is exact and
    // the writes are awaited turn by turn, whatever the machine's load (no sleep races the timer).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    try {
      const w = new FakeWriter();
      const sink = new ClickHouseSink(w, { ...fast, batchRows: 3, flushIntervalMs: 40 });
      for (let i = 0; i < 7; i++) sink.deadLetter(dl(i));
      await turns(10);
      expect(w.written.map((b) => b.rows)).toEqual([3, 3]);
      expect(sink.backlog()).toBe(1);
      await vi.advanceTimersByTimeAsync(39);
      await turns(10);
      expect(w.written.map((b) => b.rows)).toEqual([3, 3]);
      await vi.advanceTimersByTimeAsync(1);
      await turns(10);
      expect(w.written.map((b) => b.rows)).toEqual([3, 3, 1]);
      expect(sink.backlog()).toBe(0);
      await sink.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves out the tables it is told to skip, and counts them', async () => {
    const w = new FakeWriter();
    const sink = new ClickHouseSink(w, { ...fast, skipTables: ['dead_letters'] });
    sink.deadLetter(dl(1));
    await sink.close();
    expect(w.attempts).toHaveLength(0);
    expect(sink.stats()).toMatchObject({ rowsSkipped: 1, rowsWritten: 0 });
    expect(() => new ClickHouseSink(w, { skipTables: ['nope' as 'dead_letters'] })).toThrow(/skipTables: unknown table "nope"/);
  });

  it('refuses settings that contradict each other, naming them', () => {
    expect(() => new ClickHouseSink(new FakeWriter(), { batchRows: 10_000, highWaterRows: 5_000 })).toThrow(/highWaterRows \(5000\) is below batchRows \(10000\)/);
    expect(() => new ClickHouseSink(new FakeWriter(), { flushIntervalMs: 0 })).toThrow(/flushIntervalMs: expected a positive integer/);
  });
});

describe('ClickHouseSink retries', () => {
  it('retries a failed batch with backoff and the same token, then reports the recovery', async () => {
    const w = new FakeWriter();
    w.failFirst = 3;
    const events: ClickHouseSinkEvent[] = [];
    const logs: string[] = [];
    const sink = new ClickHouseSink(w, { ...fast, batchRows: 5, onEvent: (e) => events.push(e), log: (level, msg) => logs.push(`${level}: ${msg}`) });
    for (let i = 0; i < 5; i++) sink.deadLetter(dl(i));
    await sink.flush();
    expect(w.attempts).toHaveLength(4);
    expect(new Set(w.attempts.map((b) => b.token)).size).toBe(1);
    expect(w.rows('dead_letters')).toHaveLength(5);
    expect(events.filter((e) => e.type === 'write_failed').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.type === 'recovered')).toHaveLength(1);
    expect(sink.stats()).toMatchObject({ writeFailures: 3, rowsWritten: 5, batchesWritten: 1, failingSince: null, lastError: 'connect ECONNREFUSED 127.0.0.1:8123' });
    // One line when it starts, one when it ends: not one per retry.
    expect(logs).toEqual([expect.stringMatching(/^warn: cannot write 5 rows to dead_letters: connect ECONNREFUSED/), expect.stringMatching(/^info: writes to ClickHouse recovered after/)]);
  });

  it('backs off exponentially up to the cap, with jitter', () => {
    for (let a = 0; a < 12; a++) {
      const cap = Math.min(10_000, 100 * 2 ** a);
      const d = backoff(a, 100, 10_000);
      expect(d).toBeGreaterThanOrEqual(cap / 2);
      expect(d).toBeLessThanOrEqual(cap);
    }
  });
});

describe('ClickHouseSink backpressure', () => {
  it('holds input while ClickHouse is down: backlog grows to the mark, then drain() waits; nothing is lost', async () => {
    const w = new FakeWriter();
    w.down = true;
    const sink = new ClickHouseSink(w, { ...fast, batchRows: 10, highWaterRows: 50 });
    let fed = 0;
    // A driver in the shape the engine uses: feed, and drain when the backlog is high.
    const driver = (async () => {
      for (let i = 0; i < 200; i++) {
        sink.deadLetter(dl(i));
        fed++;
        if (sink.backlog() >= 50) await sink.drain();
      }
    })();
    expect(await pending(driver, 100)).toBe(true);
    expect(fed).toBe(50);
    expect(sink.backlog()).toBe(50);
    const s = sink.stats();
    expect(s.failingSince).not.toBeNull();
    expect(s.writeFailures).toBeGreaterThan(0);
    expect(s.rowsWritten).toBe(0);
    w.down = false;
    await driver;
    await sink.close();
    const lines = w.rows('dead_letters').map((l) => JSON.parse(l)[5] as number);
    expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(sink.stats()).toMatchObject({ rowsWritten: 200, backlogRows: 0, failingSince: null, rowsDropped: 0 });
  });

  it('drain() resolves at once below the mark', async () => {
    const sink = new ClickHouseSink(new FakeWriter(), fast);
    sink.deadLetter(dl(1));
    // "At once": before the next turn of the event loop, however slow the machine.
    const first = await Promise.race([sink.drain().then(() => 'drained'), new Promise((r) => setImmediate(() => r('next turn')))]);
    expect(first).toBe('drained');
    await sink.close();
  });

  it('abort() gives up on an unreachable ClickHouse, releases waiters and counts the loss', async () => {
    const w = new FakeWriter();
    w.down = true;
    const logs: string[] = [];
    const sink = new ClickHouseSink(w, { ...fast, batchRows: 10, highWaterRows: 10, log: (l, m) => logs.push(`${l}: ${m}`) });
    for (let i = 0; i < 25; i++) sink.deadLetter(dl(i));
    const drained = sink.drain();
    const flushed = sink.flush();
    expect(await pending(drained, 30)).toBe(true);
    await sink.abort('test shutdown');
    await drained;
    await flushed;
    expect(sink.stats()).toMatchObject({ rowsDropped: 25, backlogRows: 0 });
    expect(logs.at(-1)).toMatch(/^error: aborted \(test shutdown\): 25 rows were not written/);
  });
});

describe('ClickHouseSink and rows ClickHouse refuses', () => {
  it('splits the batch, writes the good rows and dead-letters the bad one', async () => {
    const w = new FakeWriter();
    w.badMarker = 'POISON';
    const events: ClickHouseSinkEvent[] = [];
    const sink = new ClickHouseSink(w, { ...fast, batchRows: 8, onEvent: (e) => events.push(e) });
    for (let i = 0; i < 8; i++) sink.deadLetter(i === 5 ? { ...dl(i), reason: 'POISON' } : dl(i));
    await sink.flush();
    const ok = w.rows('dead_letters').map((l) => JSON.parse(l) as unknown[]);
    expect(ok.filter((r) => r[6] !== 'POISON').map((r) => r[5])).toEqual([0, 1, 2, 3, 4, 6, 7]);
    // The refused row is a dead letter itself, whose payload contains the marker, so it is refused
    // again and finally dropped with a loud log: the one case with nowhere left to go.
    expect(sink.stats()).toMatchObject({ rowsDropped: 1, writeFailures: 0 });
    expect(events.filter((e) => e.type === 'row_rejected')).toHaveLength(1);
  });

  it('sends a refused transaction row to dead_letters with ClickHouse\'s reason', async () => {
    const w = new FakeWriter();
    w.badMarker = 'POISON';
    w.badTable = 'transactions';
    const sink = new ClickHouseSink(w, { ...fast, batchRows: 4 });
    const { buildSinkInput } = await import('./fixtures.js');
    const ts = buildSinkInput({ days: 1, attemptsPerDay: 4 }).transactions.slice(0, 4);
    ts.forEach((t, i) => sink.transaction(i === 2 ? { ...t, failure_reason: 'POISON' } : t));
    await sink.flush();
    expect(w.rows('transactions')).toHaveLength(3);
    const [refused] = w.rows('dead_letters').map((l) => JSON.parse(l) as string[]);
    expect(refused[1]).toBe('clickhouse-sink:transactions');
    expect(refused[6]).toMatch(/^store_refused: ClickHouse refused the row for transactions \(code 27 CANNOT_PARSE_INPUT_ASSERTION_FAILED\): Code: 27\. DB::Exception: Cannot parse input/);
    // The whole row, column by column: nothing of a refused transaction is lost.
    const kept = JSON.parse(refused[7]) as { table: string; row: Record<string, unknown> };
    expect(kept.table).toBe('transactions');
    expect(kept.row).toMatchObject({ txn_key: ts[2].txn_key, failure_reason: 'POISON' });
    expect(sink.stats()).toMatchObject({ rowsRejected: 1, rowsDropped: 0 });
    expect(sink.stats().rowsRefusedByTable).toMatchObject({ transactions: 1, anomalies: 0 });
  });
});
