/**
 * The schema, the sink and docs/queries.md under ClickHouse 23.8 behaviour,
 * as far as the embedded engine can imitate it: `compatibility = '23.8'`
 * (23.8's setting defaults, e.g. no deduplication in dependent views unless
 * asked) and the old query analyzer (23.8's default). It cannot remove
 * features added since; migrate.test.ts checks the DDL for those.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/sinks/clickhouse/migrate.js';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { COLUMNS, encodeAnomaly } from '../../src/sinks/clickhouse/tables.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { buildSinkInput, feed } from './fixtures.js';
import { openTestDb, rows, scalar, type TestDb } from './helpers/chdb.js';
import { QUERY_NOW_MS, documentedQueries } from './helpers/queries-doc.js';

let db: TestDb;
const input = buildSinkInput({ days: 7, attemptsPerDay: 150, seed: 3, now: QUERY_NOW_MS });

beforeAll(async () => {
  db = await openTestDb('compat', { migrate: false });
  // Session settings: every later statement of this process runs under them.
  await db.client.command({ query: "SET compatibility = '23.8'" });
  await db.client.command({ query: 'SET enable_analyzer = 0' });
  await migrate(db.client);
  const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
  feed(sink, input);
  await sink.close();
});
afterAll(async () => db?.dispose());

describe('under ClickHouse 23.8 settings and the old analyzer', () => {
  it('runs with those settings in force', async () => {
    const s = await rows<{ name: string; value: string }>(db.client, "SELECT name, value FROM system.settings WHERE name IN ('compatibility', 'enable_analyzer', 'deduplicate_blocks_in_dependent_materialized_views') ORDER BY name");
    expect(s).toEqual([
      { name: 'compatibility', value: '23.8' },
      { name: 'deduplicate_blocks_in_dependent_materialized_views', value: '0' },
      { name: 'enable_analyzer', value: '0' },
    ]);
  });

  it('migrates, and a second run changes nothing', async () => {
    expect((await migrate(db.client)).applied).toEqual([]);
  });

  it('answers every question in docs/queries.md', async () => {
    for (const q of documentedQueries({ nowMs: QUERY_NOW_MS })) {
      const r = await rows(db.client, q.sql);
      expect(r.length, q.title).toBeGreaterThan(0);
    }
  });

  it('deduplicates a retried batch in the views too (the sink asks for it explicitly)', async () => {
    await db.client.command({ query: 'SYSTEM STOP MERGES' });
    const w = clientBatchWriter(db.client);
    const extra = input.anomalies.slice(0, 20).map((a) => ({ ...a, anomaly_id: `z${a.anomaly_id.slice(1)}` }));
    const batch = { table: 'anomalies', columns: COLUMNS.anomalies, body: extra.map(encodeAnomaly).join('\n'), rows: extra.length, token: 'compat-1' };
    await w.write(batch);
    const agg = await scalar(db.client, 'SELECT count() AS v FROM anomalies_1m');
    await w.write(batch);
    expect(await scalar(db.client, 'SELECT count() AS v FROM anomalies_1m')).toBe(agg);
    expect(await scalar(db.client, "SELECT count() AS v FROM anomalies WHERE startsWith(anomaly_id, 'z')")).toBe(extra.length);
  });
});
