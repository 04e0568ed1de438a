/**
 * `posguard run` wired once: the rules (SIGHUP reloads them), the Prometheus
 * registry and its server, the Kafka run, and the signals (the first
 * SIGTERM/SIGINT drains, a second exits 1 at once). Everything it opens is
 * owned by one `Resources` and closed in reverse order of opening, once, on
 * success, error and signal alike.
 */
import { Registry } from 'prom-client';
import { RulesHolder } from '../config/rules-holder.js';
import { DEFAULT_RULES, loadRulesFile } from '../config/rules.js';
import type { RunConfig } from '../config/run-config.js';
import { KafkaRun, type RunResult } from './kafka/runner.js';
import { createMetrics, startMetricsServer, type MetricsServer } from '../metrics/index.js';
import { logger, type Logger } from '../util/log.js';
import { Resources } from './lifecycle.js';
import { stateCensus } from '../util/state-census.js';

export type { RunResult };

const noop = (): void => undefined;

/** The metrics server, or null when off or when the port is busy (a second instance on one host must not stop the detector). */
async function openMetricsServer(cfg: RunConfig, registry: Registry, run: KafkaRun, log: Logger): Promise<MetricsServer | null> {
  if (cfg.run.metricsPort === 0) return null;
  const r = cfg.run;
  const basicAuth = r.metricsUsername !== null && r.metricsPassword !== null ? { username: r.metricsUsername, password: r.metricsPassword } : undefined;
  try {
    const server = await startMetricsServer({ registry, port: r.metricsPort, host: r.metricsHost, basicAuth, ready: () => run.engineView() !== undefined });
    log.info(`metrics on port ${r.metricsPort} of ${r.metricsHost} (/metrics${basicAuth ? ' with basic auth' : ''}, /healthz, /readyz)`);
    return server;
  } catch (e) {
    log.warn(`no metrics: cannot listen on port ${r.metricsPort}: ${(e as Error).message}`);
    return null;
  }
}

/** SIGTERM/SIGINT: the first drains the run, a second exits at once. Returns the function that removes the handlers. */
function handleSignals(run: KafkaRun, log: Logger): () => void {
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.error(`${sig} again: exiting now without the last commit (a restart re-reads from the previous one)`);
      process.exit(1);
    }
    void run.stop(`received ${sig}`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}

/** Runs the Kafka job until a signal (or the end of input with run.untilEnd); resolves with its result. */
export async function runKafkaJob(cfg: RunConfig): Promise<RunResult> {
  const log = logger().child({ component: 'run' });
  const resources = new Resources();
  try {
    const holder = new RulesHolder(cfg.run.rulesFile ? loadRulesFile(cfg.run.rulesFile) : DEFAULT_RULES, cfg.run.rulesFile ?? undefined);
    resources.defer('rules reload on SIGHUP', holder.watchSignals(logger().child({ component: 'rules' })));
    const registry = new Registry();
    let run: KafkaRun | undefined;
    const metrics = createMetrics({
      registry,
      engine: () => run?.engineView(),
      cardPatterns: () => {
        const n = run?.activeCards();
        return n === undefined ? undefined : { activeCards: () => n };
      },
      sinkStats: () => run?.sinkStats(),
      consumerLag: () => run?.consumerLag() ?? [],
      suppressions: () => run?.suppressions(),
      feeds: () => run?.feedFigures(),
      cardFacts: () => run?.cardFactsView(),
      census: () => stateCensus,
    });
    run = resources.own('kafka run', new KafkaRun({ config: cfg, rules: holder.source, metrics, onAnomaly: (a) => metrics.anomaly(a) }), (r) => r.stop('closing').then(noop, noop));
    const server = await openMetricsServer(cfg, registry, run, log);
    if (server !== null) resources.own('metrics server', server, (s) => s.close());
    resources.defer('signal handlers', handleSignals(run, log));
    await run.start();
    return await run.done;
  } finally {
    await resources.closeAll().catch((e: unknown) => log.warn(`closing: ${(e as Error).message}`));
  }
}
