/**
 * Rows per second written to the embedded engine (chdb), per table: the plain
 * client call (`client.insert` with row objects as JSONEachRow, what one writes
 * first) against ClickHouseSink (rows encoded as JSONCompactEachRow lines as
 * they arrive, inserted through `client.exec` in 10,000-row batches), same
 * rows, materialized views included, background merges running. Then all three
 * tables at once through one sink, as the detector writes them.
 *
 *   node --import tsx bench/clickhouse-sink.ts [--scale 1]
 *
 * `benchClickHouseSink()` is what the bench runner calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Anomaly } from '../src/events/anomaly.js';
import type { TransactionRecord } from '../src/events/transaction.js';
import { openClickHouse } from '../src/sinks/clickhouse/connection.js';
import { migrate } from '../src/sinks/clickhouse/migrate.js';
import { ClickHouseSink } from '../src/sinks/clickhouse/sink.js';
import { ANOMALY_COLUMNS, RAW_EVENT_COLUMNS, TRANSACTION_COLUMNS, dt64, txnTime } from '../src/sinks/clickhouse/tables.js';
import { clientBatchWriter } from '../src/sinks/clickhouse/writer.js';
import type { RawEventRecord } from '../src/sinks/types.js';
import { buildSinkInput } from '../test/sinks/fixtures.js';

export interface Row {
  readonly bench: 'clickhouse-sink';
  readonly table: string;
  readonly method: string;
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSec: number;
  /** CPU (this process, every thread: the embedded engine's too) per row while this method wrote. */
  readonly cpuUsPerRow: number;
}

interface Workload {
  anomalies: Anomaly[];
  transactions: TransactionRecord[];
  raw: RawEventRecord[];
}

/** Realistic rows (the sink tests' fixtures), multiplied with fresh keys up to the wanted counts. */
function workload(scale: number): Workload {
  const base = buildSinkInput({ days: 7, attemptsPerDay: 400, seed: 7 });
  const grow = <T>(xs: T[], n: number, copy: (x: T, k: number) => T): T[] => {
    const out: T[] = [];
    for (let k = 0; out.length < n; k++) for (const x of xs) if (out.length < n) out.push(copy(x, k));
    return out;
  };
  return {
    anomalies: grow(base.anomalies, 20_000 * scale, (a, k) => ({ ...a, anomaly_id: `${a.anomaly_id.slice(0, 26)}${String(k).padStart(6, '0')}` })),
    transactions: grow(base.transactions, 50_000 * scale, (t, k) => ({ ...t, txn_key: `${t.txn_key}:${k}` })),
    raw: grow(base.raw, 150_000 * scale, (r, k) => ({ ...r, event: { ...r.event, event_id: `${r.event.event_id.slice(0, 30)}${String(k).padStart(6, '0')}` } })),
  };
}

/** The same content as row objects, for the plain client.insert path (timed too: it is part of that path). */
function asObjects(w: Partial<Workload>): Record<string, Record<string, unknown>[]> {
  const obj = (cols: readonly string[], vals: unknown[]) => Object.fromEntries(cols.map((c, i) => [c, vals[i]]));
  return {
    anomalies: (w.anomalies ?? []).map((a) => obj(ANOMALY_COLUMNS, [a.anomaly_id, a.version, a.kind, a.cause, a.status, a.severity, dt64(a.event_time), dt64(a.detected_at), a.terminal_id, a.merchant_id, a.card_token, a.rrn, a.stan, a.issuer_id, a.amount_minor, a.currency, a.related_rrns, JSON.stringify(a.evidence)])),
    transactions: (w.transactions ?? []).map((t) => ({ ...t, txn_time: dt64(txnTime(t)), ...Object.fromEntries(Object.entries(t).filter(([k, v]) => k.endsWith('_at') && typeof v === 'number').map(([k, v]) => [k, dt64(v as number)])) })),
    events_raw: (w.raw ?? []).map((r) => obj(RAW_EVENT_COLUMNS, [r.stream, r.ref?.source ?? '', r.ref?.partition ?? null, r.ref?.offset === undefined ? null : Number(r.ref.offset), r.ref?.line ?? null, r.event.event_id, dt64(r.event.event_time), r.event.event_type, r.event.terminal_id, r.event.merchant_id, r.event.stan, 'rrn' in r.event ? r.event.rrn : null, JSON.stringify(r.event)])),
  };
}

/** Wall seconds of fn; its CPU µs (process.cpuUsage: every thread) are added to cpu.us. */
async function timed(fn: () => Promise<void>, cpu: { us: number } = { us: 0 }): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  cpu.us += c.user + c.system;
  return (performance.now() - t0) / 1000;
}

export async function benchClickHouseSink(opts: { scale?: number } = {}): Promise<Row[]> {
  const scale = opts.scale ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'posguard-bench-ch-'));
  const ch = await openClickHouse({ kind: 'embedded', dataDir: dir });
  const out: Row[] = [];
  try {
    await migrate(ch.client);
    const w = workload(scale);
    const client: ClickHouseClient = ch.client;
    const row = (table: string, method: string, rows: number, seconds: number, cpu: { us: number }): Row => ({ bench: 'clickhouse-sink', table, method, rows, seconds: round(seconds, 3), rowsPerSec: Math.round(rows / seconds), cpuUsPerRow: round(cpu.us / rows, 2) });
    const truncate = async () => {
      for (const t of ['anomalies', 'anomalies_latest', 'anomalies_1m', 'transactions', 'transactions_1m', 'events_raw']) await client.command({ query: `TRUNCATE TABLE ${t}` });
    };

    // Client and sink take turns, 10,000 rows each, so both see the same machine
    // load and the same merges (the figures swing a lot on a shared host otherwise).
    for (const table of ['events_raw', 'transactions', 'anomalies'] as const) {
      await truncate();
      const records: unknown[] = table === 'events_raw' ? w.raw : table === 'transactions' ? w.transactions : w.anomalies;
      const sink = new ClickHouseSink(clientBatchWriter(client), { log: () => {} });
      const put = table === 'events_raw' ? (r: unknown) => sink.rawEvent(r as RawEventRecord)
        : table === 'transactions' ? (r: unknown) => sink.transaction(r as TransactionRecord) : (r: unknown) => sink.anomaly(r as Anomaly);
      let clientS = 0;
      let sinkS = 0;
      let clientRows = 0;
      let sinkRows = 0;
      const clientCpu = { us: 0 };
      const sinkCpu = { us: 0 };
      const half = Math.floor(records.length / 2);
      for (let i = 0, round = 0; i < half; i += 10_000, round++) {
        const viaClient = async () => {
          // The first half of the rows goes through the client, the second through the sink: no key is written twice.
          const part = records.slice(i, Math.min(i + 10_000, half));
          clientS += await timed(async () => {
            const chunk = asObjects(table === 'events_raw' ? { raw: part as RawEventRecord[] } : table === 'transactions' ? { transactions: part as TransactionRecord[] } : { anomalies: part as Anomaly[] })[table];
            await client.insert({ table, values: chunk, format: 'JSONEachRow', clickhouse_settings: { date_time_input_format: 'basic' } });
          }, clientCpu);
          clientRows += part.length;
        };
        const viaSink = async () => {
          const chunk = records.slice(half + i, half + Math.min(i + 10_000, half));
          sinkS += await timed(async () => {
            for (const r of chunk) put(r);
            await sink.flush();
          }, sinkCpu);
          sinkRows += chunk.length;
        };
        if (round % 2 === 0) { await viaClient(); await viaSink(); } else { await viaSink(); await viaClient(); }
      }
      await sink.close();
      out.push(row(table, 'client.insert, JSONEachRow objects', clientRows, clientS, clientCpu));
      out.push(row(table, 'ClickHouseSink, JSONCompactEachRow', sinkRows, sinkS, sinkCpu));
    }

    // All three at once, as the detector writes them: one insert in flight per table.
    await truncate();
    const sink = new ClickHouseSink(clientBatchWriter(client), { log: () => {} });
    const total = w.raw.length + w.transactions.length + w.anomalies.length;
    const allCpu = { us: 0 };
    const t = await timed(async () => {
      const per = Math.ceil(w.raw.length / w.transactions.length);
      let a = 0;
      for (let i = 0; i < w.transactions.length; i++) {
        for (let j = i * per; j < Math.min((i + 1) * per, w.raw.length); j++) sink.rawEvent(w.raw[j]);
        sink.transaction(w.transactions[i]);
        if (a < w.anomalies.length && i % 2 === 0) sink.anomaly(w.anomalies[a++]);
        if (sink.backlog() >= 100_000) await sink.drain();
      }
      while (a < w.anomalies.length) sink.anomaly(w.anomalies[a++]);
      await sink.flush();
    }, allCpu);
    out.push(row('all three, interleaved', 'ClickHouseSink, one insert in flight per table', total, t, allCpu));
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

export function formatRows(rows: readonly Row[]): string {
  const head = ['table', 'method', 'rows', 'seconds', 'rows/s', 'CPU-µs/row'];
  const body = rows.map((r) => [r.table, r.method, String(r.rows), r.seconds.toFixed(3), r.rowsPerSec.toLocaleString('en-US'), r.cpuUsPerRow.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--scale');
  const scale = i === -1 ? 1 : Number(process.argv[i + 1]);
  const rows = await benchClickHouseSink({ scale });
  process.stdout.write(formatRows(rows) + '\n');
}
