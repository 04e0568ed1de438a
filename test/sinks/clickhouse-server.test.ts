/**
 * Server mode without a server: a stand-in for ClickHouse's HTTP interface
 * records what the real @clickhouse/client sends (credentials, database,
 * the insert statement with its dedup token, the gzip body), and goes away
 * and comes back to show the sink holding rows through an outage.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { createClient } from '@clickhouse/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serverClientOptions } from '../../src/sinks/clickhouse/connection.js';
import { resolveTarget, type ServerTarget } from '../../src/config/clickhouse-target.js';
import { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import { clientBatchWriter } from '../../src/sinks/clickhouse/writer.js';
import type { DeadLetter } from '../../src/sinks/types.js';

interface Seen { query: string; params: URLSearchParams; auth: string | undefined; body: string }

let server: Server | null = null;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = null;
});

function fakeClickHouse(port = 0): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      const params = new URL(req.url ?? '/', 'http://x').searchParams;
      seen.push({ query: params.get('query') ?? '', params, auth: req.headers.authorization, body });
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-ClickHouse-Summary': '{"written_rows":"0"}' });
      res.end();
    });
  });
  return new Promise((ok) => server!.listen(port, '127.0.0.1', () => ok({ port: (server!.address() as AddressInfo).port, seen })));
}

const dl = (i: number): DeadLetter => ({ source: 'test', stream: null, line: i, partition: null, offset: null, reason: 'bad', payload: `{"n":${i}}`, received_at: 1_767_225_600_000 });

describe('ClickHouseSink against a ClickHouse server (HTTP)', () => {
  it('sends credentials, database, the insert with its dedup token and a compressed body', async () => {
    const { port, seen } = await fakeClickHouse();
    const t = resolveTarget({ env: { CLICKHOUSE_URL: `http://127.0.0.1:${port}`, CLICKHOUSE_USER: 'posguard_writer', CLICKHOUSE_PASSWORD: 'pw', CLICKHOUSE_DATABASE: 'risk' } }) as ServerTarget;
    const client = createClient(serverClientOptions(t));
    const sink = new ClickHouseSink(clientBatchWriter(client), { log: () => {} });
    for (let i = 0; i < 3; i++) sink.deadLetter(dl(i));
    await sink.close();
    await client.close();
    expect(seen).toHaveLength(1);
    const s = seen[0];
    expect(s.auth).toBe(`Basic ${Buffer.from('posguard_writer:pw').toString('base64')}`);
    expect(s.params.get('database')).toBe('risk');
    expect(s.query).toMatch(/^INSERT INTO dead_letters \(dead_letter_id, source, stream, source_partition, source_offset, source_line, reason, payload, received_at\) SETTINGS insert_deduplication_token = 'dead_letters-[0-9a-f]{32}', insert_deduplicate = 1, deduplicate_blocks_in_dependent_materialized_views = 1, /);
    expect(s.query).toMatch(/FORMAT JSONCompactEachRow$/);
    expect(s.body.split('\n').map((l) => JSON.parse(l)[5])).toEqual([0, 1, 2]);
  });

  it('holds the rows while the server is unreachable and writes them once it is back', async () => {
    const { port } = await fakeClickHouse();
    await new Promise((r) => server!.close(r));
    server = null;
    const t = resolveTarget({ env: { CLICKHOUSE_URL: `http://127.0.0.1:${port}` } }) as ServerTarget;
    const client = createClient(serverClientOptions(t));
    const sink = new ClickHouseSink(clientBatchWriter(client), { log: () => {}, batchRows: 2, highWaterRows: 4, initialRetryDelayMs: 5, maxRetryDelayMs: 20 });
    for (let i = 0; i < 4; i++) sink.deadLetter(dl(i));
    const drained = sink.drain();
    // Event-driven: wait for the first refused attempt, however loaded the machine (no fixed sleep).
    await vi.waitFor(() => expect(sink.stats().lastError).toMatch(/ECONNREFUSED/), { timeout: 30_000, interval: 10 });
    expect(sink.stats()).toMatchObject({ backlogRows: 4, rowsWritten: 0 });
    expect(sink.stats().failingSince).not.toBeNull();
    const { seen } = await fakeClickHouse(port);
    await drained;
    await sink.close();
    await client.close();
    expect(seen.flatMap((s) => s.body.split('\n')).map((l) => JSON.parse(l)[5])).toEqual([0, 1, 2, 3]);
    expect(sink.stats()).toMatchObject({ rowsWritten: 4, failingSince: null, backlogRows: 0 });
  });
});
