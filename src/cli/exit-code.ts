/** How a command ends after a signal stopped its job early: the shell's 128 + signal number. */
import { signalExitCode } from '../runtime/signals.js';

export function exitCodeAfterStop(stoppedBy: string | null): void {
  if (stoppedBy === 'SIGINT' || stoppedBy === 'SIGTERM') process.exitCode = signalExitCode(stoppedBy);
}
