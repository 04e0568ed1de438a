#!/usr/bin/env node
// Smoke test of the project's schema registry client (@kafkajs/confluent-schema-registry)
// against the local Apicurio Registry's Confluent-compatible API (/apis/ccompat/v7):
// register an Avro schema under subject `test-value` (twice: same id), encode a record,
// decode it, fetch the schema by id with a fresh client (no cache), look up the latest
// id, register a backward-compatible v2 and decode v1 data with it, then delete the subject.
//
// Usage: node deploy/local/smoke-registry.mjs [--url http://127.0.0.1:8081/apis/ccompat/v7]
//                                             [--subject test-value] [--keep]
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { createRequire } from 'node:module';
import { deepStrictEqual, strictEqual, notStrictEqual, ok } from 'node:assert/strict';

const require = createRequire(import.meta.url);
const clientVersion = require('@kafkajs/confluent-schema-registry/package.json').version;

const args = {
  url: `http://127.0.0.1:${process.env.REGISTRY_PORT || 8081}/apis/ccompat/v7`,
  subject: 'test-value',
  keep: false,
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--url') args.url = process.argv[++i];
  else if (a === '--subject') args.subject = process.argv[++i];
  else if (a === '--keep') args.keep = true;
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}

const t0 = Date.now();
// avsc decodes records into instances of a generated class; compare plain fields.
const plain = (o) => ({ ...o });
const say = (m) => console.log(`[smoke-registry +${((Date.now() - t0) / 1000).toFixed(2)}s] ${m}`);

const schemaV1 = {
  type: 'record',
  name: 'CardDebit',
  namespace: 'posguard.smoke',
  fields: [
    { name: 'txId', type: 'string' },
    { name: 'terminalId', type: 'string' },
    { name: 'amountMinor', type: 'long' },
    { name: 'currency', type: 'string' },
    { name: 'tsMillis', type: 'long' },
  ],
};
const schemaV2 = {
  ...schemaV1,
  fields: [...schemaV1.fields, { name: 'mcc', type: ['null', 'string'], default: null }],
};
const record = {
  txId: 'tx-0001',
  terminalId: 'T-42',
  amountMinor: 1999,
  currency: 'EUR',
  tsMillis: Date.parse('2026-01-02T03:04:05.678Z'),
};

async function http(method, path) {
  const res = await fetch(`${args.url}${path}`, { method, headers: { Accept: 'application/json' } });
  const body = await res.text();
  return { status: res.status, body };
}

async function main() {
  say(`@kafkajs/confluent-schema-registry ${clientVersion} -> ${args.url}, subject '${args.subject}'`);
  const registry = new SchemaRegistry({ host: args.url, clientId: 'posguard-smoke' });

  // Start from a clean subject (a previous failed run may have left one behind).
  const pre = await http('DELETE', `/subjects/${encodeURIComponent(args.subject)}`);
  if (pre.status === 200) {
    await http('DELETE', `/subjects/${encodeURIComponent(args.subject)}?permanent=true`);
    say(`removed a leftover subject '${args.subject}'`);
  }

  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(schemaV1) },
    { subject: args.subject },
  );
  ok(Number.isInteger(id) && id >= 0, `bad id ${id}`);
  say(`registered v1 under '${args.subject}' -> id ${id}`);

  const again = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(schemaV1) },
    { subject: args.subject },
  );
  strictEqual(again.id, id, 're-registering the same schema must return the same id');
  say(`re-registered v1 -> same id ${again.id}`);

  const buf = await registry.encode(id, record);
  strictEqual(buf[0], 0, 'magic byte');
  strictEqual(buf.readInt32BE(1), id, 'schema id in the wire header');
  say(`encoded ${buf.length} bytes (magic 0, id ${buf.readInt32BE(1)})`);

  const decoded = await registry.decode(buf);
  deepStrictEqual(plain(decoded), record);
  say(`decoded: ${JSON.stringify(decoded)}`);

  // A client with an empty cache must fetch the schema by id (GET /schemas/ids/{id}).
  const fresh = new SchemaRegistry({ host: args.url, clientId: 'posguard-smoke-fresh' });
  const fetched = await fresh.getSchema(id);
  strictEqual(fetched.name, 'posguard.smoke.CardDebit');
  deepStrictEqual(plain(await fresh.decode(buf)), record);
  say(`fetched schema by id ${id} with a fresh client: ${fetched.name}; decode OK`);

  const latest = await fresh.getLatestSchemaId(args.subject);
  strictEqual(latest, id);
  const bySchema = await fresh.getRegistryIdBySchema(args.subject, { type: SchemaType.AVRO, schema: JSON.stringify(schemaV1) });
  strictEqual(bySchema, id);
  say(`latest id for '${args.subject}' = ${latest}; lookup by schema = ${bySchema}`);

  const { id: id2 } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(schemaV2) },
    { subject: args.subject },
  );
  notStrictEqual(id2, id, 'v2 must get a new id');
  strictEqual(await fresh.getLatestSchemaId(args.subject), id2);
  const evolved = await registry.decode(buf, { [SchemaType.AVRO]: { readerSchema: schemaV2 } });
  deepStrictEqual(plain(evolved), { ...record, mcc: null });
  const buf2 = await registry.encode(id2, { ...record, mcc: '5411' });
  deepStrictEqual(plain(await fresh.decode(buf2)), { ...record, mcc: '5411' });
  say(`registered v2 -> id ${id2}; v1 data read with v2 reader schema: mcc=${evolved.mcc}`);

  const versions = await http('GET', `/subjects/${encodeURIComponent(args.subject)}/versions`);
  say(`GET /subjects/${args.subject}/versions -> ${versions.status} ${versions.body}`);
  strictEqual(versions.status, 200);

  if (!args.keep) {
    const soft = await http('DELETE', `/subjects/${encodeURIComponent(args.subject)}`);
    const hard = await http('DELETE', `/subjects/${encodeURIComponent(args.subject)}?permanent=true`);
    say(`deleted subject: soft ${soft.status} ${soft.body}, permanent ${hard.status} ${hard.body}`);
    ok(soft.status === 200, `soft delete failed: ${soft.status} ${soft.body}`);
  }
}

try {
  await main();
  say('OK: register / encode / decode / fetch-by-id work');
  process.exit(0);
} catch (e) {
  console.error(`[smoke-registry] FAILED: ${e.name}: ${e.message}`);
  if (e.status) console.error(`  HTTP status ${e.status}`);
  if (e.stack) console.error(e.stack);
  process.exit(1);
}
