/**
 * A job is one run of posguard (a replay, a demo, `run`): one lifecycle state
 * and one stack of resources. `runJob` closes the stack in reverse order of
 * opening whatever the body does (returns, throws, is stopped by a signal):
 * a demo that fails half-way still closes its ClickHouse handle, its metrics
 * server and its SIGHUP watcher.
 *
 *   const result = await runJob('replay', async (job) => {
 *     const sink = job.resources.own('jsonl files', new JsonlSink(paths), (s) => s.close());
 *     ...
 *   });
 */
import { logger } from '../util/log.js';
import { Lifecycle, Resources } from './lifecycle.js';

export interface Job {
  readonly name: string;
  readonly lifecycle: Lifecycle;
  readonly resources: Resources;
}

export async function runJob<T>(name: string, body: (job: Job) => Promise<T>): Promise<T> {
  const job: Job = { name, lifecycle: new Lifecycle(name), resources: new Resources() };
  job.lifecycle.to('starting');
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
