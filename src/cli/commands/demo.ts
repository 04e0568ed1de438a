/**
 * `posguard demo`: the main job on the embedded default. Simulated traffic
 * flows through the detector into ClickHouse (chdb in-process under --data, or
 * the server named by CLICKHOUSE_URL), with a live status line and a summary.
 */
import type { Command } from 'commander';
import { DEFAULT_RULES, loadRulesFile } from '../../config/rules.js';
import { RulesHolder } from '../../config/rules-holder.js';
import { PosguardError } from '../../errors.js';
import { Registry } from 'prom-client';
import { createPipeline, type Pipeline } from '../../runtime/pipeline.js';
import { createMetrics, startMetricsServer, type DetectorMetrics } from '../../metrics/index.js';
import { RunSummary } from '../../runtime/summary.js';
import { parseLine } from '../../ingest/jsonl.js';
import { simulate, SIM_DEFAULTS } from '../../sim/index.js';
import { migrate, openClickHouse, resolveTarget, describeTarget, ClickHouseSink, clientBatchWriter } from '../../sinks/clickhouse/index.js';
import { loadActive } from '../../suppress/store.js';
import { Suppressor } from '../../suppress/suppressor.js';
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

export async function runDemo(o: DemoOptions): Promise<RunSummary> {
  const wallMs = parseDuration(o.duration);
  // SIGHUP re-reads --rules: new thresholds apply to new decisions, state is kept, a bad file is refused.
  const holder = new RulesHolder(o.rules ? loadRulesFile(o.rules) : DEFAULT_RULES, o.rules);
  const unwatch = o.rules ? holder.watchSignals() : () => undefined;
  const rules = holder.get();
  const minutes = positive('--minutes', o.minutes);
  const tps = positive('--tps', o.tps);
  const seed = Number(o.seed);
  if (!Number.isSafeInteger(seed)) throw new PosguardError('PG_USAGE', `--seed: expected an integer, got "${o.seed}"`);

  const target = resolveTarget({ dataDir: o.data });
  const handle = await openClickHouse(target);
  await migrate(handle.client);
  const suppressor = new Suppressor((cap) => loadActive(handle.client, cap), {
    reloadIntervalMs: o.suppressionsReloadMs === undefined ? undefined : positive('--suppressions-reload-ms', o.suppressionsReloadMs, true),
  });
  await suppressor.start();
  const registry = new Registry();
  let pipeline: Pipeline | undefined;
  const metrics: DetectorMetrics | null = o.metricsPort === undefined ? null : createMetrics({
    registry, engine: () => pipeline?.engine, cardPatterns: () => pipeline?.cardPatterns, sinkStats: () => sink.stats(), suppressions: () => suppressor,
  });
  const metricsServer = metrics === null ? null : await startMetricsServer({ registry, port: positive('--metrics-port', o.metricsPort!, true), host: o.metricsHost ?? DEMO_METRICS_HOST, ready: () => pipeline !== undefined });
  const sink: ClickHouseSink = new ClickHouseSink(clientBatchWriter(handle.client), { highWaterRows: 50_000, onClose: () => handle.close(), onEvent: metrics?.sinkEvent, rules: holder.source });
  const summary = new RunSummary();
  pipeline = createPipeline(holder.source, {
    anomaly: (found) => {
      const a = suppressor.stamp(found);
      summary.anomaly(a);
      metrics?.anomaly(a);
      sink.anomaly(a);
    },
    transaction: (t) => sink.transaction(t),
    late: (stream, event) => sink.lateEvent({ stream, event, ref: { source: 'simulator' } }),
  });
  const { engine } = pipeline;

  // Default: traffic that ends now, so "today" and "last hour" dashboards show it. Pass --start for a fixed data set.
  const startMs = o.start === undefined ? Math.floor((Date.now() - minutes * 60_000) / 60_000) * 60_000 : Date.parse(o.start);
  if (!Number.isFinite(startMs) || (o.start !== undefined && !/(Z|[+-]\d\d:?\d\d)$/.test(o.start))) {
    throw new PosguardError('PG_USAGE', `--start: expected an ISO time with a zone (e.g. 2026-03-02T08:00:00Z), got "${o.start}"`);
  }
  const sim = simulate({ seed, minutes, tps, startMs, rules });
  const spanMs = minutes * 60_000;
  const status = new StatusLine();
  const started = Date.now();
  let events = 0;
  let lastEvents = 0;
  let lastAt = started;
  let rate = 0;
  const line = () => {
    const now = Date.now();
    if (now - lastAt >= 1_000) {
      rate = Math.round(((events - lastEvents) * 1000) / (now - lastAt));
      lastEvents = events;
      lastAt = now;
    }
    const kinds = Object.entries(summary.countsByKind()).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ') || 'none yet';
    const risk = [...summary.moneyAtRisk().entries()].map(([c, v]) => `${(v / 100).toFixed(2)} ${c}`).join(' ') || '0';
    return `${events} events, ${rate}/s | open attempts ${engine.openAttempts()} | anomalies: ${kinds} | at risk ${risk}`;
  };
  process.stderr.write(`posguard demo: ${minutes} simulated minutes at ${tps} tps (seed ${seed}) into ${describeTarget(target)}, paced over ${wallMs / 1000} s\n`);
  let n = 0;
  let t0: number | null = null;
  for (const r of sim.records) {
    t0 ??= r.arrivalMs;
    // Pace simulated arrival time onto the wall-clock duration.
    if (wallMs > 0 && (++n & 255) === 0) {
      const due = started + ((r.arrivalMs - t0) / spanMs) * wallMs;
      const wait = due - Date.now();
      if (wait > 5) await new Promise((res) => setTimeout(res, wait));
    }
    const p = parseLine(r.stream, 'simulator', n, r.line);
    if (p.ok) {
      events++;
      metrics?.event(r.stream, p.event);
      sink.rawEvent({ stream: r.stream, event: p.event, ref: { source: 'simulator', line: n } });
      engine.push(r.stream, p.event);
    } else {
      summary.bad[r.stream]++;
      metrics?.decodeError(r.stream, p.bad.reason);
      sink.deadLetter({ source: 'simulator', stream: r.stream, line: n, partition: null, offset: null, reason: p.bad.reason, payload: p.bad.payload, received_at: Date.now() });
    }
    if ((n & 1023) === 0) {
      if (sink.backlog() >= 50_000) await sink.drain();
      status.update(line);
    }
  }
  engine.end();
  unwatch();
  status.update(line, true);
  status.done();
  suppressor.close();
  await sink.flush();
  const stats = sink.stats();
  await sink.close();
  await metricsServer?.close();
  const secs = (Date.now() - started) / 1000;
  process.stderr.write(summary.render(engine.counters, {
    'elapsed': `${secs.toFixed(1)} s (${Math.round(events / secs)} events/s)`,
    'rows written to ClickHouse': `${stats.rowsWritten} in ${stats.batchesWritten} batches (${stats.writeFailures} failed attempts)`,
    'query it': `npx posguard sql --data ${o.data} "SELECT kind, cause, count() FROM anomalies_current GROUP BY ALL ORDER BY 3 DESC"`,
  }));
  return summary;
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
