/** The simulator's building blocks: PRNG, ids, broken lines, serialisation. */
import { describe, expect, it } from 'vitest';
import { looksLikePan } from '../../src/util/pan.js';
import { validateEvent } from '../../src/ingest/validate.js';
import { BAD_KINDS, badLine, luhnValidPan } from '../../src/sim/bad-records.js';
import { toLine } from '../../src/sim/lines.js';
import { fmix32, Rng, Weighted } from '../../src/sim/rng.js';
import { UuidFactory } from '../../src/sim/uuid.js';
import type { TerminalEvent } from '../../src/events/index.js';

describe('Rng', () => {
  it('repeats its sequence for a seed and differs across seeds and streams', () => {
    const draw = (seed: number, stream = 0) => {
      const r = new Rng(seed, stream);
      return Array.from({ length: 8 }, () => r.u32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(7, 1)).not.toEqual(draw(7, 2));
    expect(draw(1)).not.toEqual(draw(1 + 2 ** 32));
  });

  it('draws uniform floats and integers in range', () => {
    const r = new Rng(3);
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    const ints = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const f = r.float();
      lo = Math.min(lo, f);
      hi = Math.max(hi, f);
      sum += f;
      ints.add(r.int(-3, 3));
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(sum / 20_000).toBeCloseTo(0.5, 1);
    expect([...ints].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
  });

  it('picks by weight', () => {
    const w = Weighted.of([['a', 1], ['b', 3], ['c', 0]] as const);
    const r = new Rng(5);
    const n = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 8_000; i++) n[w.pick(r)]++;
    expect(n.c).toBe(0);
    expect(n.b / n.a).toBeGreaterThan(2.5);
    expect(n.b / n.a).toBeLessThan(3.5);
  });

  it('has a Poisson mean close to the rate', () => {
    const r = new Rng(9);
    for (const mean of [0.3, 4, 55]) {
      let s = 0;
      for (let i = 0; i < 4_000; i++) s += r.poisson(mean);
      expect(s / 4_000).toBeGreaterThan(mean * 0.93);
      expect(s / 4_000).toBeLessThan(mean * 1.07);
    }
  });

  it('mixes with a bijection (fmix32)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50_000; i++) seen.add(fmix32(i));
    expect(seen.size).toBe(50_000);
  });
});

describe('UuidFactory', () => {
  it('makes unique UUID v4-format ids, the same sequence for the same seed', () => {
    const a = new UuidFactory(new Rng(1, 4));
    const ids = Array.from({ length: 100_000 }, () => a.next());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 500)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const b = new UuidFactory(new Rng(1, 4));
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(ids.slice(0, 5));
    expect(new Set(ids.map((id) => id.slice(-8))).size).toBeGreaterThan(99_000);
  });
});

const sample: TerminalEvent = {
  event_id: '0f8fad5b-d9cb-469f-a165-70867728950e', event_time: 1772438448617, terminal_id: 'PA123456', merchant_id: 'MERPA0006150812', stan: '000123',
  event_type: 'TXN_STARTED', txn_type: 'SALE', amount_minor: 1250, currency: 'EUR', card_token: 'tok_6bb3c6043e3006870d0503f7', masked_pan: '411111******1111',
  entry_mode: 'CHIP', response_code: null, failure_reason: null, fault_component: null, orig_stan: null, lat: 48.85, lon: 2.35,
};

describe('lines and broken lines', () => {
  it('serialises compact JSON in contract order without null fields', () => {
    const line = toLine('terminal', sample);
    expect(JSON.parse(line)).toEqual(Object.fromEntries(Object.entries(sample).filter(([, v]) => v !== null)));
    expect(Object.keys(JSON.parse(line) as object)[0]).toBe('event_id');
    expect(validateEvent('terminal', JSON.parse(line)).ok).toBe(true);
  });

  it('makes Luhn-valid card numbers (that the PAN guard refuses)', () => {
    const r = new Rng(11);
    for (let i = 0; i < 200; i++) expect(looksLikePan(luhnValidPan(r))).toBe(true);
  });

  it('breaks a line in each way the validator rejects', () => {
    const r = new Rng(12);
    for (const kind of BAD_KINDS) {
      for (let i = 0; i < 20; i++) {
        const { line, reason } = badLine(kind, 'terminal', sample, '7c9e6679-7425-40de-944b-e07fc1f90ae7', r);
        expect(reason.startsWith(kind)).toBe(true);
        let ok = false;
        try {
          ok = validateEvent('terminal', JSON.parse(line)).ok;
        } catch {
          ok = false;
        }
        expect(ok, `${kind}: ${line}`).toBe(false);
      }
    }
  });
});
