/**
 * `posguard migrate` and `posguard sql` end to end on an embedded database:
 * as separate processes first (SQL from the argument, a file, stdin), then
 * the query runner in process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, type ClickHouseHandle } from '../../src/sinks/clickhouse/connection.js';
import { runSql } from '../../src/sinks/clickhouse/query.js';

const CLI = new URL('../../bin/posguard.js', import.meta.url).pathname;
let dir: string;
const cli = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'posguard-sql-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('posguard migrate and sql as commands', () => {
  it('migrate applies the schema, then reports it up to date', () => {
    const first = cli(['migrate', '--data', dir]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/applied 001_anomalies\n[\s\S]*migration\(s\) applied, 0 already present, in embedded ClickHouse at /);
    const second = cli(['migrate', '--data', dir]);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/^schema is up to date \(\d+ migrations\) in embedded ClickHouse at /);
  });

  it('sql runs the argument, a file, or standard input, in each format', () => {
    const arg = cli(['sql', '--data', dir, '--write', "INSERT INTO dead_letters (dead_letter_id, source, reason, payload, received_at) VALUES ('d1', 'test', 'bad, \"quoted\"', '{}', now64(3)); SELECT source, reason FROM dead_letters"]);
    expect(arg.stderr).toBe('');
    expect(arg.stdout).toBe('OK\nsource  reason\n------  -------------\ntest    bad, "quoted"\n(1 row)\n');
    const file = join(dir, '..', `q-${process.pid}.sql`);
    writeFileSync(file, 'SELECT count() AS n FROM dead_letters;\n');
    const csv = cli(['sql', '--data', dir, '--format', 'csv', '--file', file]);
    rmSync(file);
    expect(csv.stdout).toBe('"n"\n1\n');
    const json = cli(['sql', '--data', dir, '--format', 'json'], 'SELECT source, reason FROM dead_letters');
    expect(JSON.parse(json.stdout)).toEqual({ source: 'test', reason: 'bad, "quoted"' });
  });

  it('sql reports a bad statement as one line with the ClickHouse reason', () => {
    const r = cli(['sql', '--data', dir, 'SELECT * FROM no_such_table']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^posguard: PG_CLICKHOUSE: .*no_such_table.* \(UNKNOWN_TABLE\)\n$/);
    const missing = cli(['sql', '--data', join(dir, 'nope'), 'SELECT 1']);
    expect(missing.stderr).toMatch(/^posguard: PG_INPUT_UNREADABLE: no posguard database at .*nope: run `posguard migrate --data .*nope` or a replay first/);
    const u = cli(['sql', '--data', dir, '--format', 'xml', 'SELECT 1']);
    expect(u.stderr).toBe('posguard: PG_USAGE: --format: expected one of table, csv, json, got "xml"\n');
  });
});

describe('posguard sql is read-only unless --write, enforced by ClickHouse', () => {
  const count = () => cli(['sql', '--data', dir, '--format', 'csv', 'SELECT count() FROM dead_letters']).stdout;

  it('refuses an analyst DROP TABLE and INSERT with one clear line, and changes nothing', () => {
    const before = count();
    expect(before).toMatch(/^"count\(\)"\n\d+\n$/);
    const drop = cli(['sql', '--data', dir, 'DROP TABLE dead_letters']);
    expect(drop.status).toBe(2);
    expect(drop.stdout).toBe('');
    expect(drop.stderr).toMatch(/^posguard: PG_READ_ONLY: refused "DROP TABLE dead_letters": posguard sql is read-only \(.*readonly mode.*\); pass --write to change data or schema\n$/);
    const insert = cli(['sql', '--data', dir, "INSERT INTO dead_letters (dead_letter_id, source, reason, payload, received_at) VALUES ('d2', 'x', 'y', '{}', now64(3))"]);
    expect(insert.status).toBe(2);
    expect(insert.stderr).toMatch(/^posguard: PG_READ_ONLY: refused "INSERT INTO dead_letters .*": posguard sql is read-only/);
    expect(insert.stderr.split('\n')).toHaveLength(2);
    expect(count()).toBe(before);
  });

  it('cannot be talked out of it from the SQL itself', () => {
    const r = cli(['sql', '--data', dir, 'SET readonly = 0; DROP TABLE dead_letters']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^posguard: PG_READ_ONLY: refused "SET readonly = 0"/);
    const inline = cli(['sql', '--data', dir, "INSERT INTO dead_letters (dead_letter_id, source, reason, payload, received_at) SETTINGS readonly = 0 VALUES ('d3', 'x', 'y', '{}', now64(3))"]);
    expect(inline.status).toBe(2);
    expect(inline.stderr).toMatch(/PG_READ_ONLY/);
    // Reads and harmless setting changes still work.
    const ok = cli(['sql', '--data', dir, '--format', 'csv', 'SET max_threads = 1; SELECT 1 AS one']);
    expect([ok.status, ok.stdout]).toEqual([0, '"one"\n1\n']);
  });

  it('refuses INTO OUTFILE, which readonly=2 lets through on the embedded engine, unless --write', () => {
    const out = join(dir, '..', `out-${process.pid}.csv`);
    const r = cli(['sql', '--data', dir, `SELECT 1 /* x */ INTO  OUTFILE '${out}'`]);
    expect(r.stderr).toMatch(/^posguard: PG_READ_ONLY: refused "SELECT 1 INTO OUTFILE .*": INTO OUTFILE writes a file; pass --write to allow it\n$/);
    expect(existsSync(out)).toBe(false);
    // Quoted text and comments are not the clause.
    const quoted = cli(['sql', '--data', dir, '--format', 'csv', "SELECT 'into outfile' AS s -- into outfile"]);
    expect([quoted.status, quoted.stdout]).toEqual([0, '"s"\n"into outfile"\n']);
    const w = cli(['sql', '--data', dir, '--write', `SELECT 1 INTO OUTFILE '${out}' FORMAT CSV`]);
    expect([w.status, w.stderr]).toEqual([0, '']);
    expect(existsSync(out)).toBe(true);
    rmSync(out);
  });

  it('--write permits a write', () => {
    const before = Number(count().split('\n')[1]);
    const w = cli(['sql', '--data', dir, '--write', "INSERT INTO dead_letters (dead_letter_id, source, reason, payload, received_at) VALUES ('d4', 'x', 'y', '{}', now64(3))"]);
    expect([w.status, w.stderr]).toEqual([0, '']);
    expect(Number(count().split('\n')[1])).toBe(before + 1);
  });
});

describe('runSql in process', () => {
  let ch: ClickHouseHandle;
  beforeAll(async () => {
    ch = await openClickHouse({ kind: 'embedded', dataDir: dir });
  });
  afterAll(async () => ch?.close());

  it('passes an explicit FORMAT through untouched', async () => {
    let out = '';
    await runSql(ch.client, 'SELECT 1 AS a, \'x\' AS b FORMAT TSVWithNames', { format: 'table', write: (s) => (out += s) });
    expect(out).toBe('a\tb\n1\tx\n');
  });

  it('shows an empty result as a header and (0 rows)', async () => {
    let out = '';
    await runSql(ch.client, "SELECT anomaly_id, version FROM anomalies_current WHERE kind = 'NONE'", { format: 'table', write: (s) => (out += s) });
    expect(out).toBe('anomaly_id  version\n----------  -------\n(0 rows)\n');
  });
});
