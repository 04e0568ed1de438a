/**
 * ClickHouseSink against the embedded engine: every table is written, values
 * survive the round trip, and writing the same input twice (cut into other
 * batches, so the insert tokens differ) leaves every current-state query
 * unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { buildSinkInput, feed, type SinkInput } from './fixtures.js';
import { openTestDb, rows, scalar, type TestDb } from './helpers/chdb.js';

let db: TestDb;
let input: SinkInput;
const quiet = () => {};

beforeAll(async () => {
  db = await openTestDb('sink');
  input = buildSinkInput({ days: 4, attemptsPerDay: 200 });
  const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: quiet });
  feed(sink, input);
  await sink.flush();
  expect(sink.stats()).toMatchObject({ writeFailures: 0, backlogRows: 0, rowsRejected: 0, panRefused: 0 });
});
afterAll(async () => db?.dispose());

/** The documented current-state views of every table, as text to compare. */
async function currentState(): Promise<Record<string, unknown>> {
  const q = (sql: string) => rows(db.client, sql);
  return {
    anomalies_current: await q('SELECT * FROM anomalies_current ORDER BY anomaly_id'),
    anomaly_versions: await q('SELECT anomaly_id, version, status FROM anomalies FINAL ORDER BY anomaly_id, version'),
    transactions: await q('SELECT * EXCEPT inserted_at FROM transactions FINAL ORDER BY txn_key'),
    events_raw: await q('SELECT stream, count() AS n, sum(cityHash64(event_id, payload)) AS h FROM events_raw FINAL GROUP BY stream ORDER BY stream'),
    late_events: await q('SELECT count() AS n, sum(cityHash64(event_id)) AS h FROM late_events FINAL'),
    dead_letters: await q('SELECT dead_letter_id, reason FROM dead_letters FINAL ORDER BY dead_letter_id'),
    anomalies_per_minute: await q('SELECT * FROM anomalies_per_minute ORDER BY minute, kind, cause, issuer_id, merchant_id, terminal_id, currency'),
    transactions_per_minute: await q('SELECT * FROM transactions_per_minute ORDER BY minute, issuer_id, merchant_id, terminal_id, txn_type, currency'),
  };
}

describe('ClickHouseSink on the embedded engine', () => {
  it('writes every table', async () => {
    const ids = new Set(input.anomalies.map((a) => a.anomaly_id));
    const keys = new Set(input.transactions.map((t) => t.txn_key));
    expect(await scalar(db.client, 'SELECT count() AS v FROM anomalies FINAL')).toBe(input.anomalies.length);
    expect(await scalar(db.client, 'SELECT count() AS v FROM anomalies_current')).toBe(ids.size);
    expect(await scalar(db.client, 'SELECT count() AS v FROM transactions FINAL')).toBe(keys.size);
    expect(await scalar(db.client, 'SELECT count() AS v FROM events_raw FINAL')).toBe(input.raw.length);
    expect(await scalar(db.client, 'SELECT uniqExact(event_id) AS v FROM late_events')).toBe(new Set(input.late.map((r) => r.event.event_id)).size);
    expect(await scalar(db.client, 'SELECT count() AS v FROM dead_letters FINAL')).toBe(input.deadLetters.length);
    expect(await scalar(db.client, 'SELECT sum(anomalies) AS v FROM anomalies_per_minute')).toBe(input.anomalies.filter((a) => a.version === 1).length);
    expect(await scalar(db.client, 'SELECT sum(attempts) AS v FROM transactions_per_minute')).toBe(keys.size);
  });

  it('keeps each anomaly\'s latest version as its current state', async () => {
    const latest = new Map<string, { version: number; status: string }>();
    for (const a of input.anomalies) if ((latest.get(a.anomaly_id)?.version ?? 0) < a.version) latest.set(a.anomaly_id, a);
    const got = await rows<{ anomaly_id: string; version: number; status: string }>(db.client, 'SELECT anomaly_id, version, status FROM anomalies_current');
    expect(got.length).toBe(latest.size);
    for (const g of got) expect({ version: g.version, status: g.status }).toEqual({ version: latest.get(g.anomaly_id)!.version, status: latest.get(g.anomaly_id)!.status });
  });

  it('round-trips values: times to the millisecond, nulls, arrays, nested JSON', async () => {
    const t = input.transactions.find((x) => x.debited && x.anomaly_ids.length > 0 && x.version === 1)!;
    const [got] = await rows<Record<string, unknown>>(db.client, `
      SELECT toUnixTimestamp64Milli(gateway_received_at) AS g, toUnixTimestamp64Milli(bank_auth_at) AS b, toUnixTimestamp64Milli(terminal_started_at) AS s,
             bank_reversal_at, debited, anomaly_ids, masked_pan, bank_amount_minor
      FROM transactions FINAL WHERE txn_key = '${t.txn_key}'`);
    // 64-bit integers come back as numbers or strings depending on the server's settings.
    const num = (k: string) => Number(got[k]);
    expect([num('g'), num('b'), num('s'), num('bank_amount_minor')]).toEqual([t.gateway_received_at, t.bank_auth_at, t.terminal_started_at, t.bank_amount_minor]);
    expect(got).toMatchObject({ bank_reversal_at: null, debited: true, anomaly_ids: t.anomaly_ids, masked_pan: t.masked_pan });
    const e = input.raw.find((r) => r.stream === 'gateway')!;
    const [raw] = await rows<{ payload: string; t: string; p: number; o: string }>(db.client, `SELECT payload, toUnixTimestamp64Milli(event_time) AS t, source_partition AS p, source_offset AS o FROM events_raw WHERE event_id = '${e.event.event_id}'`);
    expect(JSON.parse(raw.payload)).toEqual(e.event);
    expect([Number(raw.t), raw.p, String(raw.o)]).toEqual([e.event.event_time, e.ref!.partition, e.ref!.offset]);
    const a = input.anomalies.find((x) => x.kind === 'ORPHAN_DEBIT')!;
    const [ev] = await rows<{ evidence: string; related_rrns: string[] }>(db.client, `SELECT evidence, related_rrns FROM anomalies WHERE anomaly_id = '${a.anomaly_id}' AND version = 1`);
    expect(JSON.parse(ev.evidence)).toEqual(a.evidence);
  });

  it('shows exactly one copy of everything after the same input is written again in other batches', async () => {
    const before = await currentState();
    // No background merges: the second copy stays on disk, so what hides it is FINAL / the views.
    await db.client.command({ query: 'SYSTEM STOP MERGES' });
    // Different batch boundaries give different insert tokens: this is the
    // replay case, which the keys (not the tokens) must absorb.
    const again = new ClickHouseSink(clientBatchWriter(db.client), { log: quiet, batchRows: 777, highWaterRows: 1_000_000 });
    feed(again, input);
    await again.close();
    // events_raw was cut differently (777 vs 10,000 rows): stored twice, hidden by the keys.
    expect(await scalar(db.client, 'SELECT count() AS v FROM events_raw')).toBe(2 * input.raw.length);
    // All anomalies fit one batch both times: same rows, same token, dropped by the deduplication window.
    expect(input.anomalies.length).toBeLessThan(777);
    expect(await scalar(db.client, 'SELECT count() AS v FROM anomalies')).toBe(input.anomalies.length);
    expect(await currentState()).toEqual(before);
    await db.client.command({ query: 'SYSTEM START MERGES' });
    for (const t of ['events_raw', 'anomalies', 'anomalies_latest', 'transactions', 'anomalies_1m', 'transactions_1m']) {
      await db.client.command({ query: `OPTIMIZE TABLE ${t} FINAL` });
    }
    expect(await scalar(db.client, 'SELECT count() AS v FROM events_raw')).toBe(input.raw.length);
    expect(await currentState()).toEqual(before);
  });
});
