/**
 * SIGINT / SIGTERM for a job: the first asks it to stop taking input, after
 * which it drains and closes every resource as on a normal end; a second one
 * (an operator who will not wait for a slow sink) leaves at once with the
 * conventional 128 + signal number. Returns the function that removes the
 * handlers (a job owns it in its `Resources`).
 */
import { constants } from 'node:os';
import { logger, type Logger } from '../util/log.js';

export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export interface ShutdownSignalOptions {
  /** First signal: stop the input (the job's driver then drains and returns). */
  readonly stop: (signal: NodeJS.Signals) => void;
  /** Second signal: leave now. Default `process.exit(code)`. */
  readonly exitNow?: (code: number) => void;
  readonly signals?: readonly NodeJS.Signals[];
  readonly log?: Logger;
}

/** 130 for SIGINT, 143 for SIGTERM: what a shell reports for a process a signal ended. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

export function watchShutdownSignals(o: ShutdownSignalOptions): () => void {
  const log = o.log ?? logger().child({ component: 'runtime' });
  const exitNow = o.exitNow ?? ((code: number) => process.exit(code));
  const signals = o.signals ?? SHUTDOWN_SIGNALS;
  let received: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== null) {
      log.warn(`${signal} again: exiting now, without waiting for the sinks`);
      exitNow(signalExitCode(signal));
      return;
    }
    received = signal;
    log.info(`${signal}: stopping the input, then draining and closing (send it again to exit now)`);
    o.stop(signal);
  };
  const handlers = signals.map((s) => [s, () => onSignal(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}
