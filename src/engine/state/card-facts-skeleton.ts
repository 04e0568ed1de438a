/**
 * The engine's held card facts in a skeleton (issue 13, STATE_FORMAT 2): heap
 * times and attempt sids in the packed columns, each fact as a positional
 * tuple of its fields (no key names: ~half the bytes of an object, and no
 * generic walk; measured with bench/engine-checkpoint.ts). A held fact has no
 * location and late = false yet; every field is kept all the same.
 */
import type { CardFact } from '../../detect/patterns/types.js';
import { snapNum, unsnapNum, type SnapNum } from '../../util/snapshot-num.js';
import type { PendingCardFacts } from '../card-facts.js';
import type { LiveAttempt } from '../live-attempt.js';
import type { PackReader, PackWriter } from './packed.js';

/** CardFact's fields in the order hold() creates them (card-facts.ts): the restored object has the same key order. */
const FACT_FIELDS = [
  'event_id', 'event_time', 'rrn', 'card_token', 'merchant_id', 'terminal_id', 'stan', 'issuer_id', 'txn_type', 'amount_minor',
  'currency', 'approved', 'debit', 'lat', 'lon', 'late',
] as const satisfies readonly (keyof CardFact)[];
/** Compiles only while FACT_FIELDS lists every field of CardFact. */
const EVERY_FIELD: Exclude<keyof CardFact, (typeof FACT_FIELDS)[number]> extends never ? true : never = true;
void EVERY_FIELD;

type FactValue = string | SnapNum | boolean | null;

export interface HeldFacts {
  /** One tuple per held fact, in heap order (times and attempts are in the packed columns). */
  facts: FactValue[][];
  lastFactTime: SnapNum;
}

export function writeCardFacts(w: PackWriter, cards: PendingCardFacts, sid: (x: LiveAttempt) => number): HeldFacts {
  const cf = cards.stateParts();
  const { times, items } = cf.facts.entries();
  w.uint(times.length);
  for (const t of times) w.num(t);
  const facts: FactValue[][] = [];
  for (const p of items) {
    w.uint(sid(p.attempt));
    const f = p.fact as unknown as Record<string, FactValue | number>;
    facts.push(FACT_FIELDS.map((k) => {
      const v = f[k];
      return typeof v === 'number' ? snapNum(v) : v;
    }));
  }
  return { facts, lastFactTime: snapNum(cf.lastFactTime) };
}

export function readCardFacts(r: PackReader, cards: PendingCardFacts, s: HeldFacts, get: (sid: number) => LiveAttempt): void {
  const cf = cards.stateParts();
  if (cf.facts.size !== 0) throw new Error('restoring into a heap that is not empty');
  const n = r.uint();
  if (!Array.isArray(s.facts) || s.facts.length !== n) throw new Error(`held card facts: ${String(s.facts?.length)} facts for ${n} heap entries`);
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(r.num());
  const items = s.facts.map((tuple) => {
    if (!Array.isArray(tuple) || tuple.length !== FACT_FIELDS.length) throw new Error('held card fact: not a fact tuple');
    const fact: Record<string, unknown> = {};
    FACT_FIELDS.forEach((k, i) => {
      const v = tuple[i];
      fact[k] = NUMERIC.has(k) && v !== null ? unsnapNum(v as SnapNum) : v;
    });
    return { fact: fact as unknown as CardFact, attempt: get(r.uint()) };
  });
  cf.facts.load(times, items);
  cf.setLastFactTime(unsnapNum(s.lastFactTime));
}

const NUMERIC = new Set<string>(['event_time', 'amount_minor', 'lat', 'lon']);
