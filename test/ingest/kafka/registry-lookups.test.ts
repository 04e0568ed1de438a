/**
 * The registry's start-up probe and per-id lookups (src/ingest/kafka/registry.ts,
 * registry-probe.ts) against a small HTTP server speaking the Confluent API,
 * whose answers the test changes: "unknown id" (a 404 from a registry that
 * answers) is a dead letter; a registry that is missing, failing or refusing
 * the credentials is an outage (retriable, never cached as poison).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PosguardError } from '../../../src/errors.js';
import { schemaText } from '../../../src/ingest/kafka/avro.js';
import { Registry } from '../../../src/ingest/kafka/registry.js';

type Mode = 'ok' | 'wrong_path' | 'down_5xx' | 'auth';
let mode: Mode = 'ok';
const hits: string[] = [];
let server: Server;
let base = '';

function answer(req: IncomingMessage, res: ServerResponse): void {
  hits.push(`${mode} ${req.url}`);
  const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (mode === 'auth') return json(401, { error_code: 40101, message: 'Unauthorized' });
  if (mode === 'down_5xx') return json(503, { error_code: 50301, message: 'Service unavailable' });
  // A wrong path: a bare 404 with no body, as the local Apicurio answers outside its API.
  if (mode === 'wrong_path' || !req.url?.startsWith('/api/')) return void res.writeHead(404).end();
  if (req.url === '/api/subjects') return json(200, ['pos.bank-value']);
  if (req.url === '/api/schemas/ids/1') return json(200, { schema: schemaText('bank') });
  return json(404, { error_code: 40403, message: `Schema ${req.url.split('/').pop()} not found.` });
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function failure(p: Promise<unknown>): Promise<PosguardError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(PosguardError);
  return e as PosguardError;
}

describe('start-up probe', () => {
  it('passes against a registry', async () => {
    mode = 'ok';
    await expect(new Registry({ url: `${base}/api` }).probe()).resolves.toBeUndefined();
  });

  it('a wrong path: PG_REGISTRY_URL, one line naming the URL and the flag', async () => {
    mode = 'ok';
    const e = await failure(new Registry({ url: `${base}/wrong` }).probe());
    expect(e.code).toBe('PG_REGISTRY_URL');
    expect(e.message).not.toContain('\n');
    expect(e.message).toMatch(new RegExp(`^${base}/wrong does not answer as a schema registry \\(GET /subjects: HTTP 404.*\\): check --registry / SCHEMA_REGISTRY_URL`));
  });

  it('wrong credentials: PG_REGISTRY_AUTH, the password never shown', async () => {
    mode = 'auth';
    const e = await failure(new Registry({ url: `${base}/api`, username: 'u', password: 'secret-pw-123' }).probe());
    expect(e.code).toBe('PG_REGISTRY_AUTH');
    expect(e.message).toMatch(/refused the credentials \(HTTP 401/);
    expect(e.message).not.toContain('secret-pw-123');
  });

  it('nothing listening: PG_REGISTRY_URL, "cannot reach"', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const e = await failure(new Registry({ url: `http://127.0.0.1:${port}/api` }).probe());
    expect(e.code).toBe('PG_REGISTRY_URL');
    expect(e.message).toMatch(/^cannot reach the schema registry at http:\/\/127\.0\.0\.1:\d+\/api \(.*ECONNREFUSED/);
  });
});

describe('per-id lookups', () => {
  it('a 404 for one id from a registry that answers: unknown id, a dead letter (cached)', async () => {
    mode = 'ok';
    const r = new Registry({ url: `${base}/api` });
    expect(await r.resolve('bank', 1)).toMatchObject({ ok: true });
    const unknown = await r.resolve('bank', 99);
    expect(unknown).toEqual({ ok: false, reason: 'unknown schema id 99 (the registry has no such schema)' });
    expect(r.cached('bank', 99)).toEqual(unknown);
  });

  it.each<[Mode, RegExp]>([
    ['wrong_path', /answered 404 for schema id 5 and does not answer as a registry/],
    ['down_5xx', /cannot fetch schema id 5 from .*Service unavailable/],
    ['auth', /cannot fetch schema id 5 from .*Unauthorized/],
  ])('%s: retriable PG_REGISTRY, not cached, and the id resolves once the registry is back', async (m, message) => {
    mode = m;
    const r = new Registry({ url: `${base}/api` });
    const e = await failure(r.resolve('bank', 5));
    expect(e.code).toBe('PG_REGISTRY');
    expect(e.retriable).toBe(true);
    expect(e.message).toMatch(message);
    expect(r.cached('bank', 5)).toBeUndefined();
    mode = 'ok';
    // Id 5 is unknown to the healthy registry: now, and only now, a dead letter.
    expect(await r.resolve('bank', 5)).toMatchObject({ ok: false, reason: expect.stringMatching(/unknown schema id 5/) });
  }, 20_000);
});
