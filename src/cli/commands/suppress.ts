/**
 * `posguard suppress add | list | remove`: silence what is expected for one
 * card, merchant, terminal or issuer and one anomaly kind, until a time, with
 * a reason. Stored in ClickHouse (suppressions); a running detector picks
 * changes up at its next reload (docs/analysts-tools.md).
 */
import type { Command } from 'commander';
import { ANOMALY_KINDS, type AnomalyKind } from '../../events/anomaly.js';
import { PosguardError } from '../../errors.js';
import { maskPans } from '../../util/pan.js';
import { analystName } from '../../sinks/clickhouse/analyst-store.js';
import { openClickHouse, type ClickHouseHandle } from '../../sinks/clickhouse/connection.js';
import { resolveTarget } from '../../config/clickhouse-target.js';
import { renderTable } from '../../sinks/clickhouse/query.js';
import {
  SCOPES, addSuppression, listSuppressions, parseUntil, removeSuppression, suppressionProblem, type Scope, type StoredSuppression,
} from '../../suppress/store.js';
import { SUPPRESSIONS_DEFAULTS } from '../../suppress/suppressor.js';

const DATA_HELP = 'embedded ClickHouse data directory (default ./data); conflicts with CLICKHOUSE_URL';

const HELP_AFTER = `
A suppressed anomaly is still written, with suppressed_by = the suppression id,
but leaves anomalies_open, the alerts and the money-at-risk gauge; its amount
is reported apart as suppressed (docs/analysts-tools.md). A running detector
reloads active suppressions every ${SUPPRESSIONS_DEFAULTS.reloadIntervalMs / 1000} s (at most ${SUPPRESSIONS_DEFAULTS.maxActive} apply).
The embedded engine admits one process per data folder: while a detector runs
on it, use a ClickHouse server (CLICKHOUSE_URL) to add suppressions.

Examples:
  $ posguard suppress add --kind TERMINAL_FAULT_SPIKE --terminal T-00042 --until 2026-03-09T00:00:00Z --reason "card reader swap this week"
  $ posguard suppress add --kind CARD_VELOCITY --merchant M-0007 --until 30d --reason "fuel station, repeat fills are normal"
  $ posguard suppress list
  $ posguard suppress list --all --format json
  $ posguard suppress remove sup_3f2a9c0d1e8b --reason "swap done"
`;

interface AddFlags {
  kind?: string;
  card?: string;
  merchant?: string;
  terminal?: string;
  issuer?: string;
  until?: string;
  reason?: string;
  data?: string;
}

export function registerSuppress(program: Command): void {
  const cmd = program
    .command('suppress')
    .description('silence expected anomalies for a card, merchant, terminal or issuer, per kind, until a time (add, list, remove)')
    .addHelpText('after', HELP_AFTER);
  cmd
    .command('add')
    .description('add a suppression; prints its id')
    .requiredOption('--kind <kind>', `anomaly kind: ${ANOMALY_KINDS.join(', ')}`)
    .option('--card <token>', 'a card token (never a card number)')
    .option('--merchant <id>', 'a merchant id')
    .option('--terminal <id>', 'a terminal id')
    .option('--issuer <id>', 'an issuer id')
    .requiredOption('--until <time>', 'when it expires: an ISO time with a zone, or a duration from now (90m, 12h, 30d, 2w)')
    .requiredOption('--reason <text>', 'why this is expected')
    .option('--data <dir>', DATA_HELP)
    .addHelpText('after', HELP_AFTER)
    .action(addCommand);
  cmd
    .command('list')
    .description('list active suppressions (--all: also expired and removed ones)')
    .option('--all', 'include expired and removed suppressions, with who removed them and when')
    .option('--format <format>', 'table or json', 'table')
    .option('--data <dir>', DATA_HELP)
    .action(listCommand);
  cmd
    .command('remove')
    .description('remove a suppression (a tombstone is appended: who added and who removed it are both kept)')
    .argument('<id>', 'the suppression id (sup_...)')
    .option('--reason <text>', 'why it is no longer needed', '')
    .option('--data <dir>', DATA_HELP)
    .action(async (id: string, flags: { reason: string; data?: string }) => {
      await withStore(flags.data, async (ch, who) => {
        const s = await removeSuppression(ch.client, id.trim(), who, flags.reason, Date.now());
        process.stdout.write(`${s.suppression_id} removed (${s.kind} for ${s.scope} ${maskPans(s.value)}, added by ${s.created_by}); by ${who}\n`);
      });
    });
}

async function addCommand(flags: AddFlags): Promise<void> {
  const scoped = SCOPES.filter((s) => flags[s] !== undefined);
  if (scoped.length !== 1) throw new PosguardError('PG_USAGE', `give exactly one of ${SCOPES.map((s) => `--${s}`).join(', ')} (got ${scoped.length})`);
  const scope: Scope = scoped[0];
  const now = Date.now();
  const s = { kind: flags.kind!.trim().toUpperCase(), scope, value: flags[scope]!.trim(), untilMs: parseUntil(flags.until!, now), reason: flags.reason!.trim() };
  const problem = suppressionProblem(s, now);
  if (problem !== null) throw new PosguardError('PG_USAGE', problem);
  await withStore(flags.data, async (ch, who) => {
    const id = await addSuppression(ch.client, { ...s, kind: s.kind as AnomalyKind }, who, now);
    process.stdout.write(`${id}: ${s.kind} for ${scope} ${maskPans(s.value)} suppressed until ${new Date(s.untilMs).toISOString()} (by ${who})\n`);
  });
}

async function listCommand(flags: { all?: boolean; format: string; data?: string }): Promise<void> {
  if (flags.format !== 'table' && flags.format !== 'json') throw new PosguardError('PG_USAGE', `--format: expected table or json, got ${JSON.stringify(flags.format)}`);
  await withStore(flags.data, async (ch) => {
    const rows = await listSuppressions(ch.client, { all: flags.all === true });
    if (flags.format === 'json') {
      for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    const cols: (keyof StoredSuppression)[] = ['suppression_id', 'kind', 'scope', 'value', 'until', 'reason', 'created_by', 'created_at'];
    if (flags.all) cols.push('active', 'removed_by', 'removed_at');
    process.stdout.write(renderTable(cols.map((name) => ({ name, type: 'String' })), rows.map((r) => cols.map((c) => r[c]))));
  });
}

async function withStore(dataDir: string | undefined, fn: (ch: ClickHouseHandle, who: string) => Promise<void>): Promise<void> {
  const target = resolveTarget({ dataDir, env: process.env });
  const ch = await openClickHouse(target, { create: false });
  try {
    await fn(ch, analystName(target, process.env));
  } finally {
    await ch.close();
  }
}
