/**
 * Suppressions from a file, for `posguard replay --suppressions FILE`: JSON
 * lines as `posguard suppress list --format json` prints them (or written by
 * hand: suppression_id, kind, scope, value, until). Lines marked removed are
 * skipped; `until` is an ISO time with a zone or ClickHouse's
 * "YYYY-MM-DD hh:mm:ss[.fff]" in UTC. A bad line stops the command with its
 * line number, before anything is replayed.
 */
import { readFileSync } from 'node:fs';
import { ANOMALY_KINDS } from '../events/anomaly.js';
import { PosguardError } from '../errors.js';
import { SCOPES, type ActiveSuppression, type Scope } from './store.js';
import { Suppressor, SUPPRESSIONS_DEFAULTS } from './suppressor.js';

export function readSuppressionsFile(path: string): ActiveSuppression[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PosguardError('PG_INPUT_UNREADABLE', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const out: ActiveSuppression[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const bad = (why: string) => new PosguardError('PG_CONFIG_INVALID', `${path} line ${i + 1}: ${why}`);
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw bad('not a JSON object (expected the lines of `posguard suppress list --format json`)');
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw bad('not a JSON object');
    if (o.removed === true) return;
    const { suppression_id: id, kind, scope, value, until } = o;
    if (typeof id !== 'string' || id === '') throw bad('suppression_id: expected a non-empty string');
    if (typeof kind !== 'string' || !(ANOMALY_KINDS as readonly string[]).includes(kind)) throw bad(`kind: expected one of ${ANOMALY_KINDS.join(', ')}`);
    if (typeof scope !== 'string' || !(SCOPES as readonly string[]).includes(scope)) throw bad(`scope: expected one of ${SCOPES.join(', ')}`);
    if (typeof value !== 'string' || value === '') throw bad('value: expected a non-empty string');
    const untilMs = typeof until === 'string' ? parseTime(until) : NaN;
    if (!Number.isFinite(untilMs)) throw bad('until: expected an ISO time with a zone or "YYYY-MM-DD hh:mm:ss.fff" (UTC)');
    out.push({ id, kind, scope: scope as Scope, value, untilMs });
  });
  if (out.length > SUPPRESSIONS_DEFAULTS.maxActive) throw new PosguardError('PG_CONFIG_INVALID', `${path}: ${out.length} suppressions, at most ${SUPPRESSIONS_DEFAULTS.maxActive}`);
  return out;
}

function parseTime(s: string): number {
  const ch = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$/.exec(s);
  if (ch !== null) return Date.parse(`${ch[1]}T${ch[2]}Z`);
  return /(Z|[+-]\d\d:?\d\d)$/.test(s) ? Date.parse(s) : NaN;
}

/** A Suppressor over a fixed list (no reload timer): the same matching rule as the live detector. */
export async function fileSuppressor(path: string): Promise<Suppressor> {
  const rows = readSuppressionsFile(path);
  const s = new Suppressor(async () => ({ rows, total: rows.length }));
  await s.reload();
  return s;
}
