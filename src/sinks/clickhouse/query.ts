/**
 * Runs analyst SQL (`posguard sql`) and renders the result: an aligned table
 * for a terminal, or CSV / JSON lines for pipes.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { PosguardError } from '../../errors.js';
import { returnsRows, splitStatements, stripComments } from './statements.js';

export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface RunSqlOptions {
  readonly format: OutputFormat;
  /** Table cells longer than this are cut, with an ellipsis. Default 60. */
  readonly maxCellWidth?: number;
  readonly write: (text: string) => void;
}

const EXPLICIT_FORMAT = /\bFORMAT\s+[A-Za-z0-9_]+\s*$/i;

/** Runs every statement of `script` in order; stops at the first error (PG_CLICKHOUSE). */
export async function runSql(client: ClickHouseClient, script: string, opts: RunSqlOptions): Promise<void> {
  const statements = splitStatements(script);
  if (statements.length === 0) throw new PosguardError('PG_USAGE', 'no SQL statement given');
  for (const stmt of statements) {
    try {
      await runOne(client, stmt, opts);
    } catch (e) {
      if (e instanceof PosguardError) throw e;
      throw new PosguardError('PG_CLICKHOUSE', clickHouseMessage(e), { cause: e });
    }
  }
}

async function runOne(client: ClickHouseClient, stmt: string, opts: RunSqlOptions): Promise<void> {
  if (!returnsRows(stmt)) {
    await client.command({ query: stmt });
    if (opts.format === 'table') opts.write('OK\n');
    return;
  }
  if (EXPLICIT_FORMAT.test(stripComments(stmt))) {
    // The user chose the output format; pass it through untouched.
    const res = await client.exec({ query: stmt });
    for await (const chunk of res.stream) opts.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return;
  }
  if (opts.format === 'csv' || opts.format === 'json') {
    const rs = await client.query({ query: stmt, format: opts.format === 'csv' ? 'CSVWithNames' : 'JSONEachRow' });
    opts.write(await rs.text());
    return;
  }
  const rs = await client.query({ query: stmt, format: 'JSONCompact' });
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

/** The first line of a ClickHouse error, with its type name (UNKNOWN_TABLE...) when known. */
export function clickHouseMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.trim().split('\n')[0].replace(/\s*\(version [^)]*\)\s*$/, '');
  const type = (e as { type?: unknown })?.type;
  return typeof type === 'string' && type !== '' && !first.includes(`(${type})`) ? `${first} (${type})` : first;
}
