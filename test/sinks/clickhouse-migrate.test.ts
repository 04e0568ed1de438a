import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, loadMigrations, migrate, rawTtlDays } from '../../src/sinks/clickhouse/migrate.js';
import { stripComments } from '../../src/sinks/clickhouse/statements.js';
import { openTestDb, rows, scalar, type TestDb } from './helpers/chdb.js';

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb('migrate', { migrate: false });
});
afterAll(async () => db?.dispose());

/** Everything that makes up the schema, to compare before and after. */
async function schema(): Promise<string[]> {
  const r = await rows<{ name: string; q: string }>(db.client, "SELECT name, create_table_query AS q FROM system.tables WHERE database = currentDatabase() ORDER BY name");
  return r.map((x) => `${x.name}: ${x.q}`);
}

describe('ClickHouse migrations', () => {
  it('are numbered files applied in order and recorded in schema_migrations', async () => {
    const files = loadMigrations();
    expect(files.map((m) => m.version)).toEqual([...files.map((m) => m.version)].sort((a, b) => a - b));
    const r = await migrate(db.client);
    expect(r.applied.map((m) => m.name)).toEqual(files.map((m) => m.name));
    const recorded = await rows<{ version: number; name: string }>(db.client, 'SELECT version, name FROM schema_migrations ORDER BY version');
    expect(recorded.map((x) => x.name)).toEqual(files.map((m) => m.name));
    const tables = (await schema()).map((s) => s.split(':')[0]);
    for (const t of ['anomalies', 'anomalies_latest', 'anomalies_current', 'transactions', 'events_raw', 'late_events', 'dead_letters', 'anomalies_1m', 'transactions_1m', 'anomalies_per_minute', 'transactions_per_minute']) {
      expect(tables).toContain(t);
    }
  });

  it('applied twice changes nothing', async () => {
    const before = await schema();
    const n = await scalar(db.client, 'SELECT count() AS v FROM schema_migrations');
    const r = await migrate(db.client);
    expect(r.applied).toEqual([]);
    expect(r.alreadyApplied.length).toBe(loadMigrations().length);
    expect(await schema()).toEqual(before);
    expect(await scalar(db.client, 'SELECT count() AS v FROM schema_migrations')).toBe(n);
  });

  it('gives events_raw a 30-day TTL by default and changes it only when asked', async () => {
    expect(await rawTtlDays(db.client)).toBe(30);
    const r = await migrate(db.client, { rawTtlDays: 90 });
    expect(r.rawTtlChangedTo).toBe(90);
    expect(await rawTtlDays(db.client)).toBe(90);
    expect((await migrate(db.client, { rawTtlDays: 90 })).rawTtlChangedTo).toBeNull();
    await migrate(db.client, { rawTtlDays: 30 });
    expect(await rawTtlDays(db.client)).toBe(30);
  });

  it('refuses a migration edited after it was applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const f = join(dir, '001_anomalies.sql');
    writeFileSync(f, readFileSync(f, 'utf8') + '\n-- edited\n');
    await expect(migrate(db.client, { migrationsDir: dir })).rejects.toMatchObject({ code: 'PG_MIGRATION', message: expect.stringMatching(/001_anomalies\.sql was changed after it was applied/) });
  });

  it('keeps to DDL a ClickHouse 23.8 server accepts', () => {
    // Features newer than 23.8 that are easy to reach for; none may appear.
    const newer = [/\bJSON\b(?!Extract|Has|Length|Type)/, /\bVariant\(/, /\bDynamic\b/, /REFRESH\s+EVERY/i, /\bTime64?\(/, /allow_experimental/i, /\bSharedMergeTree\b/];
    for (const m of loadMigrations()) {
      const sql = stripComments(m.sql);
      for (const re of newer) expect(sql, `${m.name} uses ${re}`).not.toMatch(re);
    }
  });
});
