/**
 * The demo job: simulated traffic (src/ingest/sim-source.ts) through the
 * driver into ClickHouse (chdb in-process under `dataDir`, or the server named
 * by CLICKHOUSE_URL), with suppressions, optional metrics and a status line.
 *
 * Resources, in order of opening (closed in reverse, on success, error and
 * signal alike): the signal handlers (runJob's), the SIGHUP rules watcher,
 * the ClickHouse handle, the suppressor, the metrics server, the sink.
 */
import { Registry } from 'prom-client';
import { DEFAULT_RULES, loadRulesFile } from '../config/rules.js';
import { RulesHolder } from '../config/rules-holder.js';
import { SimSource } from '../ingest/sim-source.js';
import { createMetrics, startMetricsServer, type DetectorMetrics } from '../metrics/index.js';
import { simulate } from '../sim/index.js';
import { ClickHouseSink, clientBatchWriter, migrate, openClickHouse, type ClickHouseSinkStats } from '../sinks/clickhouse/index.js';
import { describeTarget, resolveTarget } from '../config/clickhouse-target.js';
import type { Sink } from '../sinks/types.js';
import { loadActive } from '../suppress/store.js';
import { Suppressor } from '../suppress/suppressor.js';
import { logger } from '../util/log.js';
import { Driver, type DriverResult } from './driver.js';
import { runJob, type Job } from './job.js';
import { statusText, type StatusView } from './status.js';
import { stateCensus } from '../util/state-census.js';

/** Rows the sink may hold before the input waits (the demo's memory bound for ClickHouse output). */
export const DEMO_SINK_HIGH_WATER_ROWS = 50_000;

export interface DemoJobOptions {
  /** Embedded data folder (ignored when CLICKHOUSE_URL is set). */
  readonly dataDir: string;
  readonly rulesFile?: string;
  readonly seed: number;
  readonly minutes: number;
  readonly tps: number;
  /** True time the traffic starts (epoch ms). */
  readonly startMs: number;
  /** Wall-clock time to spread the traffic over; 0 = as fast as possible. */
  readonly wallMs: number;
  readonly suppressionsReloadMs?: number;
  /** Serve Prometheus metrics, /healthz and /readyz while it runs. */
  readonly metrics?: { readonly port: number; readonly host: string };
  /** A live status line (the CLI's); none when absent. */
  readonly status?: StatusView;
  /** Wraps the ClickHouse sink (tests: a sink that fails). */
  readonly wrapSink?: (sink: ClickHouseSink) => Sink;
}

export interface DemoJobResult extends DriverResult {
  readonly sinkStats: ClickHouseSinkStats;
  /** Where the rows went ("embedded ClickHouse at ./data" or the server). */
  readonly target: string;
}

export async function demoJob(o: DemoJobOptions): Promise<DemoJobResult> {
  return runJob('demo', async (job) => {
    // SIGHUP re-reads the rules file: new thresholds apply to new decisions, state is kept, a bad file is refused.
    const holder = new RulesHolder(o.rulesFile === undefined ? DEFAULT_RULES : loadRulesFile(o.rulesFile), o.rulesFile);
    if (o.rulesFile !== undefined) job.resources.defer('SIGHUP rules watcher', holder.watchSignals());
    const target = resolveTarget({ dataDir: o.dataDir });
    const handle = job.resources.own('clickhouse', await openClickHouse(target), (h) => h.close());
    await migrate(handle.client);
    const suppressor = job.resources.own('suppressor', new Suppressor((cap) => loadActive(handle.client, cap), { reloadIntervalMs: o.suppressionsReloadMs }), (s) => s.close());
    await suppressor.start();

    let driver: Driver | undefined;
    let chSink: ClickHouseSink | undefined;
    const metrics = await openMetrics(job, o, {
      registry: new Registry(), engine: () => driver?.pipeline.engine, cardPatterns: () => driver?.pipeline.cardPatterns, sinkStats: () => chSink?.stats(), suppressions: () => suppressor, census: () => stateCensus,
    }, () => driver !== undefined);
    chSink = new ClickHouseSink(clientBatchWriter(handle.client), { highWaterRows: DEMO_SINK_HIGH_WATER_ROWS, onEvent: metrics?.sinkEvent, rules: holder.source });
    const sink = job.resources.own('clickhouse sink', o.wrapSink ? o.wrapSink(chSink) : chSink, (s) => s.close());

    const records = simulate({ seed: o.seed, minutes: o.minutes, tps: o.tps, startMs: o.startMs, rules: holder.get() }).records;
    const source = new SimSource(records, { spanMs: o.minutes * 60_000, wallMs: o.wallMs });
    const d = new Driver({ source, sink, rules: holder.source, lifecycle: job.lifecycle, metrics, stamp: (a) => suppressor.stamp(a), onChunk: () => o.status?.update(line) });
    const line = statusText(d);
    driver = d;
    job.onStop((signal) => d.stop(signal));
    logger().child({ component: 'demo' }).info(`${o.minutes} simulated minutes at ${o.tps} tps (seed ${o.seed}) into ${describeTarget(target)}, paced over ${o.wallMs / 1000} s`);
    const result = await d.run();
    o.status?.update(line, true);
    o.status?.done();
    return { ...result, sinkStats: chSink.stats(), target: describeTarget(target) };
  });
}

/** The metrics families and, when asked, their server (a resource of the job). */
async function openMetrics(job: Job, o: DemoJobOptions, views: Parameters<typeof createMetrics>[0], ready: () => boolean): Promise<DetectorMetrics | null> {
  if (o.metrics === undefined) return null;
  const metrics = createMetrics(views);
  const server = await startMetricsServer({ registry: views.registry, port: o.metrics.port, host: o.metrics.host, ready });
  job.resources.own('metrics server', server, (s) => s.close());
  return metrics;
}
