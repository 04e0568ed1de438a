/**
 * Rows the store refuses, on the embedded engine itself (not a fake writer):
 * an anomaly row ClickHouse cannot parse is isolated and kept whole in
 * dead_letters (reason store_refused, the server's message), the others of
 * its batch are stored; and a batch spanning 101 days is stored in parts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { buildSinkInput } from './fixtures.js';
import { openTestDb, rows, scalar, type TestDb } from './helpers/chdb.js';

const DAY = 86_400_000;
let db: TestDb;

beforeAll(async () => {
  db = await openTestDb('refused');
});
afterAll(async () => {
  await db.dispose();
});

describe('ClickHouseSink on the embedded engine, rows it refuses', () => {
  it('an anomaly row ClickHouse cannot parse: a store_refused dead letter holding the whole anomaly; the rest stored', async () => {
    const input = buildSinkInput({ days: 1, attemptsPerDay: 60, seed: 3 });
    const batch = input.anomalies.slice(0, 8);
    expect(batch).toHaveLength(8);
    // An event_time that is not a time: what a bug upstream could produce; the row reaches the server as "NaN.NaN".
    const bad: Anomaly = { ...batch[5], event_time: Number.NaN };
    const sink = new ClickHouseSink(clientBatchWriter(db.client), { batchRows: 8, log: () => {} });
    batch.forEach((a, i) => sink.anomaly(i === 5 ? bad : a));
    await sink.flush();
    const stored = await rows<{ anomaly_id: string }>(db.client, 'SELECT anomaly_id FROM anomalies');
    expect(stored.map((r) => r.anomaly_id).sort()).toEqual(batch.filter((_, i) => i !== 5).map((a) => a.anomaly_id).sort());
    const dead = await rows<{ source: string; reason: string; payload: string }>(db.client, "SELECT source, reason, payload FROM dead_letters FINAL WHERE reason LIKE 'store_refused%'");
    expect(dead).toHaveLength(1);
    expect(dead[0].source).toBe('clickhouse-sink:anomalies');
    expect(dead[0].reason).toMatch(/^store_refused: ClickHouse refused the row for anomalies \(code \d+ [A-Z_]+\): .+/);
    const kept = JSON.parse(dead[0].payload) as { table: string; row: Record<string, unknown> };
    expect(kept.table).toBe('anomalies');
    expect(kept.row).toMatchObject({ anomaly_id: bad.anomaly_id, kind: bad.kind, version: bad.version, terminal_id: bad.terminal_id, amount_minor: bad.amount_minor });
    expect(sink.stats()).toMatchObject({ rowsRejected: 1, rowsDropped: 0, writeFailures: 0, failingSince: null });
    expect(sink.stats().rowsRefusedByTable.anomalies).toBe(1);
    await sink.close();
  });

  it('101 transactions on 101 days in one batch: stored in parts, none refused', async () => {
    const t0 = buildSinkInput({ days: 1, attemptsPerDay: 1, seed: 4 }).transactions[0];
    const base = Date.UTC(2025, 0, 1, 12);
    const sink = new ClickHouseSink(clientBatchWriter(db.client), { batchRows: 101, log: () => {} });
    const anchor = t0.gateway_received_at ?? t0.bank_auth_at ?? t0.terminal_started_at ?? 0;
    // Every time of the attempt moved to day i (txn_time is derived from them).
    const onDay = (i: number) => Object.fromEntries(Object.entries(t0).map(([k, v]) => [k, k.endsWith('_at') && typeof v === 'number' ? v - anchor + base + i * DAY : v]));
    for (let i = 0; i < 101; i++) sink.transaction({ ...t0, ...onDay(i), txn_key: `days-${i}` });
    await sink.flush();
    expect(await scalar(db.client, "SELECT count() AS v FROM transactions FINAL WHERE startsWith(txn_key, 'days-')")).toBe(101);
    expect(await scalar(db.client, "SELECT uniqExact(toDate(txn_time)) AS v FROM transactions FINAL WHERE startsWith(txn_key, 'days-')")).toBe(101);
    expect(sink.stats()).toMatchObject({ rowsRejected: 0, writeFailures: 0, failingSince: null });
    await sink.close();
  });
});
