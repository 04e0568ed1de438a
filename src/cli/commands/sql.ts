/**
 * `posguard sql [--data DIR] [--format table|csv|json] [--write] [SQL]`: runs
 * analyst SQL against the embedded database (or CLICKHOUSE_URL) and prints
 * the result. The SQL comes from the argument, else --file, else standard
 * input. Read-only unless --write, enforced by ClickHouse (docs/security.md).
 */
import { readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { PosguardError } from '../../errors.js';
import { openClickHouse } from '../../sinks/clickhouse/connection.js';
import { resolveTarget } from '../../config/clickhouse-target.js';
import { OUTPUT_FORMATS, runSql, type OutputFormat } from '../../sinks/clickhouse/query.js';

export function registerSql(program: Command): void {
  program
    .command('sql')
    .description('run SQL against posguard\'s ClickHouse and print the result (see docs/queries.md)')
    .argument('[sql]', 'the statement(s); without it, --file or standard input')
    .option('--data <dir>', 'embedded ClickHouse data directory (default ./data); conflicts with CLICKHOUSE_URL')
    .option('--format <format>', `output: ${OUTPUT_FORMATS.join(', ')}`, 'table')
    .option('-f, --file <file>', 'read the SQL from a file')
    .option('--write', 'allow statements that change data or schema (INSERT, ALTER, DROP...); without it ClickHouse refuses them (readonly session)')
    .action(async (sqlArg: string | undefined, opts: { data?: string; format: string; file?: string; write?: boolean }) => {
      if (!(OUTPUT_FORMATS as readonly string[]).includes(opts.format)) {
        throw new PosguardError('PG_USAGE', `--format: expected one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(opts.format)}`);
      }
      const script = await readScript(sqlArg, opts.file);
      const target = resolveTarget({ dataDir: opts.data, env: process.env });
      const ch = await openClickHouse(target, { create: false });
      try {
        await runSql(ch.client, script, {
          format: opts.format as OutputFormat, write: (s) => process.stdout.write(s), allowWrites: opts.write === true, auditTag: auditTag(),
        });
      } finally {
        await ch.close();
      }
    });
}

/** Who runs this, for a server's system.query_log (log_comment): the account is shared, the OS user is not. */
function auditTag(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the tag still says it was posguard sql.
  }
  return `posguard sql by ${user}@${hostname()}`;
}

async function readScript(arg: string | undefined, file: string | undefined): Promise<string> {
  if (arg !== undefined && file !== undefined) throw new PosguardError('PG_USAGE', 'give the SQL either as an argument or with --file, not both');
  if (arg !== undefined) return arg;
  if (file !== undefined) {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw new PosguardError('PG_INPUT_UNREADABLE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
  }
  if (process.stdin.isTTY) throw new PosguardError('PG_USAGE', 'no SQL: pass it as an argument, with --file, or on standard input');
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk as string;
  return text;
}
