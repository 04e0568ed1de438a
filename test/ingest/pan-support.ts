/**
 * Generators for the PAN guard's property tests: Luhn-valid card numbers of
 * 13-19 digits, written in the shapes a careless upstream system produces,
 * and the string fields of each stream read from the Avro schemas (not from
 * the validator's own list).
 */
import fc from 'fast-check';
import { loadSchema } from '../../src/events/codegen.js';
import type { Stream } from '../../src/events/index.js';

/** The Luhn check digit for a digit string (the digit that, appended, makes it valid). */
export function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** A Luhn-valid PAN of 13-19 digits, first digit 1-9 (every major industry identifier). */
export const panArb: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 13, max: 19 }), fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 18, maxLength: 18 }))
  .map(([len, first, rest]) => {
    const body = String(first) + rest.slice(0, len - 2).join('');
    return body + luhnCheckDigit(body);
  });

const group = (pan: string, sizes: number[], sep: string) => {
  const out: string[] = [];
  let i = 0;
  for (const n of sizes) {
    if (i >= pan.length) break;
    out.push(pan.slice(i, i + n));
    i += n;
  }
  if (i < pan.length) out.push(pan.slice(i));
  return out.join(sep);
};

/** How a card number is written: as it is, grouped with spaces or dashes. */
export const FORMATS: readonly ((pan: string) => string)[] = [
  (p) => p,
  (p) => group(p, [4, 4, 4, 4], ' '),
  (p) => group(p, [4, 4, 4, 4], '-'),
  (p) => group(p, [4, 6, 5], ' '),
  (p) => group(p, [6, 6], '-'),
];

/** Where it sits in the string: alone, behind a prefix, inside text, glued to non-hex letters, next to other numbers. */
export const CONTEXTS: readonly ((run: string) => string)[] = [
  (r) => r,
  (r) => `tok_${r}`,
  (r) => `acct:${r}`,
  (r) => `card=${r};exp=12/29`,
  (r) => `note ${r} end`,
  (r) => `PAN${r}`,
  (r) => `${r}X`,
  (r) => `${r} 1229`,
  (r) => `ref 12 ${r}`,
  (r) => `{"pan":"${r}"}`,
  (r) => `tok_${r}_v2`,
];

export interface ShapedPan {
  readonly pan: string;
  /** The card number as written (with its separators). */
  readonly run: string;
  /** The whole string value holding it. */
  readonly value: string;
}

export const shapedPanArb: fc.Arbitrary<ShapedPan> = fc
  .tuple(panArb, fc.integer({ min: 0, max: FORMATS.length - 1 }), fc.integer({ min: 0, max: CONTEXTS.length - 1 }))
  .map(([pan, f, c]) => {
    const run = FORMATS[f](pan);
    return { pan, run, value: CONTEXTS[c](run) };
  });

/** The string-typed fields (plain or nullable) of a stream's schema. */
export function stringFields(stream: Stream): string[] {
  return loadSchema(stream).fields
    .filter((f) => f.type === 'string' || (Array.isArray(f.type) && (f.type as unknown[]).includes('string')))
    .map((f) => f.name);
}

/** True when `text` carries the card number in clear: its digits in a row, or as it was written. */
export function leaks(text: string, p: ShapedPan): boolean {
  return text.includes(p.pan) || text.includes(p.run) || text.replace(/[ -]/g, '').includes(p.pan);
}
