import { readFileSync } from 'node:fs';

export const QUERIES_MD = new URL('../../../docs/queries.md', import.meta.url);

/**
 * A fixed "now" for the documented queries: 2026-03-04T12:00Z, a Wednesday at noon, so "today",
 * "this week" (toMonday) and "the last 24 hours / 7 days" all hold data placed just before it,
 * whatever the wall clock says (no failure just after midnight UTC or on Mondays).
 */
export const QUERY_NOW_MS = Date.UTC(2026, 2, 4, 12, 0, 0);

/**
 * The query evaluated as if the clock read `nowMs`: ClickHouse's `today()` and `now()` become
 * literals. Everything else, windows and arithmetic included, is the documented text.
 */
export function atClock(sql: string, nowMs: number): string {
  const day = new Date(nowMs).toISOString().slice(0, 10);
  const seconds = (nowMs / 1000).toFixed(3);
  return sql.replace(/\btoday\(\)/g, `toDate('${day}')`).replace(/\bnow\(\)/g, `toDateTime64(${seconds}, 3, 'UTC')`);
}

/**
 * Each `## heading` of docs/queries.md with its first ```sql block; with `nowMs`, the clock
 * functions read that instant (atClock).
 */
export function documentedQueries(opts: { markdown?: string; nowMs?: number } = {}): { title: string; sql: string }[] {
  const { markdown = readFileSync(QUERIES_MD, 'utf8'), nowMs } = opts;
  const out: { title: string; sql: string }[] = [];
  const re = /^## (.+)\n[\s\S]*?^```sql\n([\s\S]*?)^```/gm;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) out.push({ title: m[1].trim(), sql: nowMs === undefined ? m[2] : atClock(m[2], nowMs) });
  if (out.length === 0) throw new Error('docs/queries.md: no "## heading" with a ```sql block found');
  return out;
}
