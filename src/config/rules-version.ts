/**
 * A short, stable name for a set of rules: the first 12 hex digits of the
 * SHA-256 of its canonical JSON (keys sorted, every default filled in). The
 * same thresholds give the same version whatever file or key order they came
 * from; any changed threshold gives another. Written with every anomaly row
 * (migration 008) so a case can show the windows that applied to it.
 */
import { createHash } from 'node:crypto';
import type { Rules } from './rules.js';

export interface RulesStamp {
  readonly version: string;
  /** Canonical JSON of the full rules (defaults included). */
  readonly json: string;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

// Rules are frozen and swapped whole on reload: one stamp per rules object, computed once.
const memo = new WeakMap<Rules, RulesStamp>();

export function rulesStamp(rules: Rules): RulesStamp {
  let s = memo.get(rules);
  if (s === undefined) {
    const json = JSON.stringify(canonical(rules));
    s = { version: createHash('sha256').update(json).digest('hex').slice(0, 12), json };
    memo.set(rules, s);
  }
  return s;
}
