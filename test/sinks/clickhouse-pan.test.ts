/**
 * Defence in depth for card data: whatever slipped past the validator, a
 * clear card number never reaches a ClickHouse table. The record goes to
 * dead_letters with the reason and its payload masked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { TABLES } from '../../src/sinks/clickhouse/tables.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import type { TerminalEvent } from '../../src/events/index.js';
import { buildSinkInput } from './fixtures.js';
import { openTestDb, rows, type TestDb } from './helpers/chdb.js';

const PAN = '4111111111111111';
const SPACED = '4111 1111 1111 1111';
let db: TestDb;
let sink: ClickHouseSink;

beforeAll(async () => {
  db = await openTestDb('pan');
  sink = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
  const input = buildSinkInput({ days: 1, attemptsPerDay: 20 });
  const a = input.anomalies.find((x) => x.card_token !== null)!;
  const t = input.transactions[0];
  const terminal = input.raw.find((r) => r.stream === 'terminal' && (r.event as TerminalEvent).card_token !== null)!;
  const bank = input.raw.find((r) => r.stream === 'bank')!;
  sink.anomaly({ ...a, card_token: PAN });
  sink.transaction({ ...t, txn_key: 'x:1', card_token: SPACED });
  sink.transaction({ ...t, txn_key: 'x:2', masked_pan: PAN });
  sink.rawEvent({ ...terminal, event: { ...terminal.event, card_token: PAN } as TerminalEvent });
  sink.rawEvent({ ...terminal, event: { ...terminal.event, masked_pan: PAN } as TerminalEvent });
  sink.lateEvent({ ...bank, event: { ...bank.event, card_token: PAN } });
  // And some good rows next to them.
  sink.anomaly(a);
  sink.transaction(t);
  sink.rawEvent(bank);
  sink.lateEvent(bank);
  await sink.flush();
});
afterAll(async () => db?.dispose());

describe('card numbers in the ClickHouse sink', () => {
  it('refuses every record carrying one and counts it', () => {
    expect(sink.stats().panRefused).toBe(6);
  });

  it('sends them to dead_letters with the reason and a masked payload', async () => {
    const dl = await rows<{ source: string; stream: string | null; reason: string; payload: string }>(db.client, 'SELECT source, stream, reason, payload FROM dead_letters ORDER BY reason, source');
    expect(dl).toHaveLength(6);
    expect(dl.filter((d) => /card_token looks like a clear card number/.test(d.reason))).toHaveLength(4);
    expect(dl.filter((d) => /masked_pan is not masked/.test(d.reason))).toHaveLength(2);
    for (const d of dl) {
      expect(d.payload).toMatch(/\*{16}|\*{4} \*{4} \*{4} \*{4}/);
      expect(d.payload).not.toContain(PAN);
      expect(d.reason).toMatch(/refused by the ClickHouse sink/);
    }
    expect(dl.map((d) => d.source)).toContain('clickhouse-sink:anomalies');
    expect(dl.find((d) => d.stream === 'terminal')?.source).toBe('replay/terminal.jsonl');
  });

  it('leaves no clear card number in any table', async () => {
    for (const t of [...TABLES, 'anomalies_latest']) {
      const rs = await db.client.query({ query: `SELECT * FROM ${t}`, format: 'JSONEachRow' });
      const text = await rs.text();
      expect(text.length, t).toBeGreaterThan(0);
      expect(text, t).not.toContain(PAN);
      expect(text, t).not.toContain(SPACED);
    }
  });
});
