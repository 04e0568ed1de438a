/**
 * The PAN guard, by property: a Luhn-valid card number of 13-19 digits, in
 * any of several shapes, in any string field of any stream, is refused by
 * the validator (JSON and Avro paths), and no copy that leaves the process —
 * the reason, the JSONL dead-letter payload, the dead-letter topic's key,
 * headers and value — carries it in clear. And the values the contract is
 * full of (rrns, stans, auth codes, UUIDs, hashes, tokens, timestamps,
 * amounts) pass. The ClickHouse side is test/sinks/clickhouse-pan-property.test.ts.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Message, Producer, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Stream } from '../../src/events/index.js';
import { parseLine } from '../../src/ingest/jsonl.js';
import { encodeAvro } from '../../src/ingest/kafka/avro.js';
import { AvroDecoder, dlqValue, poisonPayload } from '../../src/ingest/kafka/codec.js';
import { DeadLetterPublisher, DLQ_HEADERS } from '../../src/ingest/kafka/dlq.js';
import { containsPan, maskPans, maskPansLoose, scrubPans } from '../../src/util/pan.js';
import { validateEvent } from '../../src/ingest/validate.js';
import { EventBuilder } from '../eval/builders.js';
import { leaks, panArb, shapedPanArb, stringFields } from './pan-support.js';

const b = new EventBuilder();
const BASE: Record<Stream, Record<string, unknown>> = {
  terminal: { ...b.terminal('TXN_STARTED', { lat: 48.8, lon: 2.3 }) },
  gateway: { ...b.gateway('REQUEST_RECEIVED') },
  bank: { ...b.bank('AUTH_APPROVED') },
};
const TARGETS = (['terminal', 'gateway', 'bank'] as const).flatMap((stream) => stringFields(stream).map((field) => ({ stream, field })));

/** A producer that keeps what it is sent. */
function capturingProducer(): { producer: Producer; sent: Message[] } {
  const sent: Message[] = [];
  const producer = { send: async (r: ProducerRecord) => { sent.push(...r.messages); return []; } } as unknown as Producer;
  return { producer, sent };
}

describe('the PAN guard refuses a card number in any string field', () => {
  it('covers every string field of the three schemas', () => {
    expect(TARGETS.length).toBeGreaterThanOrEqual(25);
    for (const f of ['merchant_id', 'account_ref', 'card_token', 'issuer_id', 'event_id', 'masked_pan', 'orig_rrn']) expect(TARGETS.map((t) => t.field)).toContain(f);
  });

  it('JSON path: refused with a reason naming the field; reason and dead-letter payload masked', () => {
    fc.assert(fc.property(fc.constantFrom(...TARGETS), shapedPanArb, ({ stream, field }, p) => {
      const value = { ...BASE[stream], [field]: p.value };
      const v = validateEvent(stream, value);
      expect(v.ok).toBe(false);
      if (v.ok) return;
      expect(v.reason).toBe(`field ${field}: looks like a clear card number (PAN), refused`);
      const line = parseLine(stream, 'in.jsonl', 1, JSON.stringify(value));
      expect(line.ok).toBe(false);
      if (line.ok) return;
      expect(leaks(line.bad.payload, p), line.bad.payload).toBe(false);
      expect(leaks(line.bad.reason, p)).toBe(false);
      // The rest of the record survives for forensics.
      expect(JSON.parse(line.bad.payload).event_type).toBe(value.event_type);
    }), { numRuns: 1500 });
  });

  it('Avro path and the dead-letter topic: refused; key, headers and value masked', async () => {
    const decoder = new AvroDecoder();
    await fc.assert(fc.asyncProperty(fc.constantFrom(...TARGETS), shapedPanArb, async ({ stream, field }, p) => {
      const value = { ...BASE[stream], [field]: p.value };
      const bytes = encodeAvro(stream, value as never);
      const d = decoder.decode(stream, bytes);
      expect(d).toMatchObject({ ok: false, kind: 'contract' });
      if (d.ok) return;
      expect(leaks(d.reason, p)).toBe(false);
      expect(leaks(poisonPayload(bytes, d.value), p)).toBe(false);
      // The same bytes as if they could not be decoded: masked in the raw form and in the base64 kept for forensics.
      const raw = dlqValue(bytes, undefined);
      expect(raw.scrubbed).toBe(true);
      expect(leaks(raw.value!.toString('latin1'), p)).toBe(false);
      const kept = poisonPayload(bytes, undefined);
      expect(leaks(kept.startsWith('base64:') ? Buffer.from(kept.slice(7), 'base64').toString('latin1') : kept, p)).toBe(false);
      const out = dlqValue(bytes, d.value);
      expect(out.scrubbed).toBe(true);
      const { producer, sent } = capturingProducer();
      const pub = new DeadLetterPublisher(producer, 'dlq');
      pub.publish({ stream, topic: 't', partition: 0, offset: '1', timestamp: '0', key: Buffer.from(p.value), value: out.value, scrubbed: out.scrubbed, kind: d.kind, reason: d.reason });
      await pub.flush();
      const m = sent[0];
      expect(leaks(m.key!.toString('latin1'), p)).toBe(false);
      expect(leaks(m.value!.toString('latin1'), p)).toBe(false);
      for (const h of Object.values(m.headers!)) expect(leaks(String(h), p)).toBe(false);
      expect(String(m.headers![DLQ_HEADERS.payload])).toBe('scrubbed');
    }), { numRuns: 600 });
  });

  it('a card number as the amount is refused too, and not kept even when JSON.parse rounds it (17-19 digits)', () => {
    fc.assert(fc.property(panArb, (pan) => {
      const text = `{"amount_minor":${pan},"note":"x"}`;
      const rounded = JSON.parse(text).amount_minor as number;
      const v = validateEvent('gateway', { ...BASE.gateway, amount_minor: rounded });
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason).not.toContain(String(rounded).slice(0, 12));
      const kept = scrubPans(text);
      expect(kept).not.toContain(pan.slice(0, 12));
      expect(leaks(kept, { pan, run: pan, value: pan })).toBe(false);
    }), { numRuns: 300 });
    expect(scrubPans('{"amount_minor":6222021000000000000}')).toBe('{"amount_minor":"*******************"}');
  });

  it('a JSON-escaped card number with no other long digit run is masked too', () => {
    const text = '{"note":"41111111\\u00311111111"}';
    expect(JSON.parse(text).note).toBe('4111111111111111');
    expect(JSON.parse(scrubPans(text)).note).not.toContain('4111111111111111');
  });
});

describe('what the guard lets through', () => {
  const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
  const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
  const alnum = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFGHJKLMNPQRSTUVWXYZ'), minLength: n, maxLength: n });

  it('ordinary values pass the contract: 12-digit rrns, 6-digit stans, auth codes, UUIDs, account hashes, hex tokens', () => {
    fc.assert(fc.property(digits(12), digits(12), digits(6), alnum(6), fc.uuid(), fc.string(), hex(24), fc.integer({ min: 0, max: 99_999_999_999 }),
      (rrn, origRrn, stan, authCode, uuid, account, token, amount) => {
        const bank = { ...BASE.bank, event_type: 'REFUND_POSTED', rrn, orig_rrn: origRrn, stan, auth_code: authCode, event_id: uuid, amount_minor: amount,
          account_ref: createHash('sha256').update(account).digest('hex'), card_token: `tok_${token}` };
        const v = validateEvent('bank', bank);
        expect(v.ok ? 'ok' : v.reason).toBe('ok');
      }), { numRuns: 3000 });
  });

  it('ISO timestamps, amounts, UUIDs and short numbers are not card numbers', () => {
    fc.assert(fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), fc.integer({ min: 0, max: 99_999_999_999 }), fc.uuid(), digits(12),
      (d, amount, uuid, twelve) => {
        for (const s of [d.toISOString(), d.toISOString().replace('T', ' '), `${amount}`, `${(amount / 100).toFixed(2)} EUR`, uuid, `tok_${uuid}`, twelve, `rrn ${twelve} stan ${twelve.slice(0, 6)}`]) {
          expect(containsPan(s), s).toBe(false);
        }
      }), { numRuns: 2000 });
  });
});

describe('the rule, by example', () => {
  it.each([
    ['4111111111111111', true], ['tok_4111111111111111', true], ['4111 1111 1111 1111', true], ['4111-1111-1111-1111', true],
    ['card 4111111111111111 1229', true], ['PAN4111111111111111', true], ['378282246310005', true], ['4222222222222', true],
    ['4111111111111112', false], ['411111111111', false], ['41111111111111111111', false], ['411111******1111', false],
    ['2026-03-02T08:00:00.000Z', false], ['550e8400-e29b-41d4-a716-446655440000', false],
    // Zero padding passes Luhn, but no card number starts with 0.
    ['0000000000000', false], ['ref 000000000000000000', false],
    // A digit run inside a long hex word is part of a hash (docs/security.md).
    [createHash('sha256').update('x').digest('hex').slice(0, 8) + '4111111111111111', false],
  ])('%s: %s', (s, pan) => {
    expect(containsPan(s)).toBe(pan);
  });

  it('masks undecodable bytes by the loose rule: a digit glued on by a length prefix does not hide the number', () => {
    // A length prefix '8' (a 28-byte string) glued onto a card number: the strict rule sees 17 other digits.
    const glued = '\u0006H84111111111111111\u0010POISON';
    expect(containsPan(glued)).toBe(false);
    expect(maskPansLoose(glued)).not.toContain('4111111111111111');
    expect(maskPansLoose(glued)).toMatch(/^\u0006H8?\*{16,17}\u0010POISON$/);
    const uuid = '00000000-0000-4000-8000-000000000001';
    expect(maskPansLoose(`x${uuid}y`)).toBe(`x${uuid}y`);
  });

  it('masks every digit of the run, keeping separators and the text around it; idempotent', () => {
    expect(maskPans('tok_4111-1111-1111-1111 ok')).toBe('tok_****-****-****-**** ok');
    expect(maskPans('no card here 1234')).toBe('no card here 1234');
    const once = scrubPans('{"a":"4111111111111111","4111111111111111":1,"event_time":1772432352928}');
    expect(JSON.parse(once)).toEqual({ a: '****************', '****************': 1, event_time: 1772432352928 });
    expect(scrubPans(once)).toBe(once);
  });
});
