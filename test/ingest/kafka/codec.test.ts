/** Record values → events (no broker): every poison kind is named, good values pass the same contract as replay lines. */
import { describe, expect, it } from 'vitest';
import { encodeAvro, encodeWire, readerType } from '../../../src/ingest/kafka/avro.js';
import { AvroDecoder, ConfluentDecoder, JsonDecoder, dlqValue, poisonPayload } from '../../../src/ingest/kafka/codec.js';
import { Ledger, signature } from '../../../src/runtime/kafka/ledger.js';
import type { Registry, SchemaResolution } from '../../../src/ingest/kafka/registry.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import type { GatewayEvent } from '../../../src/events/index.js';

const event: GatewayEvent = {
  event_id: '7d6c4f0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f', event_time: Date.UTC(2026, 2, 2, 8), terminal_id: 'TERM0001', merchant_id: 'MERCHANT0000001',
  stan: '000123', event_type: 'REQUEST_RECEIVED', rrn: '606100000001', txn_type: 'SALE', amount_minor: 1250, currency: 'EUR',
  card_token: 'tok_abc', issuer_id: 'ISS01', network: 'VISA', response_code: null, latency_ms: null, orig_rrn: null,
};

/** A registry that knows schema id 7 as the gateway contract and nothing else. */
function fakeRegistry(): Registry {
  const cache = new Map<string, SchemaResolution>();
  return {
    cached: (stream: string, id: number) => cache.get(`${stream}:${id}`),
    resolve: async (stream: string, id: number) => {
      const r: SchemaResolution = id === 7 ? { ok: true, resolver: null } : { ok: false, reason: `unknown schema id ${id} (the registry has no such schema)` };
      cache.set(`${stream}:${id}`, r);
      return r;
    },
  } as unknown as Registry;
}

describe('decoders', () => {
  it('Confluent wire format: decodes by schema id and names every kind of poison', async () => {
    const d = new ConfluentDecoder(fakeRegistry());
    const good = encodeWire(7, encodeAvro('gateway', event));
    const unknown = encodeWire(8, encodeAvro('gateway', event));
    const garbage = encodeWire(7, Buffer.from([1, 2, 3]));
    const broken = encodeWire(7, readerType('gateway').toBuffer({ ...event, stan: 'abc' }));
    const values = [good, unknown, garbage, broken, Buffer.from('{"a":1}'), Buffer.from([0, 1]), null];
    await d.prepare('gateway', values);
    const r = values.map((v) => d.decode('gateway', v));
    expect(r[0]).toEqual({ ok: true, event });
    expect(r.slice(1).map((x) => (x.ok ? 'ok' : x.kind))).toEqual(['unknown_schema', 'undecodable', 'contract', 'bad_magic_byte', 'undecodable', 'empty']);
    expect(r[3].ok ? '' : r[3].reason).toBe('field stan: expected 6 digits, got "abc"');
    expect(r[4].ok ? '' : r[4].reason).toContain('bad magic byte 0x7b');
  });

  it('plain Avro and JSON: the same events, the same contract', () => {
    expect(new AvroDecoder().decode('gateway', encodeAvro('gateway', event))).toEqual({ ok: true, event });
    expect(new JsonDecoder().decode('gateway', Buffer.from(JSON.stringify(event)))).toEqual({ ok: true, event });
    expect(new JsonDecoder().decode('gateway', Buffer.from('{"event_id":'))).toMatchObject({ ok: false, kind: 'undecodable' });
    expect(new JsonDecoder().decode('gateway', Buffer.from(JSON.stringify({ ...event, network: 'AMEX' })))).toMatchObject({ ok: false, kind: 'contract' });
    expect(new AvroDecoder().decode('gateway', Buffer.from('not avro at all, really'))).toMatchObject({ ok: false, kind: 'undecodable' });
    // Avro guarantees the types, not the formats or the card rules: those are still checked.
    expect(new AvroDecoder().decode('gateway', encodeAvro('gateway', { ...event, stan: 'abc' }))).toMatchObject({ ok: false, kind: 'contract', reason: 'field stan: expected 6 digits, got "abc"' });
    const pan = new AvroDecoder().decode('gateway', encodeAvro('gateway', { ...event, card_token: '4111111111111111' }));
    expect(pan).toMatchObject({ ok: false, kind: 'contract' });
  });

  it('never forwards or stores a clear card number', () => {
    const leak = Buffer.from(JSON.stringify({ ...event, card_token: '4111111111111111' }));
    const v = dlqValue(leak, undefined);
    expect(v.scrubbed).toBe(true);
    expect(v.value!.toString()).not.toContain('4111111111111111');
    expect(poisonPayload(leak, undefined)).not.toContain('4111111111111111');
    const clean = Buffer.from('{"x":1}');
    expect(dlqValue(clean, undefined)).toEqual({ value: clean, scrubbed: false });
    expect(poisonPayload(Buffer.from([0, 0xff, 0xfe, 3]), undefined)).toMatch(/^base64:/);
  });
});

describe('Ledger', () => {
  const base: Anomaly = {
    anomaly_id: 'a1', kind: 'ORPHAN_DEBIT', cause: 'NO_TERMINAL_OUTCOME', status: 'OPEN', severity: 'high', version: 3, event_time: 1000, detected_at: 5,
    terminal_id: 'T', merchant_id: 'M', card_token: 'c', rrn: 'R1', stan: '000001', issuer_id: 'I', amount_minor: 10, currency: 'EUR', related_rrns: [],
    evidence: { terminal: [], gateway: [], bank: [] },
  };

  it('skips a re-emission identical to what is stored, lets a changed decision through', () => {
    const l = new Ledger();
    l.add(base);
    expect(l.admit({ ...base, version: 1, detected_at: 99 })).toBe(false);
    expect(l.admit({ ...base, version: 2, status: 'AUTO_RESOLVED' })).toBe(true);
    expect(l.admit({ ...base, anomaly_id: 'new' })).toBe(true);
    expect(signature(base)).toBe(signature({ ...base, version: 9, detected_at: 1 }));
  });

  it('a re-decided debit anomaly keeps the evidence the stored version lists (a rebuild re-reads only from the offsets)', () => {
    const ev = (id: string, t: number) => ({ event_id: id, event_type: 'REVERSAL_APPLIED', event_time: t });
    const l = new Ledger();
    l.add({ ...base, kind: 'DUPLICATE_DEBIT', cause: null, evidence: { terminal: [], gateway: [], bank: [ev('d1', 900), ev('r1', 950), ev('d2', 1000)] } });
    const rebuilt: Anomaly = { ...base, kind: 'DUPLICATE_DEBIT', cause: null, version: 1, evidence: { terminal: [], gateway: [], bank: [ev('d1', 900), ev('d2', 1000), ev('r2', 1100)] } };
    expect(l.withStoredEvidence(rebuilt).evidence.bank.map((e) => e.event_id)).toEqual(['d1', 'r1', 'd2', 'r2']);
    expect(l.withStoredEvidence({ ...rebuilt, anomaly_id: 'unknown' })).toEqual({ ...rebuilt, anomaly_id: 'unknown' });
  });

  it('writes a re-decision with the same decision but evidence the stored version lacks (the crashed run died before writing it)', () => {
    const ev = (id: string, t: number) => ({ event_id: id, event_type: 'REVERSAL_FORWARDED', event_time: t });
    const stored: Anomaly = { ...base, status: 'AUTO_RESOLVED', cause: 'REVERSAL_NOT_APPLIED', evidence: { terminal: [], gateway: [ev('g1', 900)], bank: [] } };
    const fuller: Anomaly = { ...stored, version: 1, evidence: { terminal: [], gateway: [ev('g1', 900), ev('g2', 1800)], bank: [] } };
    const l = new Ledger();
    l.add(stored);
    expect(signature(fuller)).toBe(signature(stored));
    expect(l.admit(fuller)).toBe(true);
    // Nothing new (the same or fewer events, e.g. a re-read that starts after g1): skipped.
    const same = new Ledger();
    same.add(stored);
    expect(same.admit({ ...stored, version: 1, evidence: { terminal: [], gateway: [], bank: [] } })).toBe(false);
  });

  it('keeps a stored pattern anomaly against a later trigger, takes an earlier one', () => {
    const l = new Ledger();
    const p: Anomaly = { ...base, anomaly_id: 'p1', kind: 'CARD_VELOCITY', cause: null, event_time: 5000 };
    l.add(p);
    expect(l.admit({ ...p, event_time: 6000, rrn: 'R9' })).toBe(false);
    expect(l.admit({ ...p, version: 1 })).toBe(false);
    expect(l.admit({ ...p, event_time: 4000, rrn: 'R0' })).toBe(true);
  });

  it('retracts a stored debit anomaly its partition passed without re-deciding it, once', () => {
    const l = new Ledger();
    l.add(base);
    l.add({ ...base, anomaly_id: 'a2', rrn: 'R2' });
    l.noteBank(3, 'R1');
    l.noteBank(1, 'R2');
    expect(l.admit({ ...base, anomaly_id: 'a2', rrn: 'R2', version: 1 })).toBe(false); // re-decided: confirmed
    expect(l.retractionsDue(3, 1000 + 299_999, 300_000)).toEqual([]); // not yet at its decision time
    expect(l.retractionsDue(3, Infinity, 300_000, 1001)).toEqual([]); // below the floor: final before the rebuild
    expect(l.retractionsDue(1, Infinity, 300_000)).toEqual([]); // a2 confirmed, a1 is partition 3's
    const r = l.retractionsDue(3, 1000 + 300_000, 300_000);
    expect(r.map((a) => [a.anomaly_id, a.status])).toEqual([['a1', 'RETRACTED']]);
    expect(l.retractionsDue(3, Infinity, 0)).toEqual([]);
  });

  it('after a restore, learns what the crashed run stored after the checkpoint: a stale decision the restored run does not re-emit is retracted', () => {
    // The checkpoint's ledger knew a1 at version 3 (decided before the checkpoint, still held: pinned).
    const restored = Ledger.fromState([{ row: base, touched: true, partition: 0 }]);
    const stored = new Ledger();
    stored.add({ ...base, version: 5, status: 'AUTO_RESOLVED' }); // a1 moved on after the checkpoint
    stored.add({ ...base, anomaly_id: 'a2', rrn: 'R2', version: 1 }); // a2 first decided after the checkpoint, its attempt held on p2
    stored.add({ ...base, anomaly_id: 'a3', rrn: 'R3', version: 1 }); // a3: no restored engine holds R3 (final)
    stored.add({ ...base, version: 2 }); // older than what the checkpoint knew: ignored
    const n = restored.absorbAfterRestore(stored, (id) => id === 'a1', (rrn) => (rrn === 'R2' ? 2 : null));
    expect(n).toBe(3);
    // a1 stays with the engines that hold it: their next emission is written, whatever it says.
    expect(restored.admit({ ...base, version: 4, status: 'AUTO_RESOLVED' })).toBe(true);
    expect(restored.retractionsDue(2, 999, 0)).toEqual([]); // a2 not yet at its decision time (event_time 1000)
    expect(restored.retractionsDue(0, Infinity, 0)).toEqual([]); // nothing of p0's
    const r = restored.retractionsDue(2, Infinity, 0);
    expect(r.map((a) => [a.anomaly_id, a.status])).toEqual([['a2', 'RETRACTED']]);
    // a3 was re-emitted identically: not written again; never retracted (no holder).
    expect(restored.admit({ ...base, anomaly_id: 'a3', rrn: 'R3', version: 1 })).toBe(false);
  });
});
