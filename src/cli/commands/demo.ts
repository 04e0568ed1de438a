/**
 * `posguard demo`: the main job on the embedded default. Simulated traffic
 * flows through the detector into ClickHouse (chdb in-process under --data, or
 * the server named by CLICKHOUSE_URL), with a live status line and a summary.
 */
import type { Command } from 'commander';
import { PosguardError } from '../../errors.js';
import { demoJob, type DemoJobResult } from '../../runtime/demo.js';
import type { RunSummary } from '../../runtime/summary.js';
import { SIM_DEFAULTS } from '../../sim/index.js';
import { exitCodeAfterStop } from '../exit-code.js';
import { StatusLine } from '../progress.js';

/** A demo runs on a laptop or a shared host: its metrics stay on loopback unless asked (`run` defaults to 0.0.0.0). */
const DEMO_METRICS_HOST = '127.0.0.1';

export interface DemoOptions {
  duration: string;
  data: string;
  seed: string;
  minutes: string;
  tps: string;
  start?: string;
  rules?: string;
  metricsPort?: string;
  suppressionsReloadMs?: string;
  metricsHost?: string;
}

/** "60s", "2m", "90" (seconds), "0" = as fast as possible. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new PosguardError('PG_USAGE', `--duration: expected a number with an optional unit (ms, s, m, h), got "${s}"`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

function positive(name: string, v: string, integer = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new PosguardError('PG_USAGE', `${name}: expected a positive ${integer ? 'integer' : 'number'}, got "${v}"`);
  return n;
}

/** Default: traffic that ends now, so "today" and "last hour" dashboards show it. --start gives a fixed data set. */
function startMs(start: string | undefined, minutes: number): number {
  const ms = start === undefined ? Math.floor((Date.now() - minutes * 60_000) / 60_000) * 60_000 : Date.parse(start);
  if (!Number.isFinite(ms) || (start !== undefined && !/(Z|[+-]\d\d:?\d\d)$/.test(start))) {
    throw new PosguardError('PG_USAGE', `--start: expected an ISO time with a zone (e.g. 2026-03-02T08:00:00Z), got "${start}"`);
  }
  return ms;
}

export async function runDemo(o: DemoOptions): Promise<RunSummary> {
  const wallMs = parseDuration(o.duration);
  const minutes = positive('--minutes', o.minutes);
  const tps = positive('--tps', o.tps);
  const seed = Number(o.seed);
  if (!Number.isSafeInteger(seed)) throw new PosguardError('PG_USAGE', `--seed: expected an integer, got "${o.seed}"`);
  const r = await demoJob({
    dataDir: o.data, rulesFile: o.rules, seed, minutes, tps, startMs: startMs(o.start, minutes), wallMs,
    suppressionsReloadMs: o.suppressionsReloadMs === undefined ? undefined : positive('--suppressions-reload-ms', o.suppressionsReloadMs, true),
    metrics: o.metricsPort === undefined ? undefined : { port: positive('--metrics-port', o.metricsPort, true), host: o.metricsHost ?? DEMO_METRICS_HOST },
    status: new StatusLine(),
  });
  process.stderr.write(renderDemoSummary(r, o.data));
  exitCodeAfterStop(r.stoppedBy);
  return r.summary;
}

export function renderDemoSummary(r: DemoJobResult, dataDir: string): string {
  const { sinkStats: stats } = r;
  return r.summary.render(r.counters, {
    'elapsed': `${r.seconds.toFixed(1)} s (${Math.round(r.events / r.seconds)} events/s)`,
    'rows written to ClickHouse': `${stats.rowsWritten} in ${stats.batchesWritten} batches (${stats.writeFailures} failed attempts)`,
    'query it': `npx posguard sql --data ${dataDir} "SELECT kind, cause, count() FROM anomalies_current GROUP BY ALL ORDER BY 3 DESC"`,
    ...(r.stoppedBy === null ? {} : { 'stopped by': `${r.stoppedBy} (attempts still open were not decided)` }),
  });
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the detector on simulated traffic into the embedded ClickHouse (no external service), with a live status line.')
    .option('--duration <time>', 'wall-clock time to spread the traffic over (e.g. 60s, 2m; 0 = as fast as possible)', '60s')
    .option('--data <dir>', 'embedded ClickHouse data folder (ignored when CLICKHOUSE_URL is set)', './data')
    .option('--seed <n>', 'simulator seed', '1')
    .option('--minutes <m>', 'simulated minutes of traffic', String(SIM_DEFAULTS.minutes))
    .option('--tps <r>', 'simulated attempts per second', '10')
    .option('--start <iso>', 'true time the traffic starts (default: so that it ends now)')
    .option('--rules <file>', 'rules file (YAML or JSON)')
    .option('--metrics-port <port>', 'serve Prometheus metrics, /healthz and /readyz on this port while it runs (e.g. 9464)')
    .option('--suppressions-reload-ms <ms>', 'how often active suppressions are re-read from ClickHouse (default 30000)')
    .option('--metrics-host <addr>', `address the metrics port listens on (default ${DEMO_METRICS_HOST}: a demo is scraped from this machine; 0.0.0.0 for every interface)`)
    .action(async (opts: DemoOptions) => {
      await runDemo(opts);
    });
}
