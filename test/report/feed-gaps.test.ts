/**
 * Anomalies decided while a feed was down (feed_gaps, migration 010) are told
 * apart by the analyst surfaces: the report counts them and marks the open
 * cases, `posguard case` names the missing feed on the version that was
 * decided without it. The gaps are set on chosen anomalies
 * (test/sinks/helpers/feed-gaps-db.ts), so the expected counts come from the
 * choice, not from the output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCase } from '../../src/cases/build.js';
import { renderCaseText } from '../../src/cases/render-text.js';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { buildReport, readReportData, type ReportData } from '../../src/report/index.js';
import { renderCaseSection } from '../../src/report/case-html.js';
import { FEED_GAPS_NOW, openFeedGapsDb, type FeedGapsDb } from '../sinks/helpers/feed-gaps-db.js';

let g: FeedGapsDb;
let before: ReportData;
let after: ReportData;
let html: string;

beforeAll(async () => {
  g = await openFeedGapsDb('report-feed-gaps', async (db) => { before = await readReportData(db.client); });
  after = await readReportData(g.db.client);
  html = await buildReport(g.db.client, { source: 'test', now: new Date(FEED_GAPS_NOW) });
}, 180_000);
afterAll(async () => g?.db.dispose());

describe('report: anomalies decided with feed gaps', () => {
  it('counts orphans decided with gaps (not retracted ones) and the open ones among them', () => {
    expect(g.openGapped).toHaveLength(3);
    expect(g.resolvedGapped).toBeTruthy();
    expect(g.retractedGapped).toBeTruthy();
    expect(before.orphanStatus).toMatchObject({ with_feed_gaps: 0, open_with_feed_gaps: 0 });
    expect(after.orphanStatus).toMatchObject({ with_feed_gaps: 4, open_with_feed_gaps: 3, open: before.orphanStatus.open, orphans: before.orphanStatus.orphans });
  });

  it('marks exactly the gapped open cases, and says what it means', () => {
    const marked = after.openCases.filter((c) => c.feed_gaps.length > 0);
    expect(marked.map((c) => c.anomaly_id).sort()).toEqual([...g.openGapped].sort());
    for (const c of marked) expect(c.feed_gaps).toEqual(['terminal']);
    expect(before.openCases.every((c) => c.feed_gaps.length === 0)).toBe(true);
    expect((html.match(/<div class="gap">feed gaps: terminal<\/div>/g) ?? []).length).toBe(3);
    expect(html).toContain('3 open orphaned debits were decided while a feed was down');
    expect(html).toContain('4 decided with feed gaps');
  });
});

describe('posguard case: the version decided without a feed', () => {
  it('names the missing feed on that version only, on the screen, in HTML and in JSON', async () => {
    const id = g.openGapped[0];
    const v = await buildCase(g.db.client, id, { rules: DEFAULT_RULES, rulesSource: 'test defaults' });
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
