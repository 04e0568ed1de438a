/**
 * What the analyst tools (posguard label, posguard suppress) share on the
 * store side: who is acting, parameterised reads, and errors that say how to
 * fix the usual causes.
 *
 * Who: the ClickHouse user when posguard talks to a server (CLICKHOUSE_URL,
 * CLICKHOUSE_USER: the name the server itself authenticated), else the OS
 * user running the CLI on the embedded engine.
 */
import { userInfo } from 'node:os';
import type { ClickHouseClient } from '@clickhouse/client';
import { PosguardError } from '../../errors.js';
import type { ClickHouseTarget } from '../../config/clickhouse-target.js';
import { clickHouseMessage } from './query.js';

export function analystName(target: ClickHouseTarget, env: Readonly<Record<string, string | undefined>> = {}): string {
  if (target.kind === 'server') return target.username;
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to the login variables.
    return env.USER ?? env.LOGNAME ?? `uid:${process.getuid?.() ?? '?'}`;
  }
}

export async function query<T>(client: ClickHouseClient, sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  try {
    const rs = await client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
    return await rs.json<T>();
  } catch (e) {
    throw storeError(e, 'query failed');
  }
}

/** A missing table (a database older than the analyst tools) or a read-only user: say how to fix it. */
export function storeError(e: unknown, what: string): PosguardError {
  if (e instanceof PosguardError) return e;
  const msg = clickHouseMessage(e);
  const hint = /UNKNOWN_TABLE|doesn't exist|does not exist/i.test(msg)
    ? ' (run `posguard migrate` to create the analyst tables)'
    : /READONLY|readonly mode|ACCESS_DENIED|Not enough privileges/i.test(msg)
      ? ' (this ClickHouse user may not write: labels and suppressions need INSERT on anomaly_labels and suppressions, see docs/analysts-tools.md)'
      : '';
  return new PosguardError('PG_CLICKHOUSE', `${what}: ${msg}${hint}`, { cause: e });
}
