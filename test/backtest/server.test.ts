/**
 * Server mode without a server: a stand-in for ClickHouse's HTTP interface
 * answers the backtest's statements from simulated events and streams the
 * pages in small chunks (rows cut across chunks). Every statement the
 * backtest sends must be a SELECT, and the result must be the batch
 * reference's difference.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRules, DEFAULT_RULES } from '../../src/config/rules.js';
import { SERVER_PAGE_ROWS } from '../../src/backtest/events-source.js';
import { runBacktest } from '../../src/runtime/backtest-job.js';
import type { Stream } from '../../src/events/index.js';
import { serverClientOptions } from '../../src/sinks/clickhouse/connection.js';
import { resolveTarget, type ServerTarget } from '../../src/config/clickhouse-target.js';
import { backtestDiff, referenceDiffOf, simulatedEvents } from './helpers.js';

const SIM = { seed: 5, minutes: 12, tps: 2, startMs: Date.UTC(2026, 2, 2, 7, 0) };
const events = simulatedEvents(SIM);
const rows = (['terminal', 'gateway', 'bank'] as Stream[])
  .flatMap((stream) => (events[stream] as { event_time: number; event_id: string; terminal_id: string }[]).map((e) => ({ stream, e })))
  .sort((a, b) => a.e.event_time - b.e.event_time || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0) || (a.e.event_id < b.e.event_id ? -1 : 1));

let server: Server | null = null;
afterAll(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

/** Answers the four statements the backtest sends; records every one. */
function standIn(): Promise<{ port: number; statements: string[] }> {
  const statements: string[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const sql = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const p = new URL(req.url ?? '/', 'http://x').searchParams;
      statements.push(sql);
      const num = (k: string) => Number(p.get(`param_${k}`));
      const inRange = rows.filter((r) => r.e.event_time >= num('from') && r.e.event_time < num('to'));
      const known = /min\(event_time\)|intDiv\(|FROM events_raw\s+WHERE|system\.tables/.test(sql) && !/> \(fromUnix/.test(sql);
      res.writeHead(known ? 200 : 500, { 'Content-Type': 'text/plain' });
      if (/min\(event_time\)/.test(sql)) {
        res.end(JSON.stringify({ n: String(rows.length), lo: String(rows[0].e.event_time), hi: String(rows[rows.length - 1].e.event_time) }) + '\n');
      } else if (/intDiv\(/.test(sql)) {
        const counts = new Map<number, number>();
        for (const r of inRange) counts.set(Math.floor(r.e.event_time / num('b')), (counts.get(Math.floor(r.e.event_time / num('b'))) ?? 0) + 1);
        res.end([...counts].map(([bucket, n]) => JSON.stringify({ bucket: String(bucket), n: String(n) }) + '\n').join(''));
      } else if (/FROM events_raw\s+WHERE/.test(sql) && !/> \(fromUnix/.test(sql)) {
        const text = inRange.slice(0, num('limit')).map((r) => [r.stream, JSON.stringify(r.e), r.e.event_time, r.e.event_id, r.e.terminal_id].join('\t') + '\n').join('');
        // Odd-sized pieces: rows are cut across chunks, as a network delivers them.
        let at = 0;
        const next = () => {
          if (at >= text.length) return void res.end();
          res.write(text.slice(at, (at += 7_777)));
          setImmediate(next);
        };
        next();
      } else if (/system\.tables/.test(sql)) {
        res.end('{"n":"0"}\n');
      } else {
        res.end(`Code: 62. DB::Exception: the stand-in does not know this statement: ${sql}`);
      }
    });
  });
  return new Promise((ok) => server!.listen(0, '127.0.0.1', () => ok({ port: (server!.address() as AddressInfo).port, statements })));
}

describe('backtest against a ClickHouse server (HTTP)', () => {
  it('streams the pages, sends only SELECTs, and gives the reference difference', async () => {
    const { port, statements } = await standIn();
    const client = createClient(serverClientOptions(resolveTarget({ env: { CLICKHOUSE_URL: `http://127.0.0.1:${port}` } }) as ServerTarget));
    const candidate = buildRules({ debits: { reversalGraceMs: 60_000 } });
    try {
      const r = await runBacktest(client, { baseline: DEFAULT_RULES, candidate, pageRows: SERVER_PAGE_ROWS });
      expect(r.events).toBe(rows.length);
      const want = referenceDiffOf(events, DEFAULT_RULES, candidate, r.period.fromMs, r.period.toMs);
      expect(want.added.length).toBeGreaterThan(0);
      expect(backtestDiff(r)).toEqual(want);
    } finally {
      await client.close();
    }
    expect(statements.length).toBeGreaterThanOrEqual(4);
    for (const s of statements) expect(s.trimStart()).toMatch(/^SELECT /);
  }, 60_000);
});
