/**
 * The current state of stored anomalies, read back for a rebuild (docs/kafka.md,
 * "Offsets and restarts"): the SQL against `anomalies_current` lives here, with
 * the storage layout; the Kafka ledger asks through `StoredAnomalies`.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Anomaly, AnomalyKind } from '../../events/anomaly.js';

/** What a rebuild reads from the store. */
export interface StoredAnomalies {
  /**
   * One page of the current state of the anomalies with event_time >= fromMs (-Infinity: all):
   * at most `limit`, ordered by anomaly_id, those after `afterId` (none: from the first). Pattern
   * kinds from the start of fromMs's UTC day, since they fire at most once per key and day.
   * Page through by passing the last id of a page as the next `afterId`.
   */
  currentSince(fromMs: number, limit: number, afterId?: string | null): Promise<Anomaly[]>;
}

const DEBIT_KINDS_SQL = "('ORPHAN_DEBIT', 'AMOUNT_MISMATCH', 'DUPLICATE_DEBIT')";

/** `StoredAnomalies` over a ClickHouse client (embedded or server). */
export function clickHouseStoredAnomalies(client: ClickHouseClient): StoredAnomalies {
  return {
    async currentSince(fromMs, limit, afterId = null) {
      const day = Number.isFinite(fromMs) ? Math.floor(fromMs / 86_400_000) * 86_400_000 : -Infinity;
      const conditions: string[] = [];
      if (Number.isFinite(fromMs)) {
        conditions.push(`((kind IN ${DEBIT_KINDS_SQL} AND event_time >= fromUnixTimestamp64Milli(${Math.floor(fromMs)}))
           OR (kind NOT IN ${DEBIT_KINDS_SQL} AND event_time >= fromUnixTimestamp64Milli(${day})))`);
      }
      if (afterId !== null) conditions.push(`anomaly_id > ${stringLiteral(afterId)}`);
      const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
      const rs = await client.query({
        query: `SELECT anomaly_id, version, kind, cause, status, severity, toUnixTimestamp64Milli(event_time) AS t, toUnixTimestamp64Milli(detected_at) AS d,
                terminal_id, merchant_id, card_token, rrn, stan, issuer_id, amount_minor, currency, related_rrns, evidence, feed_gaps
              FROM anomalies_current ${where} ORDER BY anomaly_id LIMIT ${Math.max(1, Math.floor(limit))}`,
        format: 'JSONEachRow',
      });
      const rows = await rs.json<Record<string, unknown>>();
      return rows.map(toAnomaly);
    },
  };
}

/** A ClickHouse string literal: backslashes and quotes escaped. */
function stringLiteral(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

function toAnomaly(r: Record<string, unknown>): Anomaly {
  const evidence = typeof r.evidence === 'string' ? safeJson(r.evidence) : r.evidence;
  return {
    anomaly_id: r.anomaly_id as string,
    kind: r.kind as AnomalyKind,
    cause: (r.cause ?? null) as Anomaly['cause'],
    status: r.status as Anomaly['status'],
    severity: r.severity as Anomaly['severity'],
    version: num(r.version),
    event_time: num(r.t),
    detected_at: num(r.d),
    terminal_id: (r.terminal_id ?? null) as string | null,
    merchant_id: (r.merchant_id ?? null) as string | null,
    card_token: (r.card_token ?? null) as string | null,
    rrn: (r.rrn ?? null) as string | null,
    stan: (r.stan ?? null) as string | null,
    issuer_id: (r.issuer_id ?? null) as string | null,
    amount_minor: r.amount_minor === null || r.amount_minor === undefined ? null : num(r.amount_minor),
    currency: (r.currency ?? null) as string | null,
    related_rrns: (r.related_rrns ?? []) as string[],
    evidence: (evidence ?? { terminal: [], gateway: [], bank: [] }) as Anomaly['evidence'],
    // Migration 010; rows written before it read as [] (complete input), and so does a missing column.
    ...feedGaps(r.feed_gaps),
  };
}

/** `feed_gaps` only when a stream was missing: absent means complete input, as the engine emits it. */
function feedGaps(v: unknown): Pick<Anomaly, 'feed_gaps'> {
  return Array.isArray(v) && v.length > 0 ? { feed_gaps: v as Anomaly['feed_gaps'] } : {};
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}
