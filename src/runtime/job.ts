/**
 * A job is one run of posguard (a replay, a demo, `run`): one lifecycle state,
 * one stack of resources, one stop request. `runJob` closes the stack in
 * reverse order of opening whatever the body does (returns, throws, is
 * stopped by a signal): a demo that fails half-way still closes its ClickHouse
 * handle, its metrics server and its SIGHUP watcher.
 *
 * SIGINT/SIGTERM are watched from the start to the very end (the watcher is
 * the first resource, so the last closed): the first signal calls the job's
 * stop handlers (the driver stops its source, then drains), a second one
 * exits at once, even while a slow sink is being closed.
 *
 *   const result = await runJob('replay', async (job) => {
 *     const sink = job.resources.own('output files', new JsonlSink(paths), (s) => s.close());
 *     const driver = new Driver({ ..., lifecycle: job.lifecycle });
 *     job.onStop((signal) => driver.stop(signal));
 *     return driver.run();
 *   });
 */
import { logger } from '../util/log.js';
import { Lifecycle, Resources } from './lifecycle.js';
import { watchShutdownSignals, type ShutdownSignalOptions } from './signals.js';

export interface Job {
  readonly name: string;
  readonly lifecycle: Lifecycle;
  readonly resources: Resources;
  /** Runs `handler` on the first stop request (at once if one came already). */
  onStop(handler: (reason: string) => void): void;
  /** Asks the job to stop taking input (what the first signal does). Idempotent. */
  requestStop(reason: string): void;
}

export interface JobOptions {
  /** Watch SIGINT/SIGTERM (default true); tests pass their own exit. */
  readonly signals?: boolean | Omit<ShutdownSignalOptions, 'stop'>;
}

function createJob(name: string): Job {
  const handlers: ((reason: string) => void)[] = [];
  let stopReason: string | null = null;
  return {
    name,
    lifecycle: new Lifecycle(name),
    resources: new Resources(),
    onStop(handler) {
      handlers.push(handler);
      if (stopReason !== null) handler(stopReason);
    },
    requestStop(reason) {
      if (stopReason !== null) return;
      stopReason = reason;
      for (const h of handlers) h(reason);
    },
  };
}

export async function runJob<T>(name: string, body: (job: Job) => Promise<T>, o: JobOptions = {}): Promise<T> {
  const job = createJob(name);
  job.lifecycle.to('starting');
  if (o.signals !== false) {
    const extra = typeof o.signals === 'object' ? o.signals : {};
    job.resources.defer('signal handlers', watchShutdownSignals({ ...extra, stop: (signal) => job.requestStop(signal) }));
  }
  let result: T;
  try {
    result = await body(job);
  } catch (e) {
    job.lifecycle.to('closing');
    // The body's error is the one to report; a closer failing on the way out is logged, not lost.
    await job.resources.closeAll().catch((closeError: unknown) => {
      logger().child({ component: 'runtime' }).error({ err: closeError }, `${name}: closing after a failure also failed`);
    });
    job.lifecycle.to('closed');
    throw e;
  }
  job.lifecycle.to('closing');
  await job.resources.closeAll();
  job.lifecycle.to('closed');
  return result;
}
