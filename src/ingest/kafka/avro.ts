/**
 * Avro for the three input topics: the contract's schemas (schemas/*.avsc) as
 * avsc types, and the Confluent wire format (magic byte 0, 4-byte big-endian
 * schema id, Avro body).
 *
 * The types here are built with `omitRecordMethods`: avsc otherwise decodes
 * into instances whose prototype carries enumerable methods (clone, toBuffer,
 * ...), which the contract check would read as unknown fields. Logical types
 * are left as their underlying type, so event_time stays epoch milliseconds.
 */
import avro from 'avsc';
import { loadSchema } from '../../events/codegen.js';
import type { EventOf, Stream } from '../../events/index.js';

export const MAGIC_BYTE = 0;
/** magic byte + schema id */
export const WIRE_HEADER_BYTES = 5;

const READERS: Record<Stream, avro.Type> = {
  terminal: avro.Type.forSchema(loadSchema('terminal') as avro.Schema, { omitRecordMethods: true }),
  gateway: avro.Type.forSchema(loadSchema('gateway') as avro.Schema, { omitRecordMethods: true }),
  bank: avro.Type.forSchema(loadSchema('bank') as avro.Schema, { omitRecordMethods: true }),
};

/** The contract's schema of a stream, as avsc reads and writes it. */
export function readerType(stream: Stream): avro.Type {
  return READERS[stream];
}

/** The schema text registered under `<topic>-value`. */
export function schemaText(stream: Stream): string {
  return JSON.stringify(loadSchema(stream));
}

/** Plain Avro body of a validated event (every field present, nulls explicit). */
export function encodeAvro<S extends Stream>(stream: S, event: EventOf[S]): Buffer {
  return READERS[stream].toBuffer(event);
}

/** Confluent wire format: 0x00, schema id (uint32 BE), Avro body. */
export function encodeWire(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(WIRE_HEADER_BYTES + body.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, WIRE_HEADER_BYTES);
  return out;
}

export type WireHeader = { ok: true; schemaId: number } | { ok: false; reason: string };

export function readWireHeader(buf: Buffer): WireHeader {
  if (buf.length === 0) return { ok: false, reason: 'empty value' };
  if (buf[0] !== MAGIC_BYTE) {
    return { ok: false, reason: `bad magic byte 0x${buf[0].toString(16).padStart(2, '0')} (Confluent wire format starts with 0x00)` };
  }
  if (buf.length < WIRE_HEADER_BYTES) return { ok: false, reason: `truncated value: ${buf.length} bytes, shorter than the 5-byte wire header` };
  return { ok: true, schemaId: buf.readUInt32BE(1) };
}
