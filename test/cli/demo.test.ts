/**
 * The embedded main job end to end: `posguard demo` fills every table from
 * simulated traffic through the real pipeline; every analyst query in
 * docs/queries.md returns rows (read at a frozen "now" just after the data); a second run of the same input leaves the
 * current-state queries unchanged (idempotent writes).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openClickHouse } from '../../src/sinks/clickhouse/connection.js';
import { QUERY_NOW_MS, documentedQueries } from '../sinks/helpers/queries-doc.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/posguard.js', import.meta.url).pathname;
const data = mkdtempSync(join(tmpdir(), 'posguard-demo-'));
// Ends a few minutes before the queries' frozen "now" (a Wednesday noon), so "today", "this week" and
// "last 24 hours" see it whatever the wall clock: no failure just after midnight UTC or on Mondays.
const start = new Date(QUERY_NOW_MS - 45 * 60_000).toISOString();
const demo = () => run(process.execPath, [BIN, 'demo', '--duration', '0', '--minutes', '40', '--tps', '3', '--seed', '5', '--start', start, '--data', data], { maxBuffer: 1 << 24 });

const CURRENT_STATE = [
  'SELECT kind, cause, status, count() AS n, sum(amount_minor) AS amount FROM anomalies_current GROUP BY kind, cause, status ORDER BY kind, cause, status',
  'SELECT anomaly_id, status, version FROM anomalies_current ORDER BY anomaly_id',
  'SELECT count() AS n, countIf(debited) AS debited, sum(terminal_amount_minor) AS amount FROM transactions FINAL',
  'SELECT count() AS n FROM events_raw FINAL',
  'SELECT * FROM anomalies_per_minute ORDER BY ALL',
];

async function snapshot(): Promise<unknown[]> {
  const h = await openClickHouse({ kind: 'embedded', dataDir: data });
  try {
    const out: unknown[] = [];
    for (const q of CURRENT_STATE) out.push(await (await h.client.query({ query: q, format: 'JSONEachRow' })).json());
    return out;
  } finally {
    await h.close();
  }
}

describe('posguard demo on the embedded ClickHouse', () => {
  it('fills every table, answers every documented query, and a second run changes no current state', async () => {
    const first = await demo();
    expect(first.stderr).toMatch(/posguard summary/);
    expect(first.stderr).toMatch(/rows written to ClickHouse\s+\d+ in \d+ batches \(0 failed attempts\)/);

    const h = await openClickHouse({ kind: 'embedded', dataDir: data });
    try {
      for (const table of ['anomalies', 'anomalies_current', 'transactions', 'events_raw', 'late_events', 'dead_letters', 'anomalies_1m', 'transactions_1m']) {
        const [r] = await (await h.client.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })).json<{ n: string }>();
        expect(Number(r.n), table).toBeGreaterThan(0);
      }
      const kinds = await (await h.client.query({ query: 'SELECT DISTINCT kind FROM anomalies_current ORDER BY kind', format: 'JSONEachRow' })).json<{ kind: string }>();
      expect(kinds.map((k) => k.kind)).toEqual(['AMOUNT_MISMATCH', 'CARD_TESTING', 'CARD_VELOCITY', 'DUPLICATE_DEBIT', 'IMPOSSIBLE_TRAVEL', 'ORPHAN_DEBIT', 'TERMINAL_FAULT_SPIKE']);
      const queries = documentedQueries({ nowMs: QUERY_NOW_MS });
      expect(queries.length).toBeGreaterThanOrEqual(12);
      for (const q of queries) {
        const res = await (await h.client.query({ query: q.sql, format: 'JSONEachRow' })).json();
        expect(res.length, q.title).toBeGreaterThan(0);
      }
    } finally {
      await h.close();
    }

    const before = await snapshot();
    await demo();
    expect(await snapshot()).toEqual(before);
  }, 240_000);
});
