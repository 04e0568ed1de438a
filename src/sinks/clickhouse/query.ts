/**
 * Runs analyst SQL (`posguard sql`) and renders the result: an aligned table
 * for a terminal, or CSV / JSON lines for pipes.
 *
 * Read-only unless the caller allows writes, and enforced by ClickHouse, not
 * by reading the SQL: every statement carries the setting readonly=2 (reads
 * and setting changes only; the readonly setting itself can then no longer
 * be lowered, so `SET readonly = 0` is refused too). A server user that is
 * read-only already (the analyst profile of deploy/clickhouse) is left as it
 * is: ClickHouse refuses any change to `readonly` from such a user.
 */
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { PosguardError } from '../../errors.js';
import { maskPans } from '../../util/pan.js';
import { returnsRows, splitStatements, stripComments, writesFile } from './statements.js';

export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface RunSqlOptions {
  readonly format: OutputFormat;
  /** Table cells longer than this are cut, with an ellipsis. Default 60. */
  readonly maxCellWidth?: number;
  readonly write: (text: string) => void;
  /** Allow statements that change data or schema (`--write`). Default false: read-only. */
  readonly allowWrites?: boolean;
  /** Tagged on every statement as log_comment: who ran it, for a server's system.query_log. */
  readonly auditTag?: string;
}

const EXPLICIT_FORMAT = /\bFORMAT\s+[A-Za-z0-9_]+\s*$/i;

/** Runs every statement of `script` in order; stops at the first error (PG_CLICKHOUSE). */
export async function runSql(client: ClickHouseClient, script: string, opts: RunSqlOptions): Promise<void> {
  const statements = splitStatements(script);
  if (statements.length === 0) throw new PosguardError('PG_USAGE', 'no SQL statement given');
  if (opts.allowWrites !== true) {
    const toFile = statements.find(writesFile);
    if (toFile !== undefined) throw new PosguardError('PG_READ_ONLY', `refused ${statementHead(toFile)}: INTO OUTFILE writes a file; pass --write to allow it`);
  }
  let settings: ClickHouseSettings = {};
  for (const stmt of statements) {
    try {
      if (stmt === statements[0]) settings = await sessionSettings(client, opts);
      await runOne(client, stmt, settings, opts);
    } catch (e) {
      if (e instanceof PosguardError) throw e;
      if (isReadOnlyRefusal(e)) throw readOnlyError(e, stmt, opts.allowWrites === true);
      throw new PosguardError('PG_CLICKHOUSE', clickHouseMessage(e), { cause: e });
    }
  }
}

/**
 * The settings every statement carries. The user's own readonly level is
 * read first: 0 gets readonly=2 unless writes are allowed; 1 and 2 are
 * enforced by the server already (and may not be changed by the client).
 */
async function sessionSettings(client: ClickHouseClient, opts: RunSqlOptions): Promise<ClickHouseSettings> {
  const rs = await client.query({ query: "SELECT toUInt8(getSetting('readonly')) AS level", format: 'JSONEachRow' });
  const level = Number((await rs.json<{ level: number | string }>())[0]?.level ?? 0);
  const settings: ClickHouseSettings = {};
  if (level === 0 && opts.allowWrites !== true) settings.readonly = '2';
  // readonly=1 forbids every setting change, log_comment included.
  if (level !== 1 && opts.auditTag !== undefined) settings.log_comment = opts.auditTag;
  return settings;
}

/** READONLY (164): a write or DDL in a read-only session, or an attempt to lower `readonly`. */
function isReadOnlyRefusal(e: unknown): boolean {
  const x = e as { type?: unknown; code?: unknown };
  return x?.type === 'READONLY' || String(x?.code) === '164';
}

function statementHead(stmt: string): string {
  const head = maskPans(stripComments(stmt).trim().replace(/\s+/g, ' '));
  return JSON.stringify(head.length > 60 ? head.slice(0, 57) + '...' : head);
}

function readOnlyError(e: unknown, stmt: string, allowWrites: boolean): PosguardError {
  const what = statementHead(stmt);
  const why = clickHouseMessage(e);
  return allowWrites
    ? new PosguardError('PG_READ_ONLY', `ClickHouse refused ${what}: this ClickHouse user is read-only (${why}); --write needs a user that may write, e.g. CLICKHOUSE_USER=posguard_writer`, { cause: e })
    : new PosguardError('PG_READ_ONLY', `refused ${what}: posguard sql is read-only (${why}); pass --write to change data or schema`, { cause: e });
}

async function runOne(client: ClickHouseClient, stmt: string, settings: ClickHouseSettings, opts: RunSqlOptions): Promise<void> {
  if (!returnsRows(stmt)) {
    await client.command({ query: stmt, clickhouse_settings: settings });
    if (opts.format === 'table') opts.write('OK\n');
    return;
  }
  if (EXPLICIT_FORMAT.test(stripComments(stmt))) {
    // The user chose the output format; pass it through untouched.
    const res = await client.exec({ query: stmt, clickhouse_settings: settings });
    for await (const chunk of res.stream) opts.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return;
  }
  if (opts.format === 'csv' || opts.format === 'json') {
    const rs = await client.query({ query: stmt, format: opts.format === 'csv' ? 'CSVWithNames' : 'JSONEachRow', clickhouse_settings: settings });
    opts.write(await rs.text());
    return;
  }
  const rs = await client.query({ query: stmt, format: 'JSONCompact', clickhouse_settings: settings });
  const body = await rs.json<unknown[]>() as unknown as { meta: { name: string; type: string }[]; data: unknown[][] };
  opts.write(renderTable(body.meta, body.data, opts.maxCellWidth ?? 60));
}

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;

/** Aligned columns, numbers right-aligned, NULL spelled out, long values cut. */
export function renderTable(meta: readonly { name: string; type: string }[], rows: readonly unknown[][], maxWidth = 60): string {
  const cells = rows.map((r) => r.map((v) => cell(v, maxWidth)));
  const heads = meta.map((m) => cell(m.name, maxWidth));
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const right = meta.map((m) => NUMERIC.test(m.type));
  const line = (vals: string[]) => vals.map((v, i) => (right[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(heads), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}

function cell(v: unknown, maxWidth: number): string {
  let s = v === null ? 'NULL' : typeof v === 'string' ? v : JSON.stringify(v);
  s = s.replace(/\r?\n/g, '\\n').replace(/\t/g, ' ');
  return s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s;
}

/** The first line of a ClickHouse error, with its type name (UNKNOWN_TABLE...) when known; card numbers it quotes masked. */
export function clickHouseMessage(e: unknown): string {
  const msg = maskPans(e instanceof Error ? e.message : String(e));
  const first = msg.trim().split('\n')[0].replace(/\s*\(version [^)]*\)\s*$/, '');
  const type = (e as { type?: unknown })?.type;
  return typeof type === 'string' && type !== '' && !first.includes(`(${type})`) ? `${first} (${type})` : first;
}
