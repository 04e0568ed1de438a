/**
 * What analysts said about anomalies, for the case screen and the search:
 * the latest label (anomaly_labels_latest, migration 006) and the suppression
 * an anomaly version was stamped with (suppressed_by, with its reason and
 * expiry from suppressions_current, migration 007). Databases older than
 * those migrations simply have none.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { existingColumns, lit, rows } from './sql.js';

export interface LabelView {
  readonly label: string;
  readonly note: string;
  readonly labelled_by: string;
  readonly labelled_at: string;
  /** How many labels the anomaly has had (the latest is shown). */
  readonly label_count: number;
}

export interface SuppressionView {
  readonly suppression_id: string;
  /** null when the suppression is not in suppressions_current (e.g. a suppressions file, or another database). */
  readonly reason: string | null;
  readonly until: string | null;
  readonly removed: boolean;
  readonly active: boolean;
}

const has = async (client: ClickHouseClient, table: string, column: string) => (await existingColumns(client, table, [column])).size > 0;

/** The latest label of each of `ids` that has one. */
export async function readLabels(client: ClickHouseClient, ids: readonly string[]): Promise<Map<string, LabelView>> {
  const out = new Map<string, LabelView>();
  if (ids.length === 0 || !(await has(client, 'anomaly_labels_latest', 'label'))) return out;
  const r = await rows<LabelView & { anomaly_id: string }>(client, `
    SELECT anomaly_id, label, note, labelled_by, toString(labelled_at) AS labelled_at, label_count
    FROM anomaly_labels_latest WHERE anomaly_id IN (${[...new Set(ids)].map(lit).join(', ')})`);
  for (const { anomaly_id, ...l } of r) out.set(anomaly_id, { ...l, label_count: Number(l.label_count) });
  return out;
}

/** Each of the suppression ids with its reason and expiry where suppressions_current has it. */
export async function readSuppressions(client: ClickHouseClient, ids: readonly string[]): Promise<Map<string, SuppressionView>> {
  const wanted = [...new Set(ids.filter((x) => x !== ''))];
  const out = new Map<string, SuppressionView>(wanted.map((id) => [id, { suppression_id: id, reason: null, until: null, removed: false, active: false }]));
  if (wanted.length === 0 || !(await has(client, 'suppressions_current', 'reason'))) return out;
  const r = await rows<{ suppression_id: string; reason: string; until: string; removed: number; active: number }>(client, `
    SELECT suppression_id, reason, toString(until) AS until, removed, active
    FROM suppressions_current WHERE suppression_id IN (${wanted.map(lit).join(', ')})`);
  for (const s of r) out.set(s.suppression_id, { suppression_id: s.suppression_id, reason: s.reason, until: s.until, removed: Boolean(Number(s.removed)), active: Boolean(Number(s.active)) });
  return out;
}

export function labelText(l: LabelView): string {
  return `label ${l.label} by ${l.labelled_by} at ${l.labelled_at.slice(0, 19)}${l.note ? ` — ${l.note}` : ''}${l.label_count > 1 ? ` (latest of ${l.label_count})` : ''}`;
}

export function suppressionText(s: SuppressionView): string {
  if (s.reason === null) return `suppressed by ${s.suppression_id} (not in suppressions_current)`;
  const state = s.removed ? ', since removed' : s.active ? '' : ', expired';
  return `suppressed by ${s.suppression_id} (${s.reason}, until ${s.until?.slice(0, 19)}${state})`;
}
