/**
 * Applies schemas/clickhouse/NNN_name.sql in order and records each applied
 * version in `schema_migrations`. A version already recorded is skipped, so
 * running it twice changes nothing; a recorded migration whose file has
 * changed since is refused (add a new migration instead of editing an old one).
 *
 * Every statement is written to be re-runnable (IF NOT EXISTS), so a run that
 * died half-way through a file simply applies the file again.
 *
 * Settings: `{{events_raw_ttl_days}}` in a file is replaced by the raw-event
 * TTL when the file is applied (default 30). The checksum covers the file as
 * written, so a different setting is not "a changed migration".
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { PosguardError } from '../../errors.js';
import { clickHouseMessage } from './query.js';
import { splitStatements } from './statements.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../schemas/clickhouse/', import.meta.url));
export const DEFAULT_RAW_TTL_DAYS = 30;

export interface Migration {
  readonly version: number;
  /** File name without the .sql extension, e.g. 001_anomalies. */
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrateOptions {
  readonly migrationsDir?: string;
  /** TTL of events_raw in days. Given explicitly, an existing table is altered to match. */
  readonly rawTtlDays?: number;
}

export interface MigrateResult {
  readonly applied: readonly Migration[];
  readonly alreadyApplied: readonly number[];
  /** Set when events_raw's TTL was changed by this run (days). */
  readonly rawTtlChangedTo: number | null;
}

const FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (e) {
    throw new PosguardError('PG_MIGRATION', `cannot read migrations folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const out: Migration[] = [];
  for (const f of files.sort()) {
    if (!f.endsWith('.sql')) continue;
    const m = FILE.exec(f);
    if (m === null) throw new PosguardError('PG_MIGRATION', `${f}: migration files are named NNN_snake_case.sql`);
    const sql = readFileSync(join(dir, f), 'utf8');
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new PosguardError('PG_MIGRATION', `${f}: version ${version} is used twice`);
    out.push({ version, name: f.slice(0, -4), sql, checksum: createHash('sha256').update(sql).digest('hex').slice(0, 16) });
  }
  return out;
}

const BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version     UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY version`;

export async function appliedMigrations(client: ClickHouseClient): Promise<Map<number, { name: string; checksum: string }>> {
  const rs = await client.query({
    query: 'SELECT version, argMax(name, applied_at) AS name, argMax(checksum, applied_at) AS checksum FROM schema_migrations GROUP BY version ORDER BY version',
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ version: number; name: string; checksum: string }>();
  return new Map(rows.map((r) => [Number(r.version), { name: r.name, checksum: r.checksum }]));
}

export async function migrate(client: ClickHouseClient, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const ttl = opts.rawTtlDays ?? DEFAULT_RAW_TTL_DAYS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 36500) {
    throw new PosguardError('PG_USAGE', `raw event TTL: expected whole days between 1 and 36500, got ${ttl}`);
  }
  const migrations = loadMigrations(opts.migrationsDir);
  await run(client, BOOKKEEPING, 'schema_migrations');
  const done = await appliedMigrations(client);
  const applied: Migration[] = [];
  const already: number[] = [];
  for (const m of migrations) {
    const prior = done.get(m.version);
    if (prior !== undefined) {
      if (prior.checksum !== m.checksum) {
        throw new PosguardError('PG_MIGRATION', `${m.name}.sql was changed after it was applied (recorded checksum ${prior.checksum}, file ${m.checksum}); add a new migration instead of editing an applied one`);
      }
      already.push(m.version);
      continue;
    }
    const sql = m.sql.replaceAll('{{events_raw_ttl_days}}', String(ttl));
    for (const stmt of splitStatements(sql)) await run(client, stmt, m.name);
    // Values are trusted (our own file names and hex), so a literal INSERT is fine.
    await run(client, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (${m.version}, '${m.name}', '${m.checksum}', now64(3))`, m.name);
    applied.push(m);
  }
  let rawTtlChangedTo: number | null = null;
  if (opts.rawTtlDays !== undefined && (await rawTtlDays(client)) !== opts.rawTtlDays) {
    await run(client, `ALTER TABLE events_raw MODIFY TTL inserted_at + INTERVAL ${opts.rawTtlDays} DAY`, 'events_raw TTL');
    rawTtlChangedTo = opts.rawTtlDays;
  }
  return { applied, alreadyApplied: already, rawTtlChangedTo };
}

/** The TTL of events_raw in days, read back from the table definition (null when it has none). */
export async function rawTtlDays(client: ClickHouseClient): Promise<number | null> {
  const rs = await client.query({
    query: "SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = 'events_raw'",
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ q: string }>();
  if (rows.length === 0) return null;
  const m = /TTL\s+inserted_at\s*\+\s*(?:INTERVAL\s+(\d+)\s+DAY|toIntervalDay\((\d+)\))/i.exec(rows[0].q);
  return m === null ? null : Number(m[1] ?? m[2]);
}

async function run(client: ClickHouseClient, stmt: string, where: string): Promise<void> {
  try {
    await client.command({ query: stmt });
  } catch (e) {
    const first = clickHouseMessage(e);
    const head = stmt.replace(/\s+/g, ' ').trim().slice(0, 80);
    throw new PosguardError('PG_MIGRATION', `${where}: ${first} (in: ${head}...)`, { cause: e });
  }
}

/**
 * Server mode: the database named by CLICKHOUSE_DATABASE may not exist yet, and
 * a client bound to a missing database cannot even connect to create it.
 */
export async function ensureDatabase(bootstrap: ClickHouseClient, database: string): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new PosguardError('PG_CONFIG_INVALID', `database name ${JSON.stringify(database)} is not a plain identifier`);
  await run(bootstrap, `CREATE DATABASE IF NOT EXISTS ${database}`, `database ${database}`);
}
