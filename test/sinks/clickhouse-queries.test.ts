/**
 * Every query in docs/queries.md runs against a database filled with a week of
 * realistic data (written through the real ClickHouseSink) and returns rows.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { buildSinkInput, feed } from './fixtures.js';
import { openTestDb, type TestDb } from './helpers/chdb.js';
import { QUERIES_MD, QUERY_NOW_MS, documentedQueries } from './helpers/queries-doc.js';
import { nonEmpty } from '../support/non-empty.js';

const queries = documentedQueries({ nowMs: QUERY_NOW_MS });

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('queries');
  const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
  feed(sink, buildSinkInput({ days: 7, attemptsPerDay: 250, now: QUERY_NOW_MS }));
  await sink.close();
});
afterAll(async () => db?.dispose());

describe('docs/queries.md', () => {
  it('has at least twelve questions, each with one SQL block', () => {
    expect(queries.length).toBeGreaterThanOrEqual(12);
    const headings = readFileSync(QUERIES_MD, 'utf8').match(/^## /gm) ?? [];
    expect(queries.length).toBe(headings.length);
    // Read at a frozen clock: no query may still ask the wall clock.
    expect(queries.filter((q) => /\b(today|now)\(\)/.test(q.sql)).map((q) => q.title)).toEqual([]);
    expect(documentedQueries().filter((q) => /\btoday\(\)/.test(q.sql)).length).toBeGreaterThan(0);
  });

  it.each(nonEmpty(queries, 'query in docs/queries.md').map((q) => [q.title, q.sql]))('%s', async (_title, sql) => {
    const rs = await db.client.query({ query: sql, format: 'JSONEachRow' });
    const rows = await rs.json();
    expect(rows.length).toBeGreaterThan(0);
  });
});
