/**
 * Record values → contract-checked events. Three wire formats:
 *  - confluent: magic byte 0 + schema id + Avro, schemas from the registry;
 *  - avro: plain Avro bodies with the contract's schemas (registry-less);
 *  - json: one JSON object per value, the replay format (registry-less).
 * Whatever the format, the decoded value meets the same contract as a replay
 * line: JSON goes through validateEvent; Avro, decoded with the contract's own
 * schema (so its types already hold), through the same format and card-data
 * checks (validateAvroDecoded). Every source obeys one definition.
 *
 * A value that cannot become an event is a poison record, with a kind and a
 * reason naming what is wrong; decoding never throws for bad data. Only an
 * unreachable registry throws (PG_REGISTRY, retriable), from prepare().
 */
import type { AnyEvent, Stream } from '../../events/index.js';
import { maskPans, maskPansLoose, scrubPans } from '../../util/pan.js';
import { validateAvroDecoded, validateEvent } from '../validate.js';
import { WIRE_HEADER_BYTES, readWireHeader, readerType } from './avro.js';
import type { Registry } from './registry.js';

export const VALUE_FORMATS = ['confluent', 'avro', 'json'] as const;
export type ValueFormat = (typeof VALUE_FORMATS)[number];

/** Why a record is poison; also the `posguard.reason.kind` header of its dead letter. */
export type PoisonKind = 'empty' | 'bad_magic_byte' | 'unknown_schema' | 'undecodable' | 'contract'
  // Decoded, but cannot be placed (record-placement.ts).
  | 'event_time_in_future' | 'wrong_partition';

export type Decoded =
  | { readonly ok: true; readonly event: AnyEvent }
  | { readonly ok: false; readonly kind: PoisonKind; readonly reason: string; readonly value?: unknown };

export interface ValueDecoder {
  readonly format: ValueFormat;
  /** Fetches what decode() will need for these values (schema ids). May throw PG_REGISTRY (retriable). */
  prepare(stream: Stream, values: readonly (Buffer | null)[]): Promise<void>;
  decode(stream: Stream, value: Buffer | null): Decoded;
}

function contract(stream: Stream, value: unknown): Decoded {
  const v = validateEvent(stream, value);
  return v.ok ? { ok: true, event: v.event } : { ok: false, kind: 'contract', reason: v.reason, value };
}

/** An Avro value decoded with the contract's schema: its types are already the contract's. */
function avroContract(stream: Stream, value: unknown): Decoded {
  const v = validateAvroDecoded(stream, value as Record<string, unknown>);
  return v.ok ? { ok: true, event: v.event } : { ok: false, kind: 'contract', reason: v.reason, value };
}

function undecodable(e: unknown, what: string): Decoded {
  return { ok: false, kind: 'undecodable', reason: `${what}: ${maskPans((e instanceof Error ? e.message : String(e)).split('\n')[0]).slice(0, 200)}` };
}

export class ConfluentDecoder implements ValueDecoder {
  readonly format = 'confluent' as const;
  constructor(private readonly registry: Registry) {}

  async prepare(stream: Stream, values: readonly (Buffer | null)[]): Promise<void> {
    let last = -1;
    for (const v of values) {
      if (v === null || v.length < WIRE_HEADER_BYTES || v[0] !== 0) continue;
      const id = v.readUInt32BE(1);
      // Runs of one id are the norm: skip the map lookup for them.
      if (id === last) continue;
      last = id;
      if (this.registry.cached(stream, id) === undefined) await this.registry.resolve(stream, id);
    }
  }

  decode(stream: Stream, value: Buffer | null): Decoded {
    if (value === null || value.length === 0) return { ok: false, kind: 'empty', reason: 'empty value (null or zero bytes)' };
    const h = readWireHeader(value);
    if (!h.ok) return { ok: false, kind: value[0] === 0 ? 'undecodable' : 'bad_magic_byte', reason: h.reason };
    const r = this.registry.cached(stream, h.schemaId);
    // prepare() resolved every id of the batch; a miss here is a bug in the caller.
    if (r === undefined) throw new Error(`schema id ${h.schemaId} was not prepared`);
    if (!r.ok) return { ok: false, kind: 'unknown_schema', reason: r.reason };
    let v: unknown;
    try {
      const body = value.subarray(WIRE_HEADER_BYTES);
      v = r.resolver === null ? readerType(stream).fromBuffer(body) : readerType(stream).fromBuffer(body, r.resolver);
    } catch (e) {
      return undecodable(e, `Avro body does not decode with schema id ${h.schemaId}`);
    }
    return avroContract(stream, v);
  }
}

export class AvroDecoder implements ValueDecoder {
  readonly format = 'avro' as const;
  async prepare(): Promise<void> {}

  decode(stream: Stream, value: Buffer | null): Decoded {
    if (value === null || value.length === 0) return { ok: false, kind: 'empty', reason: 'empty value (null or zero bytes)' };
    let v: unknown;
    try {
      v = readerType(stream).fromBuffer(value);
    } catch (e) {
      return undecodable(e, `not a plain Avro ${stream} event`);
    }
    return avroContract(stream, v);
  }
}

export class JsonDecoder implements ValueDecoder {
  readonly format = 'json' as const;
  async prepare(): Promise<void> {}

  decode(stream: Stream, value: Buffer | null): Decoded {
    if (value === null || value.length === 0) return { ok: false, kind: 'empty', reason: 'empty value (null or zero bytes)' };
    let v: unknown;
    try {
      v = JSON.parse(value.toString('utf8'));
    } catch (e) {
      return undecodable(e, 'not valid JSON');
    }
    return contract(stream, v);
  }
}

/**
 * A poison value as text for the dead_letters table and logs: the decoded
 * value when there is one, else the bytes (UTF-8 when they are text, base64
 * otherwise). Card numbers are masked, in the base64 form too (masked in the
 * bytes before encoding: base64 is an encoding, not a mask).
 */
export function poisonPayload(value: Buffer | null, decoded: unknown): string {
  if (decoded !== undefined) return scrubPans(jsonText(decoded));
  if (value === null) return '';
  const text = value.toString('utf8');
  // eslint-disable-next-line no-control-regex
  const printable = !text.includes('\uFFFD') && !/[\u0000-\u0008\u000E-\u001F]/.test(text);
  // Undecodable: the loose rule, as dlqValue decides by it.
  return printable ? maskPansLoose(text) : `base64:${Buffer.from(maskPansLoose(value.toString('latin1')), 'latin1').toString('base64')}`;
}

function jsonText(decoded: unknown): string {
  return JSON.stringify(decoded, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}

/**
 * The bytes to forward to the dead-letter topic: the original value unless it
 * carries something that looks like a clear card number, in which case a
 * masked text version (and `scrubbed` says so in a header). A decoded value is
 * checked field by field; undecodable bytes by the loose rule (an Avro length
 * prefix can be a digit and glue onto the number).
 */
export function dlqValue(value: Buffer | null, decoded: unknown): { value: Buffer | null; scrubbed: boolean } {
  if (value === null) return { value: null, scrubbed: false };
  const latin = value.toString('latin1');
  const clean = decoded === undefined
    ? maskPansLoose(latin) === latin
    : scrubPans(latin) === latin && scrubPans(jsonText(decoded)) === jsonText(decoded);
  if (clean) return { value, scrubbed: false };
  return { value: Buffer.from(poisonPayload(value, decoded), 'utf8'), scrubbed: true };
}
