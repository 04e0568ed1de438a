/**
 * insert_deduplication_token on the embedded engine: the same batch written
 * twice with the same token is stored once, in the table and in the
 * aggregates its materialized views feed. Merges are stopped, so nothing but
 * the deduplication window can hide the second copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLUMNS, encodeAnomaly, encodeTransaction } from '../../src/sinks/clickhouse/tables.js';
import { clientBatchWriter, type InsertBatch } from '../../src/sinks/clickhouse/writer.js';
import { buildSinkInput } from './fixtures.js';
import { openTestDb, scalar, type TestDb } from './helpers/chdb.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('dedup');
  await db.client.command({ query: 'SYSTEM STOP MERGES' });
});
afterAll(async () => db?.dispose());

const input = buildSinkInput({ days: 2, attemptsPerDay: 100 });
const count = (sql: string) => scalar(db.client, `SELECT count() AS v FROM ${sql}`);

describe('insert deduplication', () => {
  it('stores a batch retried with the same token once, aggregates included', async () => {
    const w = clientBatchWriter(db.client);
    const batch: InsertBatch = { table: 'anomalies', columns: COLUMNS.anomalies, body: input.anomalies.map(encodeAnomaly).join('\n'), rows: input.anomalies.length, token: 'test-anomalies-1' };
    await w.write(batch);
    const rows = await count('anomalies');
    const agg = await count('anomalies_1m');
    const latest = await count('anomalies_latest');
    expect(rows).toBe(input.anomalies.length);
    await w.write(batch);
    await w.write(batch);
    expect(await count('anomalies')).toBe(rows);
    expect(await count('anomalies_1m')).toBe(agg);
    expect(await count('anomalies_latest')).toBe(latest);
  });

  it('stores the same rows under a new token again (the control), and the views still count them once', async () => {
    const w = clientBatchWriter(db.client);
    const body = input.transactions.map(encodeTransaction).join('\n');
    const rows = input.transactions.length;
    await w.write({ table: 'transactions', columns: COLUMNS.transactions, body, rows, token: 'test-transactions-1' });
    // (Within one insert ReplacingMergeTree already keeps one version per key.)
    const once = await count('transactions');
    const attempts = await scalar(db.client, 'SELECT sum(attempts) AS v FROM transactions_per_minute');
    const debited = await scalar(db.client, 'SELECT sum(debited_amount) AS v FROM transactions_per_minute');
    await w.write({ table: 'transactions', columns: COLUMNS.transactions, body, rows, token: 'test-transactions-2' });
    expect(await count('transactions')).toBe(2 * once);
    expect(await count('transactions FINAL')).toBe(new Set(input.transactions.map((t) => t.txn_key)).size);
    // The aggregates hold distinct-id states: a duplicate row changes no figure.
    expect(await scalar(db.client, 'SELECT sum(attempts) AS v FROM transactions_per_minute')).toBe(attempts);
    expect(await scalar(db.client, 'SELECT sum(debited_amount) AS v FROM transactions_per_minute')).toBe(debited);
  });
});
