/**
 * The Orphaned debits dashboard tells orphans decided with feed gaps apart:
 * the headline counts the open ones, the by-input table counts them and their
 * money per currency, and the open-cases table shows the missing feed. The
 * panels' SQL (macros expanded as the plugin does) runs against a database in
 * which chosen orphans were decided with the terminal feed released
 * (test/sinks/helpers/feed-gaps-db.ts); the dashboards test runs the same
 * panels against the simulator's complete input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allPanels, expandClickHouseMacros, loadDashboards } from './helpers/grafana.js';
import { FEED_GAPS_NOW, openFeedGapsDb, type FeedGapsDb } from '../sinks/helpers/feed-gaps-db.js';
import { rows } from '../sinks/helpers/chdb.js';

let g: FeedGapsDb;
beforeAll(async () => { g = await openFeedGapsDb('panels-feed-gaps'); }, 180_000);
afterAll(async () => g?.db.dispose());

const orphanPanels = allPanels(loadDashboards().find((d) => d.file === 'orphaned-debits.json')!.dashboard);
const range = { fromMs: FEED_GAPS_NOW - 10 * 86_400_000, toMs: FEED_GAPS_NOW + 86_400_000, intervalMs: 60_000 };
const panel = async (title: string) => {
  const p = orphanPanels.find((x) => x.title === title);
  expect(p, title).toBeDefined();
  return rows<Record<string, unknown>>(g.db.client, expandClickHouseMacros(p!.targets![0].rawSql!, range));
};

describe('Orphaned debits dashboard: orphans decided with feed gaps', () => {
  it('the headline counts the open orphans decided with feed gaps', async () => {
    const [r] = await panel('Open orphaned debits');
    expect(Number(r.open_with_feed_gaps)).toBe(g.openGapped.length);
  });

  it('the by-input table counts gapped orphans and their open money apart from complete input', async () => {
    const byInput = await panel('Orphans by input: complete or decided with feed gaps');
    const gapped = byInput.filter((r) => r.input === 'without terminal');
    const sum = (rs: Record<string, unknown>[], k: string) => rs.reduce((a, r) => a + Number(r[k]), 0);
    // 3 open + 1 auto-resolved + 1 retracted were re-decided with the gap.
    expect(sum(gapped, 'orphans')).toBe(4);
    expect(sum(gapped, 'open')).toBe(3);
    expect(sum(gapped, 'auto_resolved')).toBe(1);
    expect(sum(gapped, 'retracted')).toBe(1);
    const [money] = await rows<{ minor: string }>(g.db.client,
      `SELECT sum(amount_minor) AS minor FROM anomalies_current WHERE anomaly_id IN (${g.openGapped.map((id) => `'${id}'`).join(', ')})`);
    expect(sum(gapped, 'open_amount')).toBeCloseTo(Number(money.minor) / 100, 2);
    expect(byInput.filter((r) => r.input === 'complete').length).toBeGreaterThan(0);
    expect(byInput.every((r) => r.input === 'complete' || r.input === 'without terminal')).toBe(true);
  });

  it('the open-cases table shows the missing feed on exactly those cases', async () => {
    const cases = await panel('Open cases, with their evidence');
    const marked = cases.filter((r) => r.feed_gaps !== '');
    expect(marked.map((r) => r.anomaly_id).sort()).toEqual([...g.openGapped].sort());
    for (const r of marked) expect(r.feed_gaps).toBe('terminal');
  });
});
