/**
 * `posguard migrate [--data DIR] [--raw-ttl-days N]`: creates or updates the
 * ClickHouse schema, embedded under DIR (default ./data) or on the server
 * named by CLICKHOUSE_URL. Running it again changes nothing.
 */
import type { Command } from 'commander';
import { createClient } from '@clickhouse/client';
import { PosguardError } from '../../errors.js';
import { openClickHouse, serverClientOptions } from '../../sinks/clickhouse/connection.js';
import { describeTarget, resolveTarget } from '../../config/clickhouse-target.js';
import { ensureDatabase, migrate } from '../../sinks/clickhouse/migrate.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create or update the ClickHouse schema (embedded under --data, or the server in CLICKHOUSE_URL)')
    .option('--data <dir>', 'embedded ClickHouse data directory (default ./data); conflicts with CLICKHOUSE_URL')
    .option('--raw-ttl-days <days>', 'keep events_raw this many days after writing (default 30; changes an existing table)')
    .action(async (opts: { data?: string; rawTtlDays?: string }) => {
      const rawTtlDays = opts.rawTtlDays === undefined ? undefined : Number(opts.rawTtlDays);
      if (rawTtlDays !== undefined && (!Number.isInteger(rawTtlDays) || rawTtlDays < 1)) {
        throw new PosguardError('PG_USAGE', `--raw-ttl-days: expected a whole number of days, got ${JSON.stringify(opts.rawTtlDays)}`);
      }
      const target = resolveTarget({ dataDir: opts.data, env: process.env });
      if (target.kind === 'server') {
        // A client bound to a database that does not exist cannot connect at all.
        const bootstrap = createClient(serverClientOptions(target, 'default'));
        try {
          await ensureDatabase(bootstrap, target.database);
        } finally {
          await bootstrap.close();
        }
      }
      const ch = await openClickHouse(target);
      try {
        const r = await migrate(ch.client, { rawTtlDays });
        const where = describeTarget(target);
        if (r.applied.length === 0) {
          process.stdout.write(`schema is up to date (${r.alreadyApplied.length} migrations) in ${where}\n`);
        } else {
          for (const m of r.applied) process.stdout.write(`applied ${m.name}\n`);
          process.stdout.write(`${r.applied.length} migration(s) applied, ${r.alreadyApplied.length} already present, in ${where}\n`);
        }
        if (r.rawTtlChangedTo !== null) process.stdout.write(`events_raw now expires ${r.rawTtlChangedTo} days after writing\n`);
      } finally {
        await ch.close();
      }
    });
}
