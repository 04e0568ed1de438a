/**
 * The posguard command line (commander). Each command lives in its own file
 * under ./commands and registers itself here. Errors with a code are printed as
 * one line `posguard: CODE: message` and exit 2; anything else is a bug (exit 70).
 * Both with secrets masked (util/redact) and card numbers masked (a message may quote input).
 * `--log-level` (any command) or POSGUARD_LOG_LEVEL sets the one logger's level (util/log.ts);
 * log lines go to stderr, the commands' own output (tables, summaries) is not a log line.
 */
import { Command, CommanderError } from 'commander';
import { isPosguardError } from '../errors.js';
import { registerEnvSecrets } from '../config/run-config.js';
import { maskPans } from '../util/pan.js';
import { configureLogger, LOG_LEVELS, parseLogLevel } from '../util/log.js';
import { redact } from '../util/redact.js';
import { COMMANDS } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('posguard')
    .description('Streaming anomaly detector for card payments at the point of sale.')
    .showHelpAfterError()
    .exitOverride()
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')} (default: env POSGUARD_LOG_LEVEL, else info)`)
    // Set before any command runs, so the first line a command logs already has the level asked for.
    .hook('preAction', (root) => {
      const level = root.opts<{ logLevel?: string }>().logLevel;
      configureLogger(level === undefined ? {} : { level: parseLogLevel(level, '--log-level') });
    });
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  registerEnvSecrets(process.env);
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (isPosguardError(e)) {
      process.stderr.write(`posguard: ${e.code}: ${maskPans(redact(e.message))}\n`);
      return 2;
    }
    process.stderr.write(`posguard: internal error: ${maskPans(redact((e as Error)?.stack ?? String(e)))}\n`);
    return 70;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
