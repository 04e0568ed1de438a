/**
 * The sink's card-data check on an encoded events_raw row
 * (cardDataProblemEncoded: one pass over the row's JSON, field by field only
 * when a string there has a long digit run) must answer exactly as the
 * field-by-field check (cardDataProblem) on the same event: clean events,
 * events with a card number planted in a string field (every shape of
 * pan-support.ts), and strings full of what JSON escapes (quotes, backslashes,
 * control characters, lone surrogates) next to digits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cardDataProblem, cardDataProblemEncoded } from '../../src/sinks/clickhouse/card-data.js';
import { encodeRawEvent } from '../../src/sinks/clickhouse/tables.js';
import type { RawEventRecord } from '../../src/sinks/types.js';
import { containsPan, jsonStringsHaveLongRun } from '../../src/util/pan.js';
import { shapedPanArb, stringFields } from '../ingest/pan-support.js';
import { buildSinkInput } from './fixtures.js';

const raw = buildSinkInput({ days: 1, attemptsPerDay: 200, seed: 9, now: Date.UTC(2026, 10, 20, 12) }).raw;

const same = (r: RawEventRecord) => expect(cardDataProblemEncoded(r.event, encodeRawEvent(r))).toBe(cardDataProblem(r.event));

/** Strings mixing digits and separators with what JSON must escape. */
const awkwardString = fc.array(fc.constantFrom('4', '1', '0', '9', ' ', '-', '"', '\\', '\n', '\u0010', '\u001f', '\ud800', 'é', 'x', '12345678', '4111111111111111'), { maxLength: 30 }).map((xs) => xs.join(''));

describe('cardDataProblemEncoded answers as cardDataProblem', () => {
  it('on clean events', () => {
    expect(raw.length).toBeGreaterThan(500);
    for (const r of raw) {
      same(r);
      expect(cardDataProblemEncoded(r.event, encodeRawEvent(r))).toBe(null);
    }
  });

  it('with a card number planted in a string field, or an awkward string, or a card-like amount', () => {
    fc.assert(
      fc.property(fc.nat(raw.length - 1), fc.nat(), fc.oneof(shapedPanArb.map((p) => p.value), awkwardString, fc.constantFrom(4111111111111111, 1772438400212)), (i, k, value) => {
        const r = raw[i];
        const fields = [...stringFields(r.stream), 'amount_minor', 'masked_pan'];
        const field = fields[k % fields.length];
        same({ ...r, event: { ...r.event, [field]: value } as RawEventRecord['event'] });
      }),
      { numRuns: 3_000, seed: 77 },
    );
  });

  it('jsonStringsHaveLongRun: never false for a JSON text holding a string with a card number', () => {
    fc.assert(
      fc.property(fc.oneof(shapedPanArb.map((p) => p.value), awkwardString), (s) => {
        if (containsPan(s)) expect(jsonStringsHaveLongRun(JSON.stringify({ a: 1772438400212, s }))).toBe(true);
        expect(jsonStringsHaveLongRun(JSON.stringify([1772438400212, 'tok_ab12', null]))).toBe(false);
      }),
      { numRuns: 3_000, seed: 78 },
    );
  });
});
