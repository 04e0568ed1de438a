/**
 * The embedded engine's Buffer insert (rawBatchWriter, what batchWriterFor
 * picks for an embedded handle) against the `client.exec` path it replaces,
 * on the engine itself: the same records through a ClickHouseSink on each
 * path must store the same rows (every inserted column, compared as text,
 * payloads byte for byte) in every table; and a row the engine refuses must
 * come back as the same classified error, so it is isolated and dead-lettered
 * as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { COLUMNS, TABLES, encodeRawEvent } from '../../src/sinks/clickhouse/tables.js';
import { batchWriterFor, clientBatchWriter, type BatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { buildSinkInput } from './fixtures.js';
import { openTestDb, rows, scalar, type TestDb } from './helpers/chdb.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('raw-writer');
});
afterAll(async () => db?.dispose());

const input = buildSinkInput({ days: 3, attemptsPerDay: 150, seed: 5, now: Date.UTC(2026, 10, 20, 12) });

/** Everything each table holds, every inserted column, in one fixed order. */
async function stored(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) {
    const cols = COLUMNS[t].join(', ');
    out[t] = await rows(db.client, `SELECT ${cols} FROM ${t} ORDER BY ${cols}`);
  }
  return out;
}

async function writeAll(writer: BatchWriter): Promise<Record<string, unknown[]>> {
  for (const t of TABLES) await db.client.command({ query: `TRUNCATE TABLE ${t}` });
  const sink = new ClickHouseSink(writer, { batchRows: 500, log: () => {} });
  for (const r of input.raw) sink.rawEvent(r);
  for (const r of input.late) sink.lateEvent(r);
  for (const t of input.transactions) sink.transaction(t);
  for (const a of input.anomalies) sink.anomaly(a);
  for (const d of input.deadLetters) sink.deadLetter(d);
  await sink.close();
  return stored();
}

describe('the raw Buffer insert on the embedded engine', () => {
  it('is what an embedded handle writes through', () => {
    expect(db.rawInsert).toBeTypeOf('function');
    expect(batchWriterFor(db)).not.toBe(undefined);
  });

  it('stores the same rows as the client.exec path, in every table', async () => {
    const before = await writeAll(clientBatchWriter(db.client));
    const after = await writeAll(batchWriterFor(db));
    expect(before.events_raw.length).toBe(input.raw.length);
    expect(before.transactions.length).toBeGreaterThan(0);
    expect(before.anomalies.length).toBeGreaterThan(0);
    expect(before.late_events.length).toBeGreaterThan(0);
    expect(before.dead_letters.length).toBeGreaterThan(0);
    for (const t of TABLES) expect(after[t], t).toEqual(before[t]);
  });

  it('carries the deduplication token: a batch written twice with one token is stored once', async () => {
    await db.client.command({ query: 'TRUNCATE TABLE events_raw' });
    const w = batchWriterFor(db);
    const body = input.raw.slice(0, 50).map(encodeRawEvent).join('\n');
    const batch = { table: 'events_raw', columns: COLUMNS.events_raw, body, rows: 50, token: 'raw-writer-dedup-1' };
    await w.write(batch);
    await w.write(batch);
    expect(await scalar(db.client, 'SELECT count() AS v FROM events_raw')).toBe(50);
    await w.write({ ...batch, token: 'raw-writer-dedup-2' });
    expect(await scalar(db.client, 'SELECT count() AS v FROM events_raw')).toBe(100);
  });

  it('a row the engine refuses: the same classified error, isolated and dead-lettered, the rest stored', async () => {
    for (const t of TABLES) await db.client.command({ query: `TRUNCATE TABLE ${t}` });
    const batch = input.anomalies.slice(0, 8);
    const bad: Anomaly = { ...batch[5], event_time: Number.NaN };
    const sink = new ClickHouseSink(batchWriterFor(db), { batchRows: 8, log: () => {} });
    batch.forEach((a, i) => sink.anomaly(i === 5 ? bad : a));
    await sink.flush();
    const kept = await rows<{ anomaly_id: string }>(db.client, 'SELECT anomaly_id FROM anomalies');
    expect(kept.map((r) => r.anomaly_id).sort()).toEqual(batch.filter((_, i) => i !== 5).map((a) => a.anomaly_id).sort());
    const dead = await rows<{ reason: string }>(db.client, "SELECT reason FROM dead_letters FINAL WHERE reason LIKE 'store_refused%'");
    expect(dead).toHaveLength(1);
    expect(dead[0].reason).toMatch(/^store_refused: ClickHouse refused the row for anomalies \(code \d+ [A-Z_]+\): .+/);
    expect(sink.stats()).toMatchObject({ rowsRejected: 1, writeFailures: 0, failingSince: null });
    await sink.close();
  });
});
