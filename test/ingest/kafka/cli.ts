/**
 * The Kafka commands (run, topics) plus sql, behind the same error handling as
 * src/cli/main.ts, for tests that run them as a child process before they are
 * registered in src/cli/commands/index.ts (helpers.ts uses bin/posguard.js
 * once they are).
 */
import { Command, CommanderError } from 'commander';
import { registerRun } from '../../../src/cli/commands/run.js';
import { registerSql } from '../../../src/cli/commands/sql.js';
import { registerTopics } from '../../../src/cli/commands/topics.js';
import { isPosguardError } from '../../../src/errors.js';

const program = new Command('posguard').exitOverride();
registerRun(program);
registerTopics(program);
registerSql(program);
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
