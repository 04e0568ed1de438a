/**
 * feed_gaps in storage (migration 010, ../shared/spec/feeds.md): the sink
 * writes it, the current-state views and the rebuild's reader
 * (stored-anomalies) give it back, and rows written before the migration (by
 * a writer that knew no such column) read as [].
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import { MIGRATIONS_DIR, migrate } from '../../src/sinks/clickhouse/migrate.js';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { clickHouseStoredAnomalies } from '../../src/sinks/clickhouse/stored-anomalies.js';
import { ANOMALY_COLUMNS, encodeAnomaly } from '../../src/sinks/clickhouse/tables.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { buildSinkInput } from './fixtures.js';
import { openTestDb, rows, type TestDb } from './helpers/chdb.js';

let db: TestDb;
let applied: number[] = [];
const NOW = Date.UTC(2026, 2, 2, 12);
const orphan = buildSinkInput({ days: 1, attemptsPerDay: 40, seed: 11, now: NOW }).anomalies.find((a) => a.kind === 'ORPHAN_DEBIT' && a.status === 'OPEN')!;
const as = (id: string, over: Partial<Anomaly> = {}): Anomaly => ({ ...orphan, anomaly_id: id.padEnd(32, '0'), version: 1, ...over });
/** Written before migration 010, without the column. */
const OLD = as('a1');
/** Written after it by the sink: with a gap, without one, and a new version of OLD decided with a gap. */
const GAPPED = as('b1', { feed_gaps: ['terminal'] });
const TWO = as('b2', { feed_gaps: ['terminal', 'bank'] });
const COMPLETE = as('b3');
const OLD_V2 = { ...OLD, version: 2, cause: 'NO_TERMINAL_OUTCOME' as const, feed_gaps: ['terminal' as const] };

beforeAll(async () => {
  db = await openTestDb('feed-gaps', { migrate: false });
  const upTo009 = mkdtempSync(join(tmpdir(), 'posguard-migrations-009-'));
  for (const f of readdirSync(MIGRATIONS_DIR).filter((x) => /^00\d_.*\.sql$/.test(x))) cpSync(join(MIGRATIONS_DIR, f), join(upTo009, f));
  await migrate(db.client, { migrationsDir: upTo009 });
  rmSync(upTo009, { recursive: true, force: true });
  // An old writer: the column list before 010.
  const oldColumns = ANOMALY_COLUMNS.filter((c) => c !== 'feed_gaps');
  const oldRow = JSON.stringify((JSON.parse(encodeAnomaly(OLD)) as unknown[]).slice(0, oldColumns.length));
  await clientBatchWriter(db.client).write({ table: 'anomalies', columns: oldColumns, body: oldRow, rows: 1, token: 'old-writer-1' });
  applied = (await migrate(db.client)).applied.map((m) => m.version);
  const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
  for (const a of [GAPPED, TWO, COMPLETE, OLD_V2]) sink.anomaly(a);
  await sink.close();
}, 120_000);
afterAll(async () => db?.dispose());

const gapsIn = async (from: string, id: string, version?: number) =>
  (await rows<{ g: string[] }>(db.client, `SELECT feed_gaps AS g FROM ${from} WHERE anomaly_id = '${id}'${version === undefined ? '' : ` AND version = ${version}`}`)).map((r) => r.g);

describe('feed_gaps column (migration 010)', () => {
  it('is migration 010, applied on top of 001-009, as Array(LowCardinality(String)) in anomalies and anomalies_latest', async () => {
    expect(applied).toEqual([10]);
    const types = await rows<{ table: string; type: string }>(db.client,
      "SELECT table, type FROM system.columns WHERE database = currentDatabase() AND name = 'feed_gaps' ORDER BY table");
    expect(types.filter((t) => ['anomalies', 'anomalies_latest'].includes(t.table))).toEqual([
      { table: 'anomalies', type: 'Array(LowCardinality(String))' },
      { table: 'anomalies_latest', type: 'Array(LowCardinality(String))' },
    ]);
    // Every view over anomalies exposes it.
    expect(types.map((t) => t.table)).toEqual(expect.arrayContaining(['anomalies_current', 'anomalies_open', 'anomalies_labelled']));
  });

  it('round-trips what the sink wrote, in the history and in every current-state view', async () => {
    for (const from of ['anomalies', 'anomalies_current', 'anomalies_open', 'anomalies_labelled']) {
      expect(await gapsIn(from, GAPPED.anomaly_id), from).toEqual([['terminal']]);
      expect(await gapsIn(from, TWO.anomaly_id), from).toEqual([['terminal', 'bank']]);
      expect(await gapsIn(from, COMPLETE.anomaly_id), from).toEqual([[]]);
    }
  });

  it('rows written before the migration read as []; a later version carries its own gaps', async () => {
    expect(await gapsIn('anomalies', OLD.anomaly_id, 1)).toEqual([[]]);
    expect(await gapsIn('anomalies', OLD.anomaly_id, 2)).toEqual([['terminal']]);
    expect(await gapsIn('anomalies_current', OLD.anomaly_id)).toEqual([['terminal']]);
  });

  it('the rebuild reader gives feed_gaps back, and leaves it out for complete input', async () => {
    const read = await clickHouseStoredAnomalies(db.client).currentSince(-Infinity, 100);
    const byId = new Map(read.map((a) => [a.anomaly_id, a]));
    expect(byId.get(GAPPED.anomaly_id)?.feed_gaps).toEqual(['terminal']);
    expect(byId.get(TWO.anomaly_id)?.feed_gaps).toEqual(['terminal', 'bank']);
    expect(byId.get(OLD.anomaly_id)).toMatchObject({ version: 2, cause: 'NO_TERMINAL_OUTCOME', feed_gaps: ['terminal'] });
    expect(byId.get(COMPLETE.anomaly_id)).toBeDefined();
    expect('feed_gaps' in byId.get(COMPLETE.anomaly_id)!).toBe(false);
  });
});
