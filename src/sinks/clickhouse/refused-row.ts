/**
 * A row ClickHouse refused on its own (table-batches.ts isolated it) as the
 * dead letter that keeps it: reason `store_refused: …` with the server's
 * message, payload the whole row as an object (column → value), so a refused
 * anomaly or transaction is never lost silently and can be read back, fixed
 * and re-inserted by hand (docs/storage.md, "Rows the store refuses").
 */
import type { DeadLetter } from '../types.js';
import type { TableName } from './tables.js';
import { codeLabel } from './write-errors.js';
import { errorLine } from './writer.js';

/** The prefix every such reason starts with: also the dead-letter metric's class (src/metrics/dead-letter-reason.ts). */
export const STORE_REFUSED = 'store_refused';

export interface RefusedRow {
  readonly table: TableName;
  readonly columns: readonly string[];
  /** The row as it was sent: one JSONCompactEachRow line. */
  readonly line: string;
}

/** `{"table":…,"row":{column: value, …}}`; the raw line when it does not read as the columns (never expected). */
export function refusedPayload(r: RefusedRow): string {
  try {
    const values = JSON.parse(r.line) as unknown;
    if (Array.isArray(values) && values.length === r.columns.length) {
      return JSON.stringify({ table: r.table, row: Object.fromEntries(r.columns.map((c, i) => [c, values[i]])) });
    }
  } catch {
    // fall through: keep the bytes as they were sent
  }
  return JSON.stringify({ table: r.table, line: r.line });
}

export function refusedReason(table: TableName, e: unknown): string {
  const label = codeLabel(e);
  return `${STORE_REFUSED}: ClickHouse refused the row for ${table}${label === null ? '' : ` (${label})`}: ${errorLine(e)}`;
}

/** The dead letter of a refused row; the sink scrubs card numbers on the way in. */
export function refusedDeadLetter(r: RefusedRow, e: unknown, now: number): DeadLetter {
  return {
    source: `clickhouse-sink:${r.table}`, stream: null, line: null, partition: null, offset: null,
    reason: refusedReason(r.table, e), payload: refusedPayload(r), received_at: now,
  };
}
