/**
 * `posguard report` behind the same error handling as src/cli/main.ts, for
 * tests that run it as a separate process before it is registered in
 * src/cli/commands/index.ts.
 */
import { Command, CommanderError } from 'commander';
import { registerReport } from '../../../src/cli/commands/report.js';
import { isPosguardError } from '../../../src/errors.js';

const program = new Command('posguard').exitOverride();
registerReport(program);
try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode;
  else if (isPosguardError(e)) {
    process.stderr.write(`posguard: ${e.code}: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`posguard: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 70;
  }
}
