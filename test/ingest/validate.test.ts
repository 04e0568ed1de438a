import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../src/ingest/validate.js';
import { looksLikePan, scrubPans } from '../../src/util/pan.js';
import { parseLine } from '../../src/ingest/jsonl.js';
import { EventBuilder } from '../eval/builders.js';

const b = new EventBuilder();
const term = { ...b.terminal('TXN_STARTED', { lat: 48.8, lon: 2.3 }) } as Record<string, unknown>;
const bank = { ...b.bank('AUTH_APPROVED') } as Record<string, unknown>;

function reason(stream: 'terminal' | 'gateway' | 'bank', v: unknown): string | undefined {
  const r = validateEvent(stream, v);
  return r.ok ? undefined : r.reason;
}

describe('the input contract', () => {
  it('accepts a valid event and fills omitted nullable fields with null', () => {
    const { masked_pan: _omit, ...rest } = term;
    const r = validateEvent('terminal', rest);
    expect(r.ok && r.event.masked_pan).toBe(null);
  });

  it.each([
    ['unknown enum value', { ...term, event_type: 'TXN_EXPLODED' }, /field event_type: unknown value "TXN_EXPLODED"/],
    ['missing field', { ...term, stan: undefined }, /field stan: missing/],
    ['mistyped field', { ...term, amount_minor: '12.00' }, /field amount_minor: expected null or long, got "12.00"/],
    ['fractional amount', { ...term, amount_minor: 12.5 }, /field amount_minor/],
    ['unknown field', { ...term, amount: 5 }, /field amount: not in the terminal contract/],
    ['bad uuid', { ...term, event_id: 'abc' }, /field event_id: expected a UUID/],
    ['short terminal id', { ...term, terminal_id: 'T1' }, /field terminal_id: expected 8 characters/],
    ['stan not digits', { ...term, stan: '12a456' }, /field stan: expected 6 digits/],
    ['currency', { ...term, currency: 'eur' }, /field currency/],
    ['clear card number', { ...term, card_token: '4111 1111 1111 1111' }, /card_token: looks like a clear card number/],
    ['unmasked masked_pan', { ...term, masked_pan: '4111111111111111' }, /masked_pan/],
    ['reversal without orig_rrn', { ...bank, event_type: 'REVERSAL_APPLIED', orig_rrn: null }, /field orig_rrn: missing on REVERSAL_APPLIED/],
    ['not an object', [1, 2], /expected a JSON object, got an array/],
  ])('refuses %s with a reason naming the field', (_name, value, re) => {
    const stream = 'account_ref' in (value as object) ? 'bank' : 'terminal';
    expect(reason(stream, value)).toMatch(re);
  });

  it('parseLine reports invalid JSON with its line number, never throws', () => {
    const p = parseLine('gateway', 'g.jsonl', 42, '{"event_id": ');
    expect(p.ok).toBe(false);
    if (!p.ok) expect([p.bad.line, p.bad.file, p.bad.reason.startsWith('not valid JSON')]).toEqual([42, 'g.jsonl', true]);
  });
});

describe('card numbers', () => {
  it('recognises Luhn-valid 13-19 digit numbers only', () => {
    expect(looksLikePan('4111111111111111')).toBe(true);
    expect(looksLikePan('4111111111111112')).toBe(false);
    expect(looksLikePan('tok_4111111111111111')).toBe(false);
    expect(looksLikePan('411111111111')).toBe(false);
  });

  it('scrubs PANs from kept payloads but leaves timestamps alone', () => {
    const line = JSON.stringify({ card_token: '4111111111111111', event_time: 1772432352928, note: 'pan 5500 0000 0000 0004 here' });
    const s = scrubPans(line);
    expect(s).not.toContain('4111111111111111');
    // Every digit of the run masked, separators and length kept (src/util/pan.ts says why).
    expect(JSON.parse(s)).toEqual({ card_token: '****************', event_time: 1772432352928, note: 'pan **** **** **** **** here' });
    expect(scrubPans('garbage 4111111111111111 {')).toBe('garbage **************** {');
  });
});
