/**
 * Analysts' labels (table `anomaly_labels`: append-only, the latest row per
 * anomaly by labelled_at is in force). Read-only here. A database without the
 * table (labels never set up) has no labels, which is not an error.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { PosguardError } from '../errors.js';
import { clickHouseMessage } from '../sinks/clickhouse/query.js';

export const LABELS = ['confirmed', 'false_positive', 'expected'] as const;
export type LabelName = (typeof LABELS)[number];

export interface LatestLabel {
  readonly label: string;
  readonly note: string;
  readonly labelled_by: string;
  /** Epoch ms. */
  readonly labelled_at: number;
}

/** Ids per query: query parameters travel in the URL (ClickHouse allows 1 MiB); 1,000 ids are ~35 kB. */
const CHUNK = 1_000;

async function json<T>(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  try {
    return await (await client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
  } catch (e) {
    throw new PosguardError('PG_CLICKHOUSE', `reading anomaly_labels: ${clickHouseMessage(e)}`, { cause: e });
  }
}

export async function labelsTableExists(client: ClickHouseClient): Promise<boolean> {
  const [r] = await json<{ n: string }>(client, "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'anomaly_labels'", {});
  return Number(r.n) > 0;
}

/** The label in force for each of `ids` that has one; empty when the table does not exist. */
export async function latestLabels(client: ClickHouseClient, ids: readonly string[]): Promise<Map<string, LatestLabel>> {
  const out = new Map<string, LatestLabel>();
  if (ids.length === 0 || !(await labelsTableExists(client))) return out;
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await json<{ anomaly_id: string; label: string; note: string; labelled_by: string; at: string }>(client,
      `SELECT anomaly_id, argMax(label, labelled_at) AS label, argMax(note, labelled_at) AS note,
              argMax(labelled_by, labelled_at) AS labelled_by, toUnixTimestamp64Milli(max(labelled_at)) AS at
         FROM anomaly_labels WHERE anomaly_id IN {ids:Array(String)} GROUP BY anomaly_id`,
      { ids: ids.slice(i, i + CHUNK) });
    for (const r of rows) out.set(r.anomaly_id, { label: String(r.label), note: r.note, labelled_by: r.labelled_by, labelled_at: Number(r.at) });
  }
  return out;
}
