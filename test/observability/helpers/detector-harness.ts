/**
 * A running detector for the end-to-end alert test: simulated traffic with an
 * issuer outage goes through the real pipeline, paced on the wall clock with
 * simulated time running `speed` times faster, and the real metrics are served
 * over HTTP. The metrics' clock is the simulated one, so lags read in simulated
 * seconds, like the rules' scaled windows.
 */
import { Registry } from 'prom-client';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import { createPipeline, type Pipeline } from '../../../src/runtime/pipeline.js';
import { parseLine } from '../../../src/ingest/jsonl.js';
import { createMetrics, startMetricsServer, type MetricsServer } from '../../../src/metrics/index.js';
import { simulate, type IssuerOutageOptions } from '../../../src/sim/index.js';

export interface HarnessOptions {
  readonly startMs: number;
  readonly minutes: number;
  readonly tps: number;
  readonly speed: number;
  readonly seed?: number;
  readonly faultRate?: number;
  readonly outage: IssuerOutageOptions;
}

export interface Harness {
  readonly url: string;
  readonly port: number;
  /** Simulated time now (epoch ms). */
  simNow(): number;
  /** Wall-clock ms at which simulated time reaches `simMs`. */
  wallAt(simMs: number): number;
  /** Resolves when the traffic is exhausted (the server keeps serving). */
  readonly done: Promise<{ events: number }>;
  stop(): Promise<void>;
}

export async function startHarness(o: HarnessOptions): Promise<Harness> {
  const registry = new Registry();
  let pipeline: Pipeline | undefined;
  let wall0 = Date.now();
  const simNow = () => o.startMs + (Date.now() - wall0) * o.speed;
  const metrics = createMetrics({ registry, engine: () => pipeline?.engine, cardPatterns: () => pipeline?.cardPatterns, now: simNow });
  pipeline = createPipeline(() => DEFAULT_RULES, { anomaly: (a) => metrics.anomaly(a) });
  let stopped = false;
  const server: MetricsServer = await startMetricsServer({ registry, port: 0, host: '127.0.0.1', ready: () => !stopped });
  const sim = simulate({ seed: o.seed ?? 11, minutes: o.minutes, tps: o.tps, startMs: o.startMs, faultRate: o.faultRate, issuerOutage: o.outage });
  wall0 = Date.now();
  const engine = pipeline.engine;
  const done = (async () => {
    let n = 0;
    let events = 0;
    for (const r of sim.records) {
      if (stopped) break;
      // Check the clock every 64 records; sleeping yields to the HTTP server.
      if ((++n & 63) === 0) {
        const wait = (r.arrivalMs - simNow()) / o.speed;
        if (wait > 2) await new Promise((res) => setTimeout(res, wait));
        else if ((n & 4095) === 0) await new Promise((res) => setImmediate(res));
      }
      const p = parseLine(r.stream, 'simulator', n, r.line);
      if (!p.ok) {
        metrics.decodeError(r.stream, p.bad.reason);
        continue;
      }
      events++;
      metrics.event(r.stream, p.event);
      engine.push(r.stream, p.event);
    }
    return { events };
  })();
  return {
    url: server.url,
    port: server.port,
    simNow,
    wallAt: (simMs) => wall0 + (simMs - o.startMs) / o.speed,
    done,
    async stop() {
      stopped = true;
      await done.catch(() => undefined);
      await server.close();
    },
  };
}
