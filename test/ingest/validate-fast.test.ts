/**
 * validateEvent walks a well-typed record once (typedEvent) and hands anything
 * else to the full check (validateSlowly). The quick walk must never accept
 * what the full check refuses, nor build a different event: both are run on
 * the same inputs (simulated traffic, then values bent field by field with
 * fast-check: wrong types, out-of-range numbers, unknown enum symbols, missing
 * and extra keys) and must give the same verdict, reason and event, key order
 * included (the event's JSON is stored as events_raw.payload).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { BANK_EVENT_FIELDS, GATEWAY_EVENT_FIELDS, STREAMS, TERMINAL_EVENT_FIELDS, type Stream } from '../../src/events/index.js';
import { validateEvent, validateSlowly } from '../../src/ingest/validate.js';
import { simulate } from '../../src/sim/index.js';

const same = (stream: Stream, v: unknown) => {
  const fast = validateEvent(stream, v);
  const slow = validateSlowly(stream, v);
  expect(fast.ok).toBe(slow.ok);
  if (fast.ok && slow.ok) expect(JSON.stringify(fast.event)).toBe(JSON.stringify(slow.event));
  if (!fast.ok && !slow.ok) expect(fast.reason).toBe(slow.reason);
};

const records = [...simulate({ seed: 11, minutes: 3, tps: 20, startMs: Date.parse('2026-03-02T08:00:00Z'), rules: DEFAULT_RULES }).records];
const parsed: { stream: Stream; value: Record<string, unknown> }[] = records.flatMap((r) => {
  try {
    const value = JSON.parse(r.line) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? [{ stream: r.stream, value: value as Record<string, unknown> }] : [];
  } catch {
    return [];
  }
});

/** Every field name of the three contracts. */
const FIELD_NAMES = [...new Set<string>([...TERMINAL_EVENT_FIELDS, ...GATEWAY_EVENT_FIELDS, ...BANK_EVENT_FIELDS])];

const oddValue = fc.oneof(
  fc.constant(undefined), fc.constant(null), fc.boolean(), fc.string({ maxLength: 20 }),
  fc.integer(), fc.double(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 9007199254740990, 9007199254740991, -9007199254740991, 1.5, -0, Number.MAX_VALUE),
  fc.constantFrom('SALE', 'TXN_STARTED', 'AUTH_APPROVED', 'VISA', 'constructor', 'toString', '__proto__', ''),
  fc.constant([1]), fc.constant({ a: 1 }),
);

describe('validateEvent: the quick walk agrees with the full check', () => {
  it('on every simulated event, good and bad', () => {
    expect(parsed.length).toBeGreaterThan(10_000);
    let ok = 0;
    for (const p of parsed) {
      same(p.stream, p.value);
      if (validateEvent(p.stream, p.value).ok) ok++;
    }
    expect(ok).toBeGreaterThan(parsed.length * 0.9);
  });

  it('on simulated events with fields bent, dropped or added', () => {
    fc.assert(
      fc.property(fc.nat(parsed.length - 1), fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: fc.constantFrom(...STREAMS), weight: 1 }), fc.array(fc.tuple(fc.nat(), oddValue), { minLength: 1, maxLength: 2 }), fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.constantFrom('amount', '__proto__', 'constructor', 'extra'), weight: 1 }), (i, other, edits, extraKey) => {
        const { stream, value } = parsed[i];
        const v: Record<string, unknown> = { ...value };
        for (const [k, x] of edits) {
          const name = FIELD_NAMES[k % FIELD_NAMES.length];
          if (x === undefined) delete v[name];
          else v[name] = x;
        }
        if (extraKey !== null) Object.defineProperty(v, extraKey, { value: 1, enumerable: true, configurable: true, writable: true });
        same(other ?? stream, v);
      }),
      { numRuns: 20_000, seed: 1616 },
    );
  });

  it('on values that are not records', () => {
    for (const v of [null, 1, 'x', [], [{}], true, {}]) for (const s of STREAMS) same(s, v);
  });
});
