/**
 * Analysts' labels on anomalies (schemas/clickhouse/006_anomaly_labels.sql):
 * checked first, all of them, then appended in one insert. A label is never
 * updated in place; the latest one per anomaly wins in anomaly_labels_latest.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { containsPan } from '../util/pan.js';
import { query, storeError } from '../sinks/clickhouse/analyst-store.js';
import { dt64 } from '../sinks/clickhouse/tables.js';
import { parseCsv } from './csv.js';

export const LABELS = ['confirmed', 'false_positive', 'expected'] as const;
export type Label = (typeof LABELS)[number];

/** One CSV file is read whole and checked before anything is written: this bounds it. */
export const MAX_CSV_ROWS = 100_000;
export const MAX_NOTE_CHARS = 2_000;
/** Bad rows listed one per line before the command gives up; the rest are counted. */
export const MAX_REPORTED_ROWS = 20;

export interface LabelInput {
  readonly anomaly_id: string;
  readonly label: string;
  readonly note: string;
  /** Where it came from, for messages: 'row 3 (line 4)' or the id given on the command line. */
  readonly where: string;
}

/** The problem with one label, or null. The store is not consulted here (see unknownAnomalies). */
export function labelProblem(l: Pick<LabelInput, 'anomaly_id' | 'label' | 'note'>): string | null {
  if (l.anomaly_id.trim() === '') return 'anomaly_id is empty';
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(l.anomaly_id)) return `anomaly_id ${JSON.stringify(l.anomaly_id.slice(0, 60))} is not an anomaly id (letters, digits, - and _)`;
  if (!(LABELS as readonly string[]).includes(l.label)) return `label ${JSON.stringify(l.label.slice(0, 40))} is not one of ${LABELS.join(', ')}`;
  if (l.note.length > MAX_NOTE_CHARS) return `note is ${l.note.length} characters, at most ${MAX_NOTE_CHARS}`;
  if (containsPan(l.note)) return 'note contains what looks like a clear card number; refer to the card by its token instead';
  return null;
}

/** Reads a label CSV (header anomaly_id,label[,note]); every bad row is returned, nothing thrown for data. */
export function readLabelCsv(text: string, file: string): { labels: LabelInput[]; problems: string[] } {
  const parsed = parseCsv(text);
  if (!parsed.ok) return { labels: [], problems: [`${file} line ${parsed.line}: ${parsed.problem}`] };
  const [head, ...body] = parsed.records;
  if (head === undefined) return { labels: [], problems: [`${file}: empty file; expected a header anomaly_id,label,note and one row per label`] };
  const cols = head.fields.map((f) => f.trim().toLowerCase());
  const problems: string[] = [];
  const unknown = cols.filter((c) => !['anomaly_id', 'label', 'note'].includes(c));
  if (unknown.length > 0 || !cols.includes('anomaly_id') || !cols.includes('label') || new Set(cols).size !== cols.length) {
    return { labels: [], problems: [`${file} line ${head.line}: header must name the columns anomaly_id,label,note (note optional), got ${JSON.stringify(head.fields.join(','))}`] };
  }
  if (body.length === 0) return { labels: [], problems: [`${file}: no rows after the header`] };
  if (body.length > MAX_CSV_ROWS) return { labels: [], problems: [`${file}: ${body.length} rows, at most ${MAX_CSV_ROWS} per file; split it`] };
  const at = (name: string) => cols.indexOf(name);
  const firstRow = new Map<string, string>();
  const labels: LabelInput[] = [];
  body.forEach((r, i) => {
    const where = `row ${i + 1} (line ${r.line})`;
    if (r.fields.length !== cols.length) {
      problems.push(`${file} ${where}: ${r.fields.length} fields, the header has ${cols.length}`);
      return;
    }
    const l: LabelInput = {
      anomaly_id: r.fields[at('anomaly_id')].trim(),
      label: r.fields[at('label')].trim().toLowerCase(),
      note: at('note') === -1 ? '' : r.fields[at('note')],
      where,
    };
    const p = labelProblem(l);
    if (p !== null) {
      problems.push(`${file} ${where}: ${p}`);
      return;
    }
    const earlier = firstRow.get(l.anomaly_id);
    if (earlier !== undefined) {
      problems.push(`${file} ${where}: anomaly ${l.anomaly_id} is labelled again (first at ${earlier}); one label per anomaly per file`);
      return;
    }
    firstRow.set(l.anomaly_id, where);
    labels.push(l);
  });
  return { labels, problems };
}

/** The ids among `ids` that no stored anomaly has. */
export async function unknownAnomalies(client: ClickHouseClient, ids: readonly string[]): Promise<Set<string>> {
  const known = new Set<string>();
  // Query parameters travel in the URL on a server (http_max_uri_size, 1 MiB by default): 5,000 ids is ~170 kB.
  for (let i = 0; i < ids.length; i += 5_000) {
    const chunk = ids.slice(i, i + 5_000);
    const rows = await query<{ anomaly_id: string }>(client, 'SELECT DISTINCT anomaly_id FROM anomalies_latest WHERE anomaly_id IN {ids:Array(String)}', { ids: chunk });
    for (const r of rows) known.add(r.anomaly_id);
  }
  return new Set(ids.filter((id) => !known.has(id)));
}

/** Appends the labels in one insert, all with the same author and time. */
export async function appendLabels(client: ClickHouseClient, labels: readonly LabelInput[], by: string, atMs: number): Promise<void> {
  const at = dt64(atMs);
  try {
    await client.insert({
      table: 'anomaly_labels',
      values: labels.map((l) => ({ anomaly_id: l.anomaly_id, label: l.label, note: l.note, labelled_by: by, labelled_at: at })),
      format: 'JSONEachRow',
    });
  } catch (e) {
    throw storeError(e, 'cannot write the labels');
  }
}
