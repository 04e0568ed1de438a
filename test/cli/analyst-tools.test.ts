/**
 * `posguard label` and `posguard suppress` end to end, as an analyst runs
 * them: separate processes on an embedded database that already holds
 * anomalies. Good input is appended with who and when; bad input gets one
 * clear line per problem, exit code 2, and writes nothing.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import { openClickHouse } from '../../src/sinks/clickhouse/connection.js';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { openTestDb, rows } from '../sinks/helpers/chdb.js';

const execp = promisify(execFile);
const BIN = new URL('../../bin/posguard.js', import.meta.url).pathname;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLICKHOUSE_')));
let dir = '';
let data = '';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await execp(process.execPath, [BIN, ...args, '--data', data], { env, maxBuffer: 1 << 22 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const h = await openClickHouse({ kind: 'embedded', dataDir: data }, { create: false });
  try {
    return await rows<T>(h.client, sql);
  } finally {
    await h.close();
  }
}

const ids = ['a1', 'a2', 'a3', 'a4'].map((s) => s.padEnd(32, '0'));
const anomaly = (id: string, over: Partial<Anomaly> = {}): Anomaly => ({
  anomaly_id: id, kind: 'ORPHAN_DEBIT', cause: 'REVERSAL_LOST', status: 'OPEN', severity: 'critical', version: 1,
  event_time: Date.UTC(2026, 2, 2, 9), detected_at: Date.UTC(2026, 2, 2, 9, 5), terminal_id: 'TRM00001', merchant_id: 'MRC01', card_token: 'tok_abc',
  rrn: id.slice(0, 12), stan: '000001', issuer_id: 'BNK0101', amount_minor: 1000, currency: 'EUR', related_rrns: [], evidence: { terminal: [], gateway: [], bank: [] }, ...over,
});

beforeAll(async () => {
  const db = await openTestDb('analyst-cli');
  dir = db.dir;
  data = db.dir;
  const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
  for (const id of ids) sink.anomaly(anomaly(id));
  sink.anomaly(anomaly(ids[0], { version: 2 }));
  await sink.close();
  await db.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('posguard label', () => {
  it('labels one anomaly with who and when, and a second label is appended, the latest winning', async () => {
    const r = await cli('label', ids[0], '--as', 'confirmed', '--note', 'customer called');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`labelled ${ids[0]} as confirmed (by ${userInfo().username})\n`);
    expect((await cli('label', ids[0], '--as', 'false_positive', '--note', 'merchant refunded before the debit')).code).toBe(0);
    expect(await query(`SELECT label, note, labelled_by FROM anomaly_labels WHERE anomaly_id = '${ids[0]}' ORDER BY labelled_at`)).toEqual([
      { label: 'confirmed', note: 'customer called', labelled_by: userInfo().username },
      { label: 'false_positive', note: 'merchant refunded before the debit', labelled_by: userInfo().username },
    ]);
    expect(await query(`SELECT label, label_count FROM anomaly_labels_latest WHERE anomaly_id = '${ids[0]}'`)).toEqual([{ label: 'false_positive', label_count: 2 }]);
    expect(await query(`SELECT anomaly_id, version, label FROM anomalies_labelled ORDER BY anomaly_id`)).toEqual([
      { anomaly_id: ids[0], version: 2, label: 'false_positive' }, ...ids.slice(1).map((id) => ({ anomaly_id: id, version: 1, label: '' })),
    ]);
  }, 60_000);

  it('refuses an unknown id and a bad label with one line each, writing nothing', async () => {
    const before = await query('SELECT count() AS n FROM anomaly_labels');
    const unknown = await cli('label', 'f'.repeat(32), '--as', 'confirmed');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`posguard: PG_UNKNOWN_ANOMALY: no anomaly has the id ${'f'.repeat(32)}; nothing was written\n`);
    const bad = await cli('label', ids[1], '--as', 'fraud');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('posguard: PG_USAGE: label "fraud" is not one of confirmed, false_positive, expected\n');
    const none = await cli('label', ids[1]);
    expect(none.stderr).toMatch(/^posguard: PG_USAGE: --as: required/);
    expect(await query('SELECT count() AS n FROM anomaly_labels')).toEqual(before);
  }, 60_000);

  it('an error line never shows a card number given as an id or an option', async () => {
    const pan = '4111111111111111';
    const one = await cli('label', pan, '--as', 'confirmed');
    expect(one.stderr).toBe('posguard: PG_UNKNOWN_ANOMALY: no anomaly has the id ****************; nothing was written\n');
    const csv = join(dir, '..', `pan-${process.pid}.csv`);
    writeFileSync(csv, `anomaly_id,label\n${pan},confirmed\n`);
    const many = await cli('label', '--csv', csv);
    rmSync(csv);
    expect(many.stderr.split('\n')[0]).toBe(`posguard: ${csv} row 1 (line 2): no anomaly has the id ****************`);
    const opt = await cli('suppress', 'list', '--format', pan);
    expect(opt.stderr).toBe('posguard: PG_USAGE: --format: expected table or json, got "****************"\n');
    for (const r of [one, many, opt]) expect(r.stderr).not.toContain(pan);
  });

  it('labels from a CSV; a file with bad rows or unknown ids names each row and writes nothing', async () => {
    const good = join(dir, 'good.csv');
    writeFileSync(good, `anomaly_id,label,note\n${ids[1]},confirmed,"refund issued, case 7"\n${ids[2]},expected,\n`);
    const r = await cli('label', '--csv', good);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^labelled 2 anomalies \(1 confirmed, 1 expected\) by /);

    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, `anomaly_id,label,note\n${ids[3]},confirmed,ok\n${ids[3]},nope,\n,confirmed,\n`);
    const b = await cli('label', '--csv', bad);
    expect(b.code).toBe(2);
    expect(b.stderr.trim().split('\n')).toEqual([
      `posguard: ${bad} row 2 (line 3): label "nope" is not one of confirmed, false_positive, expected`,
      `posguard: ${bad} row 3 (line 4): anomaly_id is empty`,
      `posguard: PG_LABELS_INVALID: ${bad}: 2 problems; nothing was written`,
    ]);

    const unknown = join(dir, 'unknown.csv');
    writeFileSync(unknown, `anomaly_id,label\n${ids[3]},confirmed\n${'e'.repeat(32)},expected\n`);
    const u = await cli('label', '--csv', unknown);
    expect(u.code).toBe(2);
    expect(u.stderr.trim().split('\n')).toEqual([
      `posguard: ${unknown} row 2 (line 3): no anomaly has the id ${'e'.repeat(32)}`,
      'posguard: PG_UNKNOWN_ANOMALY: 1 of 2 rows name an unknown anomaly; nothing was written',
    ]);
    // Only the good file's two rows (and the first test's two) were written; ids[3] is still unlabelled.
    expect(await query('SELECT anomaly_id, label FROM anomaly_labels_latest ORDER BY anomaly_id')).toEqual([
      { anomaly_id: ids[0], label: 'false_positive' }, { anomaly_id: ids[1], label: 'confirmed' }, { anomaly_id: ids[2], label: 'expected' },
    ]);
    expect(await query("SELECT note FROM anomaly_labels WHERE label = 'confirmed' AND anomaly_id = '" + ids[1] + "'")).toEqual([{ note: 'refund issued, case 7' }]);
  }, 60_000);
});

describe('posguard suppress', () => {
  it('adds, lists and removes a suppression, keeping who added and who removed it', async () => {
    const add = await cli('suppress', 'add', '--kind', 'orphan_debit', '--terminal', 'TRM00001', '--until', '7d', '--reason', 'terminal in repair');
    expect(add.code).toBe(0);
    const id = /^(sup_[0-9a-f]{12}): ORPHAN_DEBIT for terminal TRM00001 suppressed until \S+ \(by .+\)$/.exec(add.stdout.trim())?.[1];
    expect(id, add.stdout).toBeDefined();
    const list = await cli('suppress', 'list');
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain('terminal in repair');
    const json = await cli('suppress', 'list', '--format', 'json');
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ suppression_id: id, kind: 'ORPHAN_DEBIT', scope: 'terminal', value: 'TRM00001', active: true });

    const rm = await cli('suppress', 'remove', id!, '--reason', 'repaired');
    expect(rm.code).toBe(0);
    expect((await cli('suppress', 'list')).stdout).not.toContain(id);
    const all = await cli('suppress', 'list', '--all', '--format', 'json');
    expect(JSON.parse(all.stdout.trim())).toMatchObject({ suppression_id: id, active: false, removed: true, removed_by: userInfo().username, removal_reason: 'repaired' });
    const again = await cli('suppress', 'remove', id!);
    expect(again.stderr).toMatch(/^posguard: PG_USAGE: suppression sup_\w+ was already removed by /);
  }, 90_000);

  it('refuses bad input with one clear line and writes nothing', async () => {
    const before = await query('SELECT count() AS n FROM suppressions');
    const cases: [string[], RegExp][] = [
      [['--kind', 'ORPHAN', '--card', 'tok_1', '--until', '1d', '--reason', 'x'], /PG_USAGE: --kind: "ORPHAN" is not one of ORPHAN_DEBIT/],
      [['--kind', 'CARD_TESTING', '--card', '4111111111111111', '--until', '1d', '--reason', 'x'], /PG_USAGE: --card: that looks like a clear card number/],
      [['--kind', 'CARD_TESTING', '--card', 'tok_1', '--merchant', 'M1', '--until', '1d', '--reason', 'x'], /PG_USAGE: give exactly one of --card, --merchant, --terminal, --issuer \(got 2\)/],
      [['--kind', 'CARD_TESTING', '--card', 'tok_1', '--until', '2020-01-01T00:00:00Z', '--reason', 'x'], /PG_USAGE: --until: 2020-01-01T00:00:00.000Z is already past/],
      [['--kind', 'CARD_TESTING', '--card', 'tok_1', '--until', 'next week', '--reason', 'x'], /PG_USAGE: --until: expected an ISO time with a zone/],
    ];
    for (const [args, re] of cases) {
      const r = await cli('suppress', 'add', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
    const unknown = await cli('suppress', 'remove', 'sup_000000000000');
    expect(unknown.stderr).toMatch(/^posguard: PG_UNKNOWN_SUPPRESSION: no suppression has the id "sup_000000000000"/);
    expect(await query('SELECT count() AS n FROM suppressions')).toEqual(before);
  }, 120_000);
});
