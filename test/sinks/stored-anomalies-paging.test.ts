/**
 * The rebuild's ledger load pages through anomalies_current on the embedded
 * engine (keyset on anomaly_id): every row is loaded whatever the page size,
 * none twice, an id with quotes and backslashes included, and the event-time
 * filter is the one of a single unpaged read. (It truncated silently at 2 M
 * rows before.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Ledger } from '../../src/runtime/kafka/ledger.js';
import { clickHouseStoredAnomalies, type StoredAnomalies } from '../../src/sinks/clickhouse/stored-anomalies.js';
import { COLUMNS, encodeAnomaly } from '../../src/sinks/clickhouse/tables.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { buildSinkInput } from './fixtures.js';
import { openTestDb, rows, type TestDb } from './helpers/chdb.js';

let db: TestDb;
const input = buildSinkInput({ days: 2, attemptsPerDay: 100 });
const odd: Anomaly = { ...input.anomalies[0], anomaly_id: "odd'id\\with-quotes", version: 1 };

beforeAll(async () => {
  db = await openTestDb('ledger-paging');
  const all = [...input.anomalies, odd];
  await clientBatchWriter(db.client).write({ table: 'anomalies', columns: COLUMNS.anomalies, body: all.map(encodeAnomaly).join('\n'), rows: all.length, token: 'paging-1' });
});
afterAll(async () => db?.dispose());

/** The store, counting the reads. */
function counted(store: StoredAnomalies): StoredAnomalies & { calls: number } {
  const c = { calls: 0, currentSince: (f: number, l: number, a?: string | null) => (c.calls++, store.currentSince(f, l, a)) };
  return c;
}

describe('ledger load, paged', () => {
  it('loads every current anomaly with pages far smaller than the total, each once', async () => {
    const ids = (await rows<{ anomaly_id: string }>(db.client, 'SELECT anomaly_id FROM anomalies_current')).map((r) => r.anomaly_id);
    expect(ids.length).toBeGreaterThan(20);
    expect(ids).toContain(odd.anomaly_id);
    for (const pageRows of [1, 7]) {
      const store = counted(clickHouseStoredAnomalies(db.client));
      const ledger = new Ledger();
      expect(await ledger.load(store, -Infinity, pageRows)).toBe(ids.length);
      expect(ledger.size).toBe(new Set(ids).size);
      expect(store.calls).toBe(Math.floor(ids.length / pageRows) + 1);
    }
  });

  it('applies the same event-time filter as one unpaged read', async () => {
    const times = input.anomalies.map((a) => a.event_time).sort((a, b) => a - b);
    const from = times[Math.floor(times.length / 2)];
    const store = clickHouseStoredAnomalies(db.client);
    const whole = await store.currentSince(from, 1_000_000);
    expect(whole.length).toBeGreaterThan(5);
    expect(whole.length).toBeLessThan(times.length);
    const ledger = new Ledger();
    expect(await ledger.load(store, from, 3)).toBe(whole.length);
  });
});
