/** Small helpers for the case queries: literals, rows, ids. */
import type { ClickHouseClient } from '@clickhouse/client';
import { PosguardError } from '../errors.js';
import { clickHouseMessage } from '../sinks/clickhouse/query.js';

/** A ClickHouse string literal: backslashes and quotes escaped. */
export function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A DateTime64(3) literal from epoch ms. */
export function timeLit(ms: number): string {
  return `fromUnixTimestamp64Milli(toInt64(${Math.trunc(ms)}), 'UTC')`;
}

export async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  try {
    return await (await client.query({ query, format: 'JSONEachRow' })).json<T>();
  } catch (e) {
    throw new PosguardError('PG_CLICKHOUSE', clickHouseMessage(e), { cause: e });
  }
}

/** Columns of a table that exist in this database (older databases lack newer columns). */
export async function existingColumns(client: ClickHouseClient, table: string, names: readonly string[]): Promise<Set<string>> {
  const r = await rows<{ name: string }>(client, `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ${lit(table)} AND name IN (${names.map(lit).join(', ')})`);
  return new Set(r.map((x) => x.name));
}

export const ANOMALY_ID = /^[0-9a-f]{32}$/;
export const RRN = /^[A-Za-z0-9]{12}$/;
export const ATTEMPT = /^([A-Za-z0-9_-]{1,32}):(\d{1,6})$/;
