/**
 * Suppressions in ClickHouse (schemas/clickhouse/007_suppressions.sql): added
 * and removed by appending rows, read back folded by suppressions_current.
 */
import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { ANOMALY_KINDS, type Anomaly, type AnomalyKind } from '../events/anomaly.js';
import { PosguardError } from '../errors.js';
import { containsPan, looksLikePan } from '../util/pan.js';
import { query, storeError } from '../sinks/clickhouse/analyst-store.js';
import { dt64 } from '../sinks/clickhouse/tables.js';

/** What a suppression can be keyed on, and the anomaly field it matches. */
export const SCOPES = ['card', 'merchant', 'terminal', 'issuer'] as const;
export type Scope = (typeof SCOPES)[number];
export const SCOPE_FIELD: Readonly<Record<Scope, keyof Pick<Anomaly, 'card_token' | 'merchant_id' | 'terminal_id' | 'issuer_id'>>> = {
  card: 'card_token', merchant: 'merchant_id', terminal: 'terminal_id', issuer: 'issuer_id',
};
export const MAX_REASON_CHARS = 2_000;

export interface NewSuppression {
  readonly kind: AnomalyKind;
  readonly scope: Scope;
  readonly value: string;
  readonly untilMs: number;
  readonly reason: string;
}

export interface StoredSuppression {
  readonly suppression_id: string;
  readonly kind: string;
  readonly scope: string;
  readonly value: string;
  readonly until: string;
  readonly reason: string;
  readonly created_by: string;
  readonly created_at: string;
  readonly removed: boolean;
  readonly removed_by: string | null;
  readonly removed_at: string | null;
  readonly removal_reason: string | null;
  readonly active: boolean;
}

/** The problem with a new suppression, or null. `nowMs` decides whether --until is in the past. */
export function suppressionProblem(s: { kind: string; scope: string; value: string; untilMs: number; reason: string }, nowMs: number): string | null {
  if (!(ANOMALY_KINDS as readonly string[]).includes(s.kind)) return `--kind: ${JSON.stringify(s.kind)} is not one of ${ANOMALY_KINDS.join(', ')}`;
  if (!(SCOPES as readonly string[]).includes(s.scope)) return `scope ${JSON.stringify(s.scope)} is not one of ${SCOPES.join(', ')}`;
  if (s.value.trim() === '' || s.value.length > 128) return `--${s.scope}: expected an id of 1 to 128 characters`;
  if (looksLikePan(s.value) || containsPan(s.value)) return `--${s.scope}: that looks like a clear card number; ${s.scope === 'card' ? 'give the card token (card_token in anomalies_current)' : `give the ${s.scope} id`}`;
  if (!Number.isFinite(s.untilMs)) return '--until: expected an ISO time with a zone (2026-03-31T00:00:00Z) or a duration from now (90m, 12h, 30d)';
  if (s.untilMs <= nowMs) return `--until: ${new Date(s.untilMs).toISOString()} is already past`;
  if (s.reason.trim() === '') return '--reason: say why this is expected (it is shown with every suppressed anomaly)';
  return reasonProblem(s.reason);
}

/** The problem with a free-text --reason (of an add or a remove), or null. */
export function reasonProblem(reason: string): string | null {
  if (reason.length > MAX_REASON_CHARS) return `--reason: ${reason.length} characters, at most ${MAX_REASON_CHARS}`;
  if (containsPan(reason)) return '--reason: contains what looks like a clear card number; refer to the card by its token';
  return null;
}

/** "2026-03-31T00:00:00Z", or a duration from now: 90m, 12h, 30d, 2w. NaN when neither. */
export function parseUntil(text: string, nowMs: number): number {
  const d = /^(\d+)\s*(m|h|d|w)$/.exec(text.trim());
  if (d !== null) return nowMs + Number(d[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[d[2] as 'm' | 'h' | 'd' | 'w'];
  if (!/(Z|[+-]\d\d:?\d\d)$/.test(text.trim())) return NaN;
  return Date.parse(text.trim());
}

/** sup_ and 12 hex digits: short enough to type, random so two analysts never collide. */
export function newSuppressionId(): string {
  return `sup_${randomBytes(6).toString('hex')}`;
}

export async function addSuppression(client: ClickHouseClient, s: NewSuppression, by: string, nowMs: number): Promise<string> {
  const id = newSuppressionId();
  await append(client, { suppression_id: id, action: 'add', kind: s.kind, scope: s.scope, value: s.value, until: dt64(s.untilMs), reason: s.reason, changed_by: by, changed_at: dt64(nowMs) });
  return id;
}

/** Appends the tombstone. Refuses an unknown id, and one already removed (saying by whom). */
export async function removeSuppression(client: ClickHouseClient, id: string, by: string, reason: string, nowMs: number): Promise<StoredSuppression> {
  const problem = reasonProblem(reason);
  if (problem !== null) throw new PosguardError('PG_USAGE', problem);
  const [s] = await listSuppressions(client, { all: true, id });
  if (s === undefined) throw new PosguardError('PG_UNKNOWN_SUPPRESSION', `no suppression has the id ${JSON.stringify(id)} (posguard suppress list --all shows them)`);
  if (s.removed) throw new PosguardError('PG_USAGE', `suppression ${id} was already removed by ${s.removed_by} at ${s.removed_at}`);
  await append(client, { suppression_id: id, action: 'remove', kind: s.kind, scope: s.scope, value: s.value, until: dt64(Date.parse(`${s.until.replace(' ', 'T')}Z`)), reason, changed_by: by, changed_at: dt64(nowMs) });
  return s;
}

/** Active ones by default; `all` adds the expired and removed. Oldest first. */
export async function listSuppressions(client: ClickHouseClient, opts: { all?: boolean; id?: string } = {}): Promise<StoredSuppression[]> {
  const where = [opts.all ? '' : 'active', opts.id === undefined ? '' : 'suppression_id = {id:String}'].filter((w) => w !== '');
  const rows = await query<StoredSuppression>(client, `SELECT * FROM suppressions_current ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY created_at, suppression_id`, opts.id === undefined ? {} : { id: opts.id });
  return rows.map((r) => ({ ...r, removed: Boolean(Number(r.removed)), active: Boolean(Number(r.active)) }));
}

export interface ActiveSuppression {
  readonly id: string;
  readonly kind: string;
  readonly scope: Scope;
  readonly value: string;
  readonly untilMs: number;
}

/** At most `cap` active suppressions, oldest first, and how many are active in all. */
export async function loadActive(client: ClickHouseClient, cap: number): Promise<{ rows: ActiveSuppression[]; total: number }> {
  const rows = await query<{ id: string; kind: string; scope: Scope; value: string; until_ms: string | number; total: string | number }>(client,
    `SELECT suppression_id AS id, kind, scope, value, toUnixTimestamp64Milli(until) AS until_ms, count() OVER () AS total
     FROM suppressions_current WHERE active ORDER BY created_at, suppression_id LIMIT ${Math.floor(cap)}`);
  return { rows: rows.map((r) => ({ id: r.id, kind: r.kind, scope: r.scope, value: r.value, untilMs: Number(r.until_ms) })), total: rows.length === 0 ? 0 : Number(rows[0].total) };
}

async function append(client: ClickHouseClient, row: Record<string, string>): Promise<void> {
  try {
    await client.insert({ table: 'suppressions', values: [row], format: 'JSONEachRow' });
  } catch (e) {
    throw storeError(e, 'cannot write the suppression');
  }
}
