/**
 * The input contract (../shared/spec/events.md) as code: the Avro schemas in
 * schemas/ check names and types (through avsc, so JSON replay and Avro input
 * obey one definition), and the rules Avro cannot express (lengths, formats,
 * fields required by event type, no clear card numbers) are checked here.
 * A record that fails gets one reason naming the field; it never throws.
 */
import avro from 'avsc';
import { loadSchema } from '../events/codegen.js';
import type { EventOf, Stream } from '../events/index.js';
import { maskPans, numberLooksLikePan, panField } from '../util/pan.js';

export type Validation<S extends Stream> = { ok: true; event: EventOf[S] } | { ok: false; reason: string };

const TYPES = {
  terminal: avro.Type.forSchema(loadSchema('terminal') as avro.Schema),
  gateway: avro.Type.forSchema(loadSchema('gateway') as avro.Schema),
  bank: avro.Type.forSchema(loadSchema('bank') as avro.Schema),
} as const;

/**
 * How a field's non-null value is checked, the same test avsc applies to that
 * Avro type (lib/types.js `_check`): string, int (`v === (v | 0)`), long
 * (integer within ±9007199254740990), double (any number), enum (a symbol).
 */
type Kind = 'string' | 'int' | 'long' | 'double' | 'enum' | 'other';

interface FieldCheck {
  readonly name: string;
  readonly nullable: boolean;
  readonly enumSymbols?: string[];
  readonly enumSet?: ReadonlySet<string>;
  readonly string: boolean;
  readonly kind: Kind;
}

/** Field names, which may be null and how each is checked, per stream, read from the schemas. */
const FIELDS: Record<Stream, readonly FieldCheck[]> = {
  terminal: fieldsOf('terminal'),
  gateway: fieldsOf('gateway'),
  bank: fieldsOf('bank'),
};

function fieldsOf(stream: Stream): FieldCheck[] {
  return loadSchema(stream).fields.map((f) => {
    const t = f.type as unknown;
    const nullable = Array.isArray(t) && t.includes('null');
    const inner = Array.isArray(t) ? t.find((x) => x !== 'null') : t;
    const enumSymbols = inner && typeof inner === 'object' && (inner as { type: string }).type === 'enum' ? (inner as { symbols: string[] }).symbols : undefined;
    const base = inner && typeof inner === 'object' ? (inner as { type: string }).type : inner;
    const kind: Kind = base === 'string' || base === 'int' || base === 'long' || base === 'double' || base === 'enum' ? base : 'other';
    return { name: f.name, nullable, enumSymbols, enumSet: enumSymbols === undefined ? undefined : new Set(enumSymbols), string: inner === 'string', kind };
  });
}

/** The string fields of each stream: where the PAN guard looks (enums and numbers cannot hold free text). */
const STRING_FIELDS: Record<Stream, readonly string[]> = {
  terminal: FIELDS.terminal.filter((f) => f.string).map((f) => f.name),
  gateway: FIELDS.gateway.filter((f) => f.string).map((f) => f.name),
  bank: FIELDS.bank.filter((f) => f.string).map((f) => f.name),
};

export function avroType(stream: Stream): avro.Type {
  return TYPES[stream];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STAN = /^\d{6}$/;
const CURRENCY = /^[A-Z]{3}$/;
const MASKED_PAN = /^\d{6}[*X]{3,9}\d{4}$/;

const NEEDS_TXN_FIELDS = ['txn_type', 'amount_minor', 'currency', 'card_token'] as const;

/** A value for a reason: card numbers masked before it is cut to 40 characters. */
function describeValue(v: unknown): string {
  // An integer beyond 2^53 was rounded by JSON.parse: its digits say nothing and may be most of a PAN.
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return `a number of ${BigInt(v).toString().replace('-', '').length} digits`;
  const s = maskPans(JSON.stringify(v) ?? String(v));
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/** Reasons reach logs and dead letters: a PAN in a field name or an error text is masked too. */
function refused(reason: string): { ok: false; reason: string } {
  return { ok: false, reason: maskPans(reason) };
}

/**
 * Checks one decoded JSON value against the contract of `stream`. Missing
 * nullable fields become null; the returned event is a fresh object with
 * exactly the schema's fields (unknown fields are a contract violation).
 */
export function validateEvent<S extends Stream>(stream: S, value: unknown): Validation<S> {
  const typed = typedEvent(FIELDS[stream], value);
  if (typed !== null) {
    const reason = contractReason(stream, typed);
    return reason === undefined ? { ok: true, event: typed as unknown as EventOf[S] } : refused(reason);
  }
  return validateSlowly(stream, value);
}

/**
 * The one walk over a parsed line for a well-typed record: every field of the
 * schema read once, its type checked as avsc would, copied into the fresh
 * event; unknown fields caught by counting keys. Returns null at the first
 * thing it does not accept (a missing field, a wrong type, an unknown key,
 * a type it has no quick test for): validateSlowly then decides, and words
 * the reason, exactly as before. It accepts nothing validateSlowly refuses
 * (test/ingest/validate-fast.test.ts checks both on the same inputs).
 */
function typedEvent(fields: readonly FieldCheck[], value: unknown): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  let present = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const v = src[f.name];
    if (v === undefined || v === null) {
      if (!f.nullable) return null;
      if (v === null) present++;
      out[f.name] = null;
      continue;
    }
    present++;
    switch (f.kind) {
      case 'string': if (typeof v !== 'string') return null; break;
      case 'enum': if (typeof v !== 'string' || !f.enumSet!.has(v)) return null; break;
      case 'int': if (v !== ((v as number) | 0)) return null; break;
      case 'long': if (typeof v !== 'number' || !Number.isInteger(v) || v > 9007199254740990 || v < -9007199254740990) return null; break;
      case 'double': if (typeof v !== 'number') return null; break;
      default: return null;
    }
    out[f.name] = v;
  }
  let keys = 0;
  for (const k in src) if (Object.hasOwn(src, k)) keys++;
  return keys === present ? out : null;
}

/** The full check, field by field then through avsc: for records typedEvent did not accept, with the reason. */
export function validateSlowly<S extends Stream>(stream: S, value: unknown): Validation<S> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return refused(`expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of FIELDS[stream]) {
    const v = src[f.name];
    if (v === undefined || v === null) {
      if (!f.nullable) return refused(`field ${f.name}: missing`);
      out[f.name] = null;
    } else {
      if (f.enumSymbols && !f.enumSymbols.includes(v as string)) {
        return refused(`field ${f.name}: unknown value ${describeValue(v)} (expected one of ${f.enumSymbols.join(', ')})`);
      }
      out[f.name] = v;
    }
  }
  for (const k in src) {
    if (!(k in out)) return refused(`field ${k}: not in the ${stream} contract`);
  }
  let bad: string | undefined;
  TYPES[stream].isValid(out, {
    errorHook(path, v, type) {
      if (bad === undefined) bad = `field ${path.join('.')}: expected ${typeName(type)}, got ${describeValue(v)}`;
    },
  });
  if (bad !== undefined) return refused(bad);
  const reason = contractReason(stream, out);
  if (reason !== undefined) return refused(reason);
  return { ok: true, event: out as unknown as EventOf[S] };
}

/**
 * The contract check for a value the Avro decoder built with the contract's
 * own schema (src/ingest/kafka/avro.ts): every field is there with its Avro
 * type and enum symbol by construction, so only the formats and the card-data
 * rules are left to check. About a quarter of validateEvent's time on the
 * Kafka path went to re-checking the types Avro had just guaranteed.
 */
export function validateAvroDecoded<S extends Stream>(stream: S, value: Record<string, unknown>): Validation<S> {
  const reason = contractReason(stream, value);
  return reason === undefined ? { ok: true, event: value as unknown as EventOf[S] } : refused(reason);
}

function typeName(t: avro.Type): string {
  const n = t.typeName;
  if (n === 'union:unwrapped' || n === 'union:wrapped') {
    return (t as unknown as { types: avro.Type[] }).types.map(typeName).join(' or ');
  }
  if (n === 'logical:timestamp-millis') return 'long (epoch ms)';
  return n;
}

function contractReason(stream: Stream, e: Record<string, unknown>): string | undefined {
  // First, so that no later reason quotes a card number: never let one into state, storage or logs.
  const pan = panField(e, STRING_FIELDS[stream]);
  if (pan !== null) return `field ${pan}: looks like a clear card number (PAN), refused`;
  if (typeof e.amount_minor === 'number' && numberLooksLikePan(e.amount_minor)) return 'field amount_minor: looks like a clear card number (PAN), refused';
  if (!UUID.test(e.event_id as string)) return `field event_id: expected a UUID, got ${describeValue(e.event_id)}`;
  if (!Number.isSafeInteger(e.event_time) || (e.event_time as number) <= 0) return `field event_time: expected positive epoch milliseconds, got ${describeValue(e.event_time)}`;
  if ((e.terminal_id as string).length !== 8) return `field terminal_id: expected 8 characters, got ${describeValue(e.terminal_id)}`;
  if ((e.merchant_id as string).length !== 15) return `field merchant_id: expected 15 characters, got ${describeValue(e.merchant_id)}`;
  if (!STAN.test(e.stan as string)) return `field stan: expected 6 digits, got ${describeValue(e.stan)}`;
  if (e.rrn !== undefined && (e.rrn as string).length !== 12) return `field rrn: expected 12 characters, got ${describeValue(e.rrn)}`;
  if (e.orig_rrn != null && (e.orig_rrn as string).length !== 12) return `field orig_rrn: expected 12 characters, got ${describeValue(e.orig_rrn)}`;
  if (e.currency != null && !CURRENCY.test(e.currency as string)) return `field currency: expected ISO 4217 alpha-3, got ${describeValue(e.currency)}`;
  if (e.amount_minor != null && (!Number.isSafeInteger(e.amount_minor) || (e.amount_minor as number) < 0)) return `field amount_minor: expected a non-negative integer, got ${describeValue(e.amount_minor)}`;
  if (e.card_token != null && (e.card_token as string).length === 0) return 'field card_token: empty';
  if (e.masked_pan != null && !MASKED_PAN.test(e.masked_pan as string)) return 'field masked_pan: expected first 6 and last 4 digits with the middle masked';
  const type = e.event_type as string;
  if (stream === 'terminal') {
    if (type === 'DEVICE_FAULT') {
      if (e.fault_component == null) return 'field fault_component: missing on DEVICE_FAULT';
    } else {
      for (const f of NEEDS_TXN_FIELDS) if (e[f] == null) return `field ${f}: missing on ${type}`;
    }
    if (type === 'REVERSAL_SENT' && (e.orig_stan == null || !STAN.test(e.orig_stan as string))) return 'field orig_stan: expected 6 digits on REVERSAL_SENT';
    if (e.lat != null && Math.abs(e.lat as number) > 90) return `field lat: out of range, got ${describeValue(e.lat)}`;
    if (e.lon != null && Math.abs(e.lon as number) > 180) return `field lon: out of range, got ${describeValue(e.lon)}`;
  } else if (stream === 'gateway') {
    if (type.startsWith('REVERSAL_') && e.orig_rrn == null) return `field orig_rrn: missing on ${type}`;
  } else {
    if ((type === 'REVERSAL_APPLIED' || type === 'REVERSAL_REJECTED' || type === 'REFUND_POSTED') && e.orig_rrn == null) return `field orig_rrn: missing on ${type}`;
  }
  return undefined;
}
