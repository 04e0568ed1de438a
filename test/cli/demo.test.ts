/**
 * The embedded main job end to end: `posguard demo` fills every table from
 * simulated traffic through the real pipeline; every analyst query in
 * docs/queries.md returns rows (read at a frozen "now" just after the data); a second run of the same input leaves the
 * current-state queries unchanged (idempotent writes). Between the runs an
 * analyst labels a few anomalies (the precision and backlog queries then have
 * labels to count) and suppresses one issuer's orphans, which the second run
 * stamps as it rewrites them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { appendLabels } from '../../src/labels/labels.js';
import { openClickHouse } from '../../src/sinks/clickhouse/connection.js';
import { addSuppression } from '../../src/suppress/store.js';
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
      // Label three orphans: two confirmed, one false positive.
      const orphans = await (await h.client.query({ query: "SELECT anomaly_id, ifNull(cause, '') AS cause FROM anomalies_current WHERE kind = 'ORPHAN_DEBIT' AND status != 'RETRACTED' ORDER BY anomaly_id LIMIT 3", format: 'JSONEachRow' })).json<{ anomaly_id: string; cause: string }>();
      expect(orphans).toHaveLength(3);
      await appendLabels(h.client, orphans.map((o, i) => ({ anomaly_id: o.anomaly_id, label: i === 2 ? 'false_positive' : 'confirmed', note: 'demo test', where: '' })), 'demo-test', Date.now());
      const precision = await (await h.client.query({ query: "SELECT sum(labelled) AS labelled, sum(false_positives) AS fp FROM (SELECT countIf(label != '') AS labelled, countIf(label = 'false_positive') AS false_positives FROM anomalies_labelled WHERE kind = 'ORPHAN_DEBIT')", format: 'JSONEachRow' })).json<{ labelled: number; fp: number }>();
      expect(precision.map((r) => [Number(r.labelled), Number(r.fp)])).toEqual([[3, 1]]);
      const queries = documentedQueries({ nowMs: QUERY_NOW_MS });
      expect(queries.length).toBeGreaterThanOrEqual(12);
      for (const q of queries) {
        const res = await (await h.client.query({ query: q.sql, format: 'JSONEachRow' })).json();
        expect(res.length, q.title).toBeGreaterThan(0);
      }
    } finally {
      await h.close();
    }

    // Suppress the orphans of the issuer with the most; the rerun rewrites them with the stamp.
    const h2 = await openClickHouse({ kind: 'embedded', dataDir: data });
    let suppressed: { id: string; issuer: string; orphans: number };
    try {
      const [top] = await (await h2.client.query({ query: "SELECT issuer_id, count() AS n FROM anomalies_current WHERE kind = 'ORPHAN_DEBIT' GROUP BY issuer_id ORDER BY n DESC, issuer_id LIMIT 1", format: 'JSONEachRow' })).json<{ issuer_id: string; n: number }>();
      const id = await addSuppression(h2.client, { kind: 'ORPHAN_DEBIT', scope: 'issuer', value: top.issuer_id, untilMs: Date.now() + 3_600_000, reason: 'demo test' }, 'demo-test', Date.now());
      suppressed = { id, issuer: top.issuer_id, orphans: Number(top.n) };
    } finally {
      await h2.close();
    }

    const before = await snapshot();
    await demo();
    expect(await snapshot()).toEqual(before);
    const h3 = await openClickHouse({ kind: 'embedded', dataDir: data });
    try {
      const q = async (sql: string) => (await (await h3.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>()).map((r) => Object.values(r).map(Number));
      expect(await q(`SELECT count() FROM anomalies_current WHERE suppressed_by = '${suppressed.id}'`)).toEqual([[suppressed.orphans]]);
      expect(await q(`SELECT count() FROM anomalies_current WHERE suppressed_by != '' AND NOT (kind = 'ORPHAN_DEBIT' AND issuer_id = '${suppressed.issuer}')`)).toEqual([[0]]);
      expect(await q(`SELECT count() FROM anomalies_open WHERE kind = 'ORPHAN_DEBIT' AND issuer_id = '${suppressed.issuer}'`)).toEqual([[0]]);
    } finally {
      await h3.close();
    }
  }, 240_000);
});
