/**
 * Streams `events_raw` for a time range in event-time order, in pages, with
 * SELECTs only (the backtest never writes to ClickHouse).
 *
 * Paging: one GROUP BY query counts the rows per time bucket; consecutive
 * buckets are packed into pages of about `pageRows` rows, so each page is a
 * range query the partition (a UTC day) prunes. A page holding one heavy
 * bucket is read with LIMIT and a keyset cursor (event_time, stream,
 * event_id, terminal_id). Memory: the result stream's chunks (a server) or
 * one page of text (the embedded engine materializes each result), plus the
 * bucket counts (at most MAX_BUCKETS pairs).
 *
 * Cost: events_raw is sorted by terminal first, so a time slice has rows in
 * most granules of its day and each page reads most of that day's columns;
 * larger pages mean fewer re-reads (docs/backtest.md, "How it works").
 *
 * Order within a page: (event_time, stream, event_id, terminal_id), stable
 * run to run. Redelivered copies not yet merged by ReplacingMergeTree come
 * out twice; the engine drops the second by event_id, as it does live.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { PosguardError } from '../errors.js';
import type { Stream } from '../events/index.js';
import { clickHouseMessage } from '../sinks/clickhouse/query.js';

/** Rows per page on the embedded engine, which hands a result over whole. */
export const DEFAULT_PAGE_ROWS = 20_000;
/** Rows per page on a server, which streams the result: fewer, larger range scans. */
export const SERVER_PAGE_ROWS = 1_000_000;
const MAX_BUCKETS = 100_000;
const MIN_BUCKET_MS = 1_000;

export interface RawRow {
  readonly stream: Stream;
  /** The validated event as JSON (the contract's fields). */
  readonly payload: string;
}

export interface SourceStats {
  rows: number;
  pages: number;
  queries: number;
  /** Wall time spent waiting for ClickHouse and splitting its text. */
  readMs: number;
}

interface Page {
  readonly fromMs: number;
  readonly toMs: number;
  readonly rows: number;
}

const RANGE = 'event_time >= fromUnixTimestamp64Milli({from:Int64}, \'UTC\') AND event_time < fromUnixTimestamp64Milli({to:Int64}, \'UTC\')';

async function select(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<string> {
  try {
    const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' });
    return await rs.text();
  } catch (e) {
    throw new PosguardError('PG_CLICKHOUSE', `reading events_raw: ${clickHouseMessage(e)}`, { cause: e });
  }
}

/** The earliest and latest event_time in events_raw (epoch ms), or null when it is empty. */
export async function eventTimeBounds(client: ClickHouseClient): Promise<{ minMs: number; maxMs: number } | null> {
  const text = await select(client, 'SELECT count() AS n, toUnixTimestamp64Milli(min(event_time)) AS lo, toUnixTimestamp64Milli(max(event_time)) AS hi FROM events_raw', {});
  const r = JSON.parse(text) as { n: string; lo: string; hi: string };
  return Number(r.n) === 0 ? null : { minMs: Number(r.lo), maxMs: Number(r.hi) };
}

/** Pages of about `pageRows` rows covering [fromMs, toMs), from per-bucket counts. */
export async function planPages(client: ClickHouseClient, fromMs: number, toMs: number, pageRows: number): Promise<Page[]> {
  const bucketMs = Math.max(MIN_BUCKET_MS, Math.ceil((toMs - fromMs) / MAX_BUCKETS));
  const text = await select(client,
    `SELECT intDiv(toUnixTimestamp64Milli(event_time), {b:Int64}) AS bucket, count() AS n FROM events_raw WHERE ${RANGE} GROUP BY bucket ORDER BY bucket`,
    { from: fromMs, to: toMs, b: bucketMs });
  const pages: Page[] = [];
  let start = fromMs;
  let rows = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as { bucket: string; n: string };
    const n = Number(r.n);
    const bucketStart = Math.max(fromMs, Number(r.bucket) * bucketMs);
    if (rows > 0 && rows + n > pageRows) {
      pages.push({ fromMs: start, toMs: bucketStart, rows });
      start = bucketStart;
      rows = 0;
    }
    rows += n;
  }
  if (rows > 0) pages.push({ fromMs: start, toMs, rows });
  return pages;
}

const PAGE_QUERY = `SELECT stream, payload, toUnixTimestamp64Milli(event_time) AS t, event_id, terminal_id FROM events_raw
  WHERE ${RANGE}{after} ORDER BY event_time, stream, event_id, terminal_id LIMIT {limit:UInt32}`;
const AFTER = ' AND (event_time, stream, event_id, terminal_id) > (fromUnixTimestamp64Milli({ct:Int64}, \'UTC\'), {cs:String}, {ci:String}, {cterm:String})';

type Cursor = Record<string, string | number>;

/** One query of a page: its rows in arrays as they come off the result stream; returns the cursor after its last row. */
async function* readQuery(client: ClickHouseClient, page: Page, cursor: Cursor | null, pageRows: number, stats: SourceStats): AsyncGenerator<RawRow[], { rows: number; next: Cursor | null }> {
  let t0 = performance.now();
  let n = 0;
  let last: string[] | null = null;
  try {
    const rs = await client.query({
      query: PAGE_QUERY.replace('{after}', cursor === null ? '' : AFTER),
      query_params: { from: page.fromMs, to: page.toMs, limit: pageRows, ...cursor },
      format: 'TabSeparatedRaw',
    });
    stats.queries++;
    // for await closes the stream (and its connection) when the consumer stops early.
    for await (const chunk of rs.stream() as AsyncIterable<{ text: string }[]>) {
      // TabSeparatedRaw: payload is JSON.stringify output, which never holds a raw tab or newline.
      const rows: RawRow[] = [];
      for (const r of chunk) {
        const f = r.text.split('\t');
        rows.push({ stream: f[0] as Stream, payload: f[1] });
        last = f;
      }
      n += rows.length;
      stats.rows += rows.length;
      stats.readMs += performance.now() - t0;
      yield rows;
      t0 = performance.now();
    }
  } catch (e) {
    if (e instanceof PosguardError) throw e;
    throw new PosguardError('PG_CLICKHOUSE', `reading events_raw: ${clickHouseMessage(e)}`, { cause: e });
  }
  stats.readMs += performance.now() - t0;
  // terminal_id comes last: a tab inside it (the contract checks only its length) stays in it.
  const next = last === null ? null : { ct: Number(last[2]), cs: last[0], ci: last[3], cterm: last.slice(4).join('\t') };
  return { rows: n, next };
}

/**
 * Yields every row of events_raw with fromMs <= event_time < toMs, in
 * event-time order, in arrays as they come off the result stream (a server
 * streams them; the embedded engine hands over at most one page at a time).
 */
export async function* readEvents(client: ClickHouseClient, fromMs: number, toMs: number, stats: SourceStats, pageRows = DEFAULT_PAGE_ROWS): AsyncGenerator<RawRow[]> {
  const t0 = performance.now();
  const pages = await planPages(client, fromMs, toMs, pageRows);
  stats.queries++;
  stats.readMs += performance.now() - t0;
  for (const page of pages) {
    stats.pages++;
    let cursor: Cursor | null = null;
    for (;;) {
      const done: { rows: number; next: Cursor | null } = yield* readQuery(client, page, cursor, pageRows, stats);
      // A full page may have more rows in its range: continue after the last one.
      if (done.rows < pageRows || done.next === null) break;
      cursor = done.next;
    }
  }
}
