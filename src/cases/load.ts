/**
 * Reads one case from ClickHouse: resolves the id the analyst gave (rrn,
 * anomaly id, terminal_id:stan) to an attempt, then reads its events
 * (events_raw, late ones marked), its golden record (transactions), every
 * version of every anomaly on it (anomalies) and the terminal's clock offset.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { PosguardError } from '../errors.js';
import { ANOMALY_ID, ATTEMPT, RRN, existingColumns, lit, rows, timeLit } from './sql.js';
import type { PatternEvent } from './explain-pattern.js';
import type { CaseEvent, ClockOffset, Stream } from './types.js';

const HOUR = 3_600_000;

export interface CaseTarget {
  readonly rrn: string | null;
  readonly terminal_id: string;
  readonly stan: string;
  /** A time inside the attempt (epoch ms), to bound the reads. */
  readonly anchorMs: number;
}

const BAD_ID = 'expected an rrn (12 letters or digits), an anomaly id (32 hex digits) or terminal_id:stan (e.g. TRM00001:000123)';

/** Parses and resolves the case id; PG_USAGE when malformed, PG_NOT_FOUND when nothing is stored under it. */
export async function resolveCase(client: ClickHouseClient, id: string): Promise<CaseTarget> {
  const q = id.trim();
  if (ANOMALY_ID.test(q)) return byAnomaly(client, q);
  const m = ATTEMPT.exec(q);
  if (m) return byAttempt(client, m[1], m[2].padStart(6, '0'));
  if (RRN.test(q)) return byRrn(client, q);
  throw new PosguardError('PG_USAGE', `case id ${JSON.stringify(q.slice(0, 64))}: ${BAD_ID}`);
}

async function byAnomaly(client: ClickHouseClient, id: string): Promise<CaseTarget> {
  const [a] = await rows<{ rrn: string | null; terminal_id: string | null; stan: string | null; t: string }>(client,
    `SELECT rrn, terminal_id, stan, toUnixTimestamp64Milli(event_time) AS t FROM anomalies WHERE anomaly_id = ${lit(id)} ORDER BY version DESC LIMIT 1`);
  if (!a) throw new PosguardError('PG_NOT_FOUND', `no anomaly ${id} in this database`);
  if (a.rrn !== null) return byRrn(client, a.rrn, Number(a.t));
  if (a.terminal_id === null || a.stan === null) throw new PosguardError('PG_NOT_FOUND', `anomaly ${id} names no rrn and no attempt (terminal_id:stan) to open`);
  return { rrn: null, terminal_id: a.terminal_id, stan: a.stan, anchorMs: Number(a.t) };
}

async function byRrn(client: ClickHouseClient, rrn: string, hintMs?: number): Promise<CaseTarget> {
  // The gateway's non-reversal events link rrn → attempt (docs/semantics.md); else the bank's echo.
  const [e] = await rows<{ terminal_id: string; stan: string; t: string }>(client, `
    SELECT terminal_id, stan, toUnixTimestamp64Milli(event_time) AS t FROM events_raw
    WHERE rrn = ${lit(rrn)} AND event_type NOT IN ('REVERSAL_RECEIVED', 'REVERSAL_FORWARDED', 'REVERSAL_RESPONSE', 'REVERSAL_APPLIED', 'REVERSAL_REJECTED', 'REFUND_POSTED')
    ORDER BY stream = 'gateway' DESC, event_time, event_id LIMIT 1`);
  if (e) return { rrn, terminal_id: e.terminal_id, stan: e.stan, anchorMs: Number(e.t) };
  // Raw events expire (TTL); the golden record and anomalies do not.
  const [t] = await rows<{ terminal_id: string; stan: string; t: string }>(client,
    `SELECT terminal_id, stan, toUnixTimestamp64Milli(txn_time) AS t FROM transactions WHERE rrn = ${lit(rrn)} ORDER BY version DESC LIMIT 1`);
  if (t) return { rrn, terminal_id: t.terminal_id, stan: t.stan, anchorMs: Number(t.t) };
  const [a] = await rows<{ terminal_id: string | null; stan: string | null; t: string }>(client,
    `SELECT terminal_id, stan, toUnixTimestamp64Milli(event_time) AS t FROM anomalies WHERE rrn = ${lit(rrn)} ORDER BY version DESC LIMIT 1`);
  if (a && a.terminal_id !== null && a.stan !== null) return { rrn, terminal_id: a.terminal_id, stan: a.stan, anchorMs: hintMs ?? Number(a.t) };
  throw new PosguardError('PG_NOT_FOUND', `no event, golden record or anomaly with rrn ${rrn} in this database`);
}

async function byAttempt(client: ClickHouseClient, terminal: string, stan: string): Promise<CaseTarget> {
  // A stan is unique per terminal within a day and wraps: the latest attempt wins, the others are named.
  const found = await rows<{ found_rrn: string | null; t: string }>(client, `
    SELECT ifNull(anyIf(rrn, stream = 'gateway'), any(rrn)) AS found_rrn, toUnixTimestamp64Milli(min(event_time)) AS t
    FROM events_raw WHERE terminal_id = ${lit(terminal)} AND stan = ${lit(stan)} AND event_type != 'REVERSAL_SENT'
    GROUP BY toDate(event_time) ORDER BY t DESC`);
  if (found.length === 0) throw new PosguardError('PG_NOT_FOUND', `no event for attempt ${terminal}:${stan} in this database`);
  const f = found[0];
  return { rrn: f.found_rrn === '' ? null : f.found_rrn, terminal_id: terminal, stan, anchorMs: Number(f.t) };
}

interface RawRow {
  stream: Stream; source: string; source_partition: number | null; source_offset: string | null; source_line: string | null;
  event_id: string; t: string; event_type: string; terminal_id: string; merchant_id: string; stan: string; rrn: string | null;
  payload: string; inserted_at: string; late: number;
}

function sourceOf(r: RawRow): string {
  if (r.source_offset !== null) return `${r.source}/${r.source_partition ?? '?'}@${r.source_offset}`;
  if (r.source_line !== null) return `${r.source}:${r.source_line}`;
  return r.source;
}

function toEvent(r: RawRow): CaseEvent {
  let p: Record<string, unknown> = {};
  try { p = JSON.parse(r.payload) as Record<string, unknown>; } catch { /* a payload is always JSON; keep the columns if not */ }
  const s = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : null);
  return {
    stream: r.stream, event_id: r.event_id, event_type: r.event_type, event_time: Number(r.t), terminal_id: r.terminal_id,
    merchant_id: r.merchant_id, stan: r.stan, rrn: r.rrn, orig_rrn: s('orig_rrn'), orig_stan: s('orig_stan'),
    response_code: s('response_code'), failure_reason: s('failure_reason'), txn_type: s('txn_type'),
    amount_minor: typeof p.amount_minor === 'number' ? p.amount_minor : null, currency: s('currency'),
    inserted_at: r.inserted_at, source: sourceOf(r), late: Number(r.late) === 1,
  };
}

/** Every stored event that may belong to the attempt; explain.ts picks the ones that do. */
export async function readEvents(client: ClickHouseClient, c: CaseTarget, horizonMs: number): Promise<CaseEvent[]> {
  const lo = timeLit(c.anchorMs - 2 * HOUR);
  const hi = timeLit(c.anchorMs + horizonMs + 2 * HOUR);
  // The attempt's own events sit under its terminal (events_raw's sorting key); its rrn and the
  // reversals or refunds of it (possibly posted at another terminal of the merchant) are found
  // anywhere in the window. A substring test on the rrn runs before the JSON parse: cheap, and exact with it.
  const own = `terminal_id = ${lit(c.terminal_id)} AND (stan = ${lit(c.stan)} OR JSONExtractString(payload, 'orig_stan') = ${lit(c.stan)})`;
  const byRrn = c.rrn === null ? '' : ` OR rrn = ${lit(c.rrn)} OR (position(payload, ${lit(c.rrn)}) > 0 AND JSONExtractString(payload, 'orig_rrn') = ${lit(c.rrn)})`;
  const where = `event_time BETWEEN ${lo} AND ${hi} AND ((${own})${byRrn})`;
  const r = await rows<RawRow>(client, `
    SELECT stream, source, source_partition, source_offset, source_line, event_id, toUnixTimestamp64Milli(event_time) AS t, event_type,
           terminal_id, merchant_id, stan, rrn, payload, toString(inserted_at) AS inserted_at,
           event_id IN (SELECT event_id FROM late_events WHERE ${where}) AS late
    FROM events_raw FINAL WHERE ${where}
    ORDER BY event_time, event_id`);
  return r.map(toEvent);
}

/** The attempt's golden record (transactions, latest version). */
export async function readGolden(client: ClickHouseClient, c: CaseTarget): Promise<Record<string, unknown> | null> {
  const [g] = await rows<Record<string, unknown>>(client, `
    SELECT * EXCEPT (inserted_at) FROM transactions FINAL
    WHERE terminal_id = ${lit(c.terminal_id)} AND stan = ${lit(c.stan)}${c.rrn === null ? '' : ` AND rrn = ${lit(c.rrn)}`}
      AND txn_time BETWEEN ${timeLit(c.anchorMs - 24 * HOUR)} AND ${timeLit(c.anchorMs + 24 * HOUR)}
    ORDER BY version DESC LIMIT 1`);
  return g ?? null;
}

export interface AnomalyRow {
  anomaly_id: string; version: number; kind: string; cause: string | null; status: string; t: string; d: string;
  rrn: string | null; related_rrns: string[]; evidence: string; rules_version?: string; rules?: string; suppressed_by?: string;
  /** Migration 010; absent in an older database. */
  feed_gaps?: string[];
}

/** Every version of every anomaly that names the attempt (its rrn, a related rrn, or its terminal and stan). */
export async function readAnomalies(client: ClickHouseClient, c: CaseTarget): Promise<AnomalyRow[]> {
  const cols = await existingColumns(client, 'anomalies', ['rules_version', 'rules', 'suppressed_by', 'feed_gaps']);
  const extra = [...cols].map((x) => `, ${x}`).join('');
  const byRrn = c.rrn === null ? '' : `rrn = ${lit(c.rrn)} OR has(related_rrns, ${lit(c.rrn)}) OR `;
  const r = await rows<AnomalyRow>(client, `
    SELECT anomaly_id, version, kind, cause, status, toUnixTimestamp64Milli(event_time) AS t, toUnixTimestamp64Milli(detected_at) AS d,
           rrn, related_rrns, evidence${extra}
    FROM anomalies FINAL
    WHERE ${byRrn}(terminal_id = ${lit(c.terminal_id)} AND stan = ${lit(c.stan)}
      AND event_time BETWEEN ${timeLit(c.anchorMs - 24 * HOUR)} AND ${timeLit(c.anchorMs + 24 * HOUR)})
    ORDER BY kind, anomaly_id, version`);
  return r.map((x) => ({ ...x, version: Number(x.version) }));
}

/**
 * The terminal's clock offset against the gateway (NTP-synced): for this
 * attempt, REQUEST_SENT (terminal clock) minus REQUEST_RECEIVED (gateway
 * clock), network time included (milliseconds against a drift of minutes);
 * and the median of the same over the terminal's attempts within ±12 h, since
 * a terminal's drift is steady (detection.md).
 */
export async function readClock(client: ClickHouseClient, c: CaseTarget, events: readonly CaseEvent[], maxDriftMs: number): Promise<ClockOffset> {
  const first = (stream: Stream, type: string) => events.find((e) => e.stream === stream && e.event_type === type && (stream === 'terminal' ? e.stan === c.stan : e.rrn === c.rrn));
  const pairs: [string, string, string][] = [['REQUEST_SENT', 'REQUEST_RECEIVED', 'terminal REQUEST_SENT − gateway REQUEST_RECEIVED'], ['RESPONSE_RECEIVED', 'RESPONSE_SENT', 'terminal RESPONSE_RECEIVED − gateway RESPONSE_SENT']];
  let attemptMs: number | null = null;
  let attemptBasis: string | null = null;
  for (const [tt, gt, basis] of pairs) {
    const te = first('terminal', tt);
    const ge = first('gateway', gt);
    if (te && ge) { attemptMs = te.event_time - ge.event_time; attemptBasis = basis; break; }
  }
  const [m] = await rows<{ n: string; m: number | null }>(client, `
    SELECT count() AS n, if(n = 0, NULL, quantileExact(0.5)(toUnixTimestamp64Milli(terminal_request_at) - toUnixTimestamp64Milli(gateway_received_at))) AS m
    FROM transactions FINAL
    WHERE terminal_id = ${lit(c.terminal_id)} AND terminal_request_at IS NOT NULL AND gateway_received_at IS NOT NULL
      AND txn_time BETWEEN ${timeLit(c.anchorMs - 12 * HOUR)} AND ${timeLit(c.anchorMs + 12 * HOUR)}`);
  const n = Number(m?.n ?? 0);
  return { attemptMs, attemptBasis, terminalMedianMs: n > 0 && m?.m !== null && m?.m !== undefined ? Number(m.m) : null, terminalAttempts: n, maxDriftMs };
}

interface EvidenceJson { event_id: string; event_type: string; event_time: number; detail?: Record<string, string | number | null> }

/**
 * An anomaly's evidence events with the fields its rule reads: from the
 * evidence detail where the detector kept them (patterns), else from the
 * event's payload in events_raw (duplicate and mismatch keep only the rrn).
 */
export async function readPatternEvents(client: ClickHouseClient, evidenceJson: string): Promise<PatternEvent[]> {
  let ev: Partial<Record<Stream, EvidenceJson[]>> = {};
  try { ev = JSON.parse(evidenceJson) as typeof ev; } catch { return []; }
  const all = (['terminal', 'gateway', 'bank'] as Stream[]).flatMap((stream) => (ev[stream] ?? []).map((e) => ({ stream, e })));
  if (all.length === 0) return [];
  const times = all.map((x) => x.e.event_time);
  const raw = await rows<{ event_id: string; merchant_id: string; rrn: string | null; payload: string }>(client, `
    SELECT event_id, merchant_id, rrn, payload FROM events_raw
    WHERE event_time BETWEEN ${timeLit(Math.min(...times) - HOUR)} AND ${timeLit(Math.max(...times) + HOUR)}
      AND event_id IN (${all.map((x) => lit(x.e.event_id)).join(', ')})`);
  const byId = new Map(raw.map((r) => [r.event_id, r]));
  return all.map(({ stream, e }) => {
    const r = byId.get(e.event_id);
    let p: Record<string, unknown> = {};
    try { p = r ? (JSON.parse(r.payload) as Record<string, unknown>) : {}; } catch { /* keep the detail */ }
    const d = e.detail ?? {};
    const pick = (k: string) => d[k] ?? (p[k] as string | number | null | undefined) ?? null;
    const num = (k: string) => (typeof pick(k) === 'number' ? (pick(k) as number) : null);
    const str = (k: string) => (pick(k) === null ? null : String(pick(k)));
    return {
      stream, event_id: e.event_id, event_type: e.event_type, event_time: e.event_time,
      rrn: str('rrn') ?? r?.rrn ?? null, orig_rrn: str('orig_rrn'), merchant_id: str('merchant_id') ?? r?.merchant_id ?? null,
      amount_minor: num('amount_minor'), currency: str('currency'), failure_reason: str('failure_reason'), lat: num('lat'), lon: num('lon'),
    };
  });
}
