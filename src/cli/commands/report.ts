/**
 * `posguard report [--data DIR] [--out report.html] [--from ISO] [--to ISO]`:
 * writes a self-contained HTML report (inline SVG charts, no network) from the
 * embedded database or the server named by CLICKHOUSE_URL.
 */
import type { Command } from 'commander';
import { PosguardError } from '../../errors.js';
import { buildReport, writeReport } from '../../report/index.js';
import { openClickHouse } from '../../sinks/clickhouse/connection.js';
import { describeTarget, resolveTarget } from '../../config/clickhouse-target.js';

export interface ReportOptions {
  data?: string;
  out: string;
  from?: string;
  to?: string;
  title?: string;
}

function time(name: string, v: string | undefined): number | null {
  if (v === undefined) return null;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new PosguardError('PG_USAGE', `${name}: expected an ISO date or time (e.g. 2026-03-02 or 2026-03-02T08:00:00Z), got "${v}"`);
  return ms;
}

export async function runReport(o: ReportOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; bytes: number }> {
  const fromMs = time('--from', o.from);
  const toMs = time('--to', o.to);
  if (fromMs !== null && toMs !== null && fromMs >= toMs) throw new PosguardError('PG_USAGE', `--from (${o.from}) must be before --to (${o.to})`);
  const target = resolveTarget({ dataDir: o.data, env });
  const ch = await openClickHouse(target, { create: false });
  let html: string;
  try {
    html = await buildReport(ch.client, { source: describeTarget(target), title: o.title, window: { fromMs, toMs } });
  } finally {
    await ch.close();
  }
  await writeReport(o.out, html);
  return { path: o.out, bytes: Buffer.byteLength(html) };
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report (money at risk, orphans by cause, top issuers and terminals, fraud patterns) from posguard\'s ClickHouse')
    .option('--data <dir>', 'embedded ClickHouse data directory (default ./data); conflicts with CLICKHOUSE_URL')
    .option('--out <file>', 'the HTML file to write', 'report.html')
    .option('--from <time>', 'only events at or after this time (ISO, UTC)')
    .option('--to <time>', 'only events before this time (ISO, UTC)')
    .option('--title <text>', 'page title', 'posguard report')
    .action(async (opts: ReportOptions) => {
      const r = await runReport(opts);
      process.stderr.write(`posguard report: wrote ${r.path} (${Math.round(r.bytes / 1024)} KiB)\n`);
    });
}
