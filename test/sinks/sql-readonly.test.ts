/**
 * runSql's read-only settings against each kind of ClickHouse user, with a
 * stand-in client that records what it is sent (the embedded engine only has
 * a readonly=0 user; test/sinks/clickhouse-sql.test.ts runs that one for real):
 * a writable user gets readonly=2 unless --write; a server user that is
 * read-only already (the analyst, readonly=2) or strictly so (readonly=1) is
 * sent no readonly setting, which ClickHouse would refuse from it.
 */
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { runSql } from '../../src/sinks/clickhouse/query.js';

function standIn(level: number, refuseWrites: boolean) {
  const sent: (ClickHouseSettings | undefined)[] = [];
  const readonlyError = Object.assign(new Error('analyst: Cannot execute query in readonly mode.'), { type: 'READONLY', code: '164' });
  const client = {
    query: async (p: { query: string; clickhouse_settings?: ClickHouseSettings }) => {
      if (!p.query.includes("getSetting('readonly')")) sent.push(p.clickhouse_settings);
      return { json: async () => (p.query.includes("getSetting('readonly')") ? [{ level }] : { meta: [{ name: 'one', type: 'UInt8' }], data: [[1]] }) };
    },
    command: async (p: { clickhouse_settings?: ClickHouseSettings }) => {
      sent.push(p.clickhouse_settings);
      if (refuseWrites) throw readonlyError;
      return {};
    },
  } as unknown as ClickHouseClient;
  return { client, sent };
}

const opts = { format: 'table' as const, write: () => undefined, auditTag: 'posguard sql by ana@box' };

describe('runSql read-only settings per user', () => {
  it('a writable user: readonly=2 on every statement unless writes are allowed; the audit tag always', async () => {
    const ro = standIn(0, false);
    await runSql(ro.client, 'SELECT 1; SELECT 1', opts);
    expect(ro.sent).toEqual([{ readonly: '2', log_comment: 'posguard sql by ana@box' }, { readonly: '2', log_comment: 'posguard sql by ana@box' }]);
    const rw = standIn(0, false);
    await runSql(rw.client, 'INSERT INTO t VALUES (1)', { ...opts, allowWrites: true });
    expect(rw.sent).toEqual([{ log_comment: 'posguard sql by ana@box' }]);
  });

  it('the analyst (readonly=2 on the server): no readonly setting sent; --write is refused as the user being read-only', async () => {
    const a = standIn(2, true);
    await expect(runSql(a.client, 'INSERT INTO t VALUES (1)', { ...opts, allowWrites: true })).rejects.toMatchObject({
      code: 'PG_READ_ONLY', message: expect.stringMatching(/^ClickHouse refused "INSERT INTO t VALUES \(1\)": this ClickHouse user is read-only .*CLICKHOUSE_USER=posguard_writer$/),
    });
    expect(a.sent).toEqual([{ log_comment: 'posguard sql by ana@box' }]);
  });

  it('a readonly=1 user: no setting at all (it may change none)', async () => {
    const s = standIn(1, false);
    await runSql(s.client, 'SELECT 1', opts);
    expect(s.sent).toEqual([{}]);
  });
});
