/**
 * Anomalies decided while a feed was down (feed_gaps, migration 010) are told
 * apart by the analyst surfaces: the report counts them and marks the open
 * cases, `posguard case` names the missing feed on the version that was
 * decided without it. Synthetic sink input (test/sinks/fixtures.ts) through
 * the real ClickHouseSink into the embedded engine; the gaps are set here on
 * chosen anomalies, so the expected counts come from the choice, not the output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCase } from '../../src/cases/build.js';
import { renderCaseText } from '../../src/cases/render-text.js';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { buildReport, readReportData, type ReportData } from '../../src/report/index.js';
import { renderCaseSection } from '../../src/report/case-html.js';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import { buildSinkInput, feed } from '../sinks/fixtures.js';
import { openTestDb, rows, type TestDb } from '../sinks/helpers/chdb.js';

const NOW = Date.UTC(2026, 2, 2, 12);
let db: TestDb;
let before: ReportData;
let after: ReportData;
let html: string;
/** The oldest open orphans (the report lists them first), one auto-resolved and one retracted orphan: re-written with a gap. */
let openGapped: string[] = [];
let resolvedGapped = '';
let retractedGapped = '';

/** Ids of the orphans the report lists first (oldest debit first). */
async function oldest(client: TestDb['client'], where: string, limit: number): Promise<string[]> {
  const ids = await rows<{ anomaly_id: string }>(client, `SELECT anomaly_id FROM anomalies_current WHERE kind = 'ORPHAN_DEBIT' AND ${where} ORDER BY event_time, amount_minor DESC LIMIT ${limit}`);
  return ids.map((r) => r.anomaly_id);
}

beforeAll(async () => {
  db = await openTestDb('report-feed-gaps');
  const input = buildSinkInput({ days: 2, attemptsPerDay: 250, seed: 7, now: NOW });
  const sink = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
  feed(sink, input);
  await sink.close();
  before = await readReportData(db.client);
  openGapped = await oldest(db.client, "status = 'OPEN' AND suppressed = 0", 3);
  [resolvedGapped] = await oldest(db.client, "status = 'AUTO_RESOLVED'", 1);
  [retractedGapped] = await oldest(db.client, "status = 'RETRACTED'", 1);
  // Each chosen anomaly's latest version, written again as the next version decided with the terminal feed released.
  const last = new Map<string, Anomaly>();
  for (const a of input.anomalies) if ((last.get(a.anomaly_id)?.version ?? 0) < a.version) last.set(a.anomaly_id, a);
  const again = new ClickHouseSink(clientBatchWriter(db.client), { log: () => {} });
  for (const id of [...openGapped, resolvedGapped, retractedGapped]) {
    const a = last.get(id);
    if (a === undefined) throw new Error(`fixture has no anomaly ${id}`);
    again.anomaly({ ...a, version: a.version + 1, feed_gaps: ['terminal'] });
  }
  await again.close();
  after = await readReportData(db.client);
  html = await buildReport(db.client, { source: 'test', now: new Date(NOW) });
}, 180_000);
afterAll(async () => db?.dispose());

describe('report: anomalies decided with feed gaps', () => {
  it('counts orphans decided with gaps (not retracted ones) and the open ones among them', () => {
    expect(openGapped).toHaveLength(3);
    expect(resolvedGapped).toBeTruthy();
    expect(retractedGapped).toBeTruthy();
    expect(before.orphanStatus).toMatchObject({ with_feed_gaps: 0, open_with_feed_gaps: 0 });
    expect(after.orphanStatus).toMatchObject({ with_feed_gaps: 4, open_with_feed_gaps: 3, open: before.orphanStatus.open, orphans: before.orphanStatus.orphans });
  });

  it('marks exactly the gapped open cases, and says what it means', () => {
    const marked = after.openCases.filter((c) => c.feed_gaps.length > 0);
    expect(marked.map((c) => c.anomaly_id).sort()).toEqual([...openGapped].sort());
    for (const c of marked) expect(c.feed_gaps).toEqual(['terminal']);
    expect(before.openCases.every((c) => c.feed_gaps.length === 0)).toBe(true);
    expect((html.match(/<div class="gap">feed gaps: terminal<\/div>/g) ?? []).length).toBe(3);
    expect(html).toContain('3 open orphaned debits were decided while a feed was down');
    expect(html).toContain('4 decided with feed gaps');
  });
});

describe('posguard case: the version decided without a feed', () => {
  it('names the missing feed on that version only, on the screen, in HTML and in JSON', async () => {
    const id = openGapped[0];
    const v = await buildCase(db.client, id, { rules: DEFAULT_RULES, rulesSource: 'test defaults' });
    const versions = v.anomalies.filter((a) => a.anomaly_id === id);
    expect(versions.length).toBeGreaterThanOrEqual(2);
    expect(versions.at(-1)!.feed_gaps).toEqual(['terminal']);
    for (const x of versions.slice(0, -1)) expect(x.feed_gaps).toEqual([]);
    const text = renderCaseText(v);
    expect(text.match(/decided with feed gaps: terminal/g)).toHaveLength(1);
    expect(renderCaseSection(id, v)).toContain('decided with feed gaps: terminal');
    expect(JSON.parse(JSON.stringify(v)).anomalies.at(-1).feed_gaps).toEqual(['terminal']);
  }, 60_000);
});
