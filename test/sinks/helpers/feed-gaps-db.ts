/**
 * A small embedded database (synthetic sink input, test/sinks/fixtures.ts,
 * through the real ClickHouseSink) in which chosen orphans get a next version
 * decided with the terminal feed released (feed_gaps ['terminal'], migration
 * 010): the three oldest open ones (the report lists them first), one
 * auto-resolved and one retracted. Tests expect counts from this choice.
 */
import type { Anomaly } from '../../../src/events/anomaly.js';
import { ClickHouseSink } from '../../../src/sinks/clickhouse/sink.js';
import { clientBatchWriter } from '../../../src/sinks/clickhouse/writer.js';
import { buildSinkInput, feed } from '../fixtures.js';
import { openTestDb, rows, type TestDb } from './chdb.js';

export const FEED_GAPS_NOW = Date.UTC(2026, 2, 2, 12);

export interface FeedGapsDb {
  readonly db: TestDb;
  readonly openGapped: readonly string[];
  readonly resolvedGapped: string;
  readonly retractedGapped: string;
}

/** Ids of orphans in the order the report lists them (oldest debit first). */
async function oldest(db: TestDb, where: string, limit: number): Promise<string[]> {
  const r = await rows<{ anomaly_id: string }>(db.client, `SELECT anomaly_id FROM anomalies_current WHERE kind = 'ORPHAN_DEBIT' AND ${where} ORDER BY event_time, amount_minor DESC LIMIT ${limit}`);
  return r.map((x) => x.anomaly_id);
}

/** `beforeGaps` runs on the complete-input database, before any gap is written. */
export async function openFeedGapsDb(name: string, beforeGaps: (db: TestDb) => Promise<void> = async () => {}): Promise<FeedGapsDb> {
  const db = await openTestDb(name);
  const input = buildSinkInput({ days: 2, attemptsPerDay: 250, seed: 7, now: FEED_GAPS_NOW });
  const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
  feed(sink, input);
  await sink.close();
  await beforeGaps(db);
  const openGapped = await oldest(db, "status = 'OPEN' AND suppressed = 0", 3);
  const [resolvedGapped] = await oldest(db, "status = 'AUTO_RESOLVED'", 1);
  const [retractedGapped] = await oldest(db, "status = 'RETRACTED'", 1);
  const last = new Map<string, Anomaly>();
  for (const a of input.anomalies) if ((last.get(a.anomaly_id)?.version ?? 0) < a.version) last.set(a.anomaly_id, a);
  const again = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
  for (const id of [...openGapped, resolvedGapped, retractedGapped]) {
    const a = last.get(id);
    if (a === undefined) throw new Error(`fixture has no anomaly ${id}`);
    again.anomaly({ ...a, version: a.version + 1, feed_gaps: ['terminal'] });
  }
  await again.close();
  return { db, openGapped, resolvedGapped, retractedGapped };
}
