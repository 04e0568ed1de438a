/**
 * Who is acting, for the labelled_by / changed_by columns: the ClickHouse user
 * when posguard talks to a server (CLICKHOUSE_URL, CLICKHOUSE_USER: the name
 * the server itself authenticated), else the OS user running the CLI on the
 * embedded engine.
 */
import { userInfo } from 'node:os';
import type { ClickHouseTarget } from '../sinks/clickhouse/connection.js';

export function analystName(target: ClickHouseTarget, env: Readonly<Record<string, string | undefined>> = {}): string {
  if (target.kind === 'server') return target.username;
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to the login variables.
    return env.USER ?? env.LOGNAME ?? `uid:${process.getuid?.() ?? '?'}`;
  }
}
