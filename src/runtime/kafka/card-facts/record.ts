/**
 * The records of the internal topic `posguard.card-facts` (docs/architecture.md,
 * "The internal topic"): stage 1 (keyed by terminal) writes them, stage 2
 * (keyed by card) reads them. One format with a tag, JSON arrays in a fixed
 * field order (about a third of the bytes of an object, and no schema
 * registry for a topic only posguard reads):
 *
 *   FACT       ["F", 1, source, card_token, <FactTuple>]   key card_token
 *   WATERMARK  ["W", 1, source, frontier, epoch, idle]     no key, sent to every partition
 *
 * `source` is the stage-1 input partition p, `frontier` its fact frontier
 * (bank time, ms; "Inf" at the end of a bounded input), `epoch` the writing
 * task's epoch (a takeover shows as a new one), `idle` 1 while p carries no
 * traffic (stage 2 then leaves p out of its minimum, feeds.md).
 *
 * The topic is posguard's own, but a record on it is still input: decoding
 * checks every field and names the first wrong one, so a bad record is
 * counted and logged with its reason (stage2.ts) instead of a crash; it
 * stays on the topic.
 */
import { decodeFact, encodeFact, type FactTuple } from '../../../detect/patterns/state/codec.js';
import type { CardFact } from '../../../detect/patterns/types.js';
import { snapNum, unsnapNum, type SnapNum } from '../../../util/snapshot-num.js';

export const CARD_FACTS_FORMAT = 1;

export type CardFactsRecord =
  | { readonly type: 'fact'; readonly source: number; readonly fact: CardFact }
  | { readonly type: 'watermark'; readonly source: number; readonly frontierMs: number; readonly epoch: number; readonly idle: boolean };

export type Decoded = { ok: true; record: CardFactsRecord } | { ok: false; reason: string };

export function encodeFactRecord(source: number, f: CardFact): Buffer {
  return Buffer.from(JSON.stringify(['F', CARD_FACTS_FORMAT, source, f.card_token, encodeFact(f)]));
}

export function encodeWatermark(source: number, frontierMs: number, epoch: number, idle: boolean): Buffer {
  return Buffer.from(JSON.stringify(['W', CARD_FACTS_FORMAT, source, snapNum(frontierMs), epoch, idle ? 1 : 0]));
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const isNat = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const isSnap = (x: unknown): x is SnapNum => (typeof x === 'number' && Number.isFinite(x)) || x === 'Inf' || x === '-Inf';
const isFiniteNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isCoord = (x: unknown): boolean => x === null || isFiniteNum(x);

/** Field names of a FactTuple, in order, with their check: the reason names the first that fails. */
const FACT_FIELDS: readonly [string, (x: unknown) => boolean][] = [
  ['event_id', isStr], ['event_time', isFiniteNum], ['rrn', isStr], ['merchant_id', isStr], ['terminal_id', isStr], ['stan', isStr],
  ['issuer_id', isStr], ['txn_type', isStr], ['amount_minor', isFiniteNum], ['currency', isStr],
  ['flags', (x) => isNat(x) && (x as number) < 8], ['lat', isCoord], ['lon', isCoord],
];

function factTupleProblem(t: unknown): string | null {
  if (!Array.isArray(t) || t.length !== FACT_FIELDS.length) return `fact: not an array of ${FACT_FIELDS.length} fields`;
  for (let i = 0; i < FACT_FIELDS.length; i++) {
    const [name, ok] = FACT_FIELDS[i];
    if (!ok(t[i])) return `fact field ${name}: ${JSON.stringify(t[i]) ?? 'missing'} is not valid`;
  }
  return null;
}

/** Decodes one record value; `{ ok: false, reason }` names what is wrong. */
export function decodeCardFactsRecord(value: Buffer | null): Decoded {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty record' };
  let r: unknown;
  try {
    r = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  if (!Array.isArray(r) || (r[0] !== 'F' && r[0] !== 'W')) return { ok: false, reason: 'not a card-facts record (an array tagged "F" or "W")' };
  if (r[1] !== CARD_FACTS_FORMAT) return { ok: false, reason: `format ${JSON.stringify(r[1])}, this posguard reads format ${CARD_FACTS_FORMAT}` };
  if (!isNat(r[2])) return { ok: false, reason: `source ${JSON.stringify(r[2])} is not a partition number` };
  if (r[0] === 'F') {
    if (r.length !== 5) return { ok: false, reason: `a fact record has 5 fields, not ${r.length}` };
    if (!isStr(r[3]) || r[3] === '') return { ok: false, reason: 'card_token missing' };
    const problem = factTupleProblem(r[4]);
    if (problem !== null) return { ok: false, reason: problem };
    return { ok: true, record: { type: 'fact', source: r[2], fact: decodeFact(r[4] as FactTuple, r[3]) } };
  }
  if (r.length !== 6) return { ok: false, reason: `a watermark record has 6 fields, not ${r.length}` };
  if (!isSnap(r[3])) return { ok: false, reason: `frontier ${JSON.stringify(r[3])} is not a time` };
  if (!isNat(r[4])) return { ok: false, reason: `epoch ${JSON.stringify(r[4])} is not a number` };
  if (r[5] !== 0 && r[5] !== 1) return { ok: false, reason: `idle ${JSON.stringify(r[5])} is not 0 or 1` };
  return { ok: true, record: { type: 'watermark', source: r[2], frontierMs: unsnapNum(r[3]), epoch: r[4], idle: r[5] === 1 } };
}
