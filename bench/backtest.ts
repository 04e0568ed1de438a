/**
 * Backtest rate on a demo-sized data set: `posguard demo` (45 simulated
 * minutes at 10 tps, ~205k events) fills an embedded ClickHouse, then
 * events_raw is read back three ways: pages only, pages + JSON parse and
 * contract check, and the whole backtest (both detectors, diff, labels).
 *
 *   node --import tsx bench/backtest.ts [--data DIR]   (DIR: reuse a filled folder)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRules, DEFAULT_RULES } from '../src/config/rules.js';
import { readEvents, type SourceStats } from '../src/backtest/events-source.js';
import { runBacktest } from '../src/runtime/backtest-job.js';
import { parseLine } from '../src/ingest/jsonl.js';
import { openClickHouse } from '../src/sinks/clickhouse/connection.js';

const BIN = new URL('../bin/posguard.js', import.meta.url).pathname;
const given = process.argv.indexOf('--data');
const data = given > 0 ? process.argv[given + 1] : join(mkdtempSync(join(tmpdir(), 'posguard-bench-backtest-')), 'data');
if (!existsSync(data)) {
  execFileSync(process.execPath, [BIN, 'demo', '--duration', '0', '--seed', '1', '--start', '2026-03-02T08:00:00Z', '--data', data], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const ch = await openClickHouse({ kind: 'embedded', dataDir: data }, { create: false });
const FROM = Date.UTC(2026, 2, 1);
const TO = Date.UTC(2026, 2, 4);
const rows: string[][] = [];
const time = async (what: string, f: () => Promise<number>) => {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const n = await f();
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  rows.push([what, String(n), secs.toFixed(2), Math.round(n / secs).toLocaleString('en'), ((cpu.user + cpu.system) / 1e6).toFixed(2)]);
};
try {
  await time('read events_raw in pages', async () => {
    const s: SourceStats = { rows: 0, pages: 0, queries: 0, readMs: 0 };
    for await (const page of readEvents(ch.client, FROM, TO, s)) void page;
    return s.rows;
  });
  await time('read + JSON.parse + contract check', async () => {
    const s: SourceStats = { rows: 0, pages: 0, queries: 0, readMs: 0 };
    let ok = 0;
    for await (const page of readEvents(ch.client, FROM, TO, s)) for (const r of page) if (parseLine(r.stream, 'bench', 0, r.payload).ok) ok++;
    return ok;
  });
  await time('backtest: both detectors, diff, labels', async () => {
    const r = await runBacktest(ch.client, { baseline: DEFAULT_RULES, candidate: buildRules({ cardTesting: { minAttempts: 5 } }) });
    return r.events;
  });
} finally {
  await ch.close();
  if (given < 0) rmSync(join(data, '..'), { recursive: true, force: true });
}
const head = ['step', 'events', 'seconds', 'events/s', 'CPU s (process)'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [head, widths.map((w) => '-'.repeat(w)), ...rows]) process.stdout.write(r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ') + '\n');
