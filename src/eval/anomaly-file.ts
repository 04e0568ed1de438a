/**
 * Reads the engine's anomaly output: JSONL, one anomaly version per line (what
 * the JSONL sink writes). A line that is not JSON or lacks the identifying
 * fields is skipped and reported, like a bad event line in a replay.
 */
import { ANOMALY_KINDS, ANOMALY_STATUSES, type Anomaly } from '../events/anomaly.js';
import { readLines } from '../util/lines.js';

export interface BadAnomalyLine {
  readonly line: number;
  readonly reason: string;
}

const NULLABLE = ['cause', 'terminal_id', 'merchant_id', 'card_token', 'rrn', 'stan', 'issuer_id', 'amount_minor', 'currency'] as const;

/** Checks one parsed line; missing nullable fields become null, a missing related_rrns becomes []. */
export function parseAnomaly(value: unknown): { ok: true; anomaly: Anomaly } | { ok: false; reason: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'expected a JSON object' };
  const v = value as Record<string, unknown>;
  if (typeof v.anomaly_id !== 'string' || v.anomaly_id === '') return { ok: false, reason: 'field anomaly_id: missing' };
  if (!(ANOMALY_KINDS as readonly unknown[]).includes(v.kind)) return { ok: false, reason: `field kind: unknown value ${JSON.stringify(v.kind)}` };
  if (!(ANOMALY_STATUSES as readonly unknown[]).includes(v.status)) return { ok: false, reason: `field status: unknown value ${JSON.stringify(v.status)}` };
  if (!Number.isSafeInteger(v.version) || (v.version as number) < 1) return { ok: false, reason: 'field version: expected a positive integer' };
  if (typeof v.event_time !== 'number') return { ok: false, reason: 'field event_time: expected epoch milliseconds' };
  if (v.related_rrns !== undefined && v.related_rrns !== null && !(Array.isArray(v.related_rrns) && v.related_rrns.every((x) => typeof x === 'string'))) {
    return { ok: false, reason: 'field related_rrns: expected an array of strings' };
  }
  const out: Record<string, unknown> = { ...v, related_rrns: v.related_rrns ?? [] };
  for (const f of NULLABLE) out[f] = v[f] ?? null;
  out.evidence = v.evidence ?? { terminal: [], gateway: [], bank: [] };
  return { ok: true, anomaly: out as unknown as Anomaly };
}

/** Throws PG_INPUT_UNREADABLE when the file cannot be read. */
export async function readAnomalyFile(file: string): Promise<{ anomalies: Anomaly[]; bad: BadAnomalyLine[] }> {
  const anomalies: Anomaly[] = [];
  const bad: BadAnomalyLine[] = [];
  for await (const chunk of readLines(file)) {
    for (const { lineNo, text } of chunk) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        bad.push({ line: lineNo, reason: `not valid JSON: ${(e as Error).message}` });
        continue;
      }
      const p = parseAnomaly(value);
      if (p.ok) anomalies.push(p.anomaly);
      else bad.push({ line: lineNo, reason: p.reason });
    }
  }
  return { anomalies, bad };
}
