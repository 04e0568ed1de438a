/**
 * The migrate and sql commands behind the same error handling as
 * src/cli/main.ts (`posguard: CODE: message`, exit 2), for tests that run them
 * as a separate process before they are registered in src/cli/commands/index.ts.
 */
import { Command, CommanderError } from 'commander';
import { registerMigrate } from '../../../src/cli/commands/migrate.js';
import { registerSql } from '../../../src/cli/commands/sql.js';
import { isPosguardError } from '../../../src/errors.js';

const program = new Command('posguard').exitOverride();
registerMigrate(program);
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
