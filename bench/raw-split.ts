/**
 * Where the CPU of an events_raw row goes, per row: (a) the sink's JS work
 * (card-data check, encoding, joining the batch and hashing its dedup token)
 * and (b) the insert of the same body into the embedded engine (chdb) through
 * clientBatchWriter, 10,000-row batches, the sink's settings. CPU is
 * process.cpuUsage (every thread: chdb parses and merges inside this process).
 * The JS part is timed before the engine is opened, so that the engine's
 * background threads are not counted in it; the insert is timed into a Null
 * table of the same columns (the engine's parsing alone) and into events_raw
 * (parsing, storing, and the merges that follow, waited for). One method per
 * process: run them one after the other on the same rows.
 *
 * Tried and left out (one run each, shared host, 100,000 rows): TabSeparated
 * rows (payload unescaped unless it holds a backslash) parse 0.5-1.5 µs a
 * row cheaper but cost 1.5-2.5 µs more to build in JS, no gain in all.
 * RowBinary cannot pass: chdb/connection turns the insert body into a UTF-8
 * string. The engine's cost is mostly per byte of body (about 6 ns/byte
 * whatever the format, the payload is 3/4 of the bytes) and per row stored.
 *
 *   node --import tsx bench/raw-split.ts [--rows 60000] [--method json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { cardDataProblem } from '../src/sinks/clickhouse/card-data.js';
import { openClickHouse } from '../src/sinks/clickhouse/connection.js';
import { migrate } from '../src/sinks/clickhouse/migrate.js';
import { RAW_EVENT_COLUMNS, encodeRawEvent } from '../src/sinks/clickhouse/tables.js';
import { clientBatchWriter } from '../src/sinks/clickhouse/writer.js';
import type { RawEventRecord } from '../src/sinks/types.js';
import { buildSinkInput } from '../test/sinks/fixtures.js';

const BATCH = 10_000;

/** An encoding of events_raw rows to compare; the sink's own is the first (insertStatement names the format). */
interface Method {
  readonly name: string;
  readonly encode: (r: RawEventRecord) => string;
}

const METHODS: Record<string, Method> = {
  json: { name: 'JSONCompactEachRow (encodeRawEvent)', encode: encodeRawEvent },
};

function rows(n: number, tag: string): RawEventRecord[] {
  const base = buildSinkInput({ days: 7, attemptsPerDay: 400, seed: 7 }).raw;
  const out: RawEventRecord[] = [];
  for (let k = 0; out.length < n; k++) {
    for (const r of base) {
      if (out.length >= n) break;
      out.push({ ...r, event: { ...r.event, event_id: `${r.event.event_id.slice(0, 28)}${tag}${String(k).padStart(6, '0')}` } });
    }
  }
  return out;
}

const cpuNow = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

interface JsCost { check: number; encode: number; token: number; bodies: { body: string; rows: number; token: string }[] }

/** The sink's JS work for every row, before the engine is opened (its background threads would be counted too). */
function jsPhase(m: Method, input: readonly RawEventRecord[]): JsCost {
  const out: JsCost = { check: 0, encode: 0, token: 0, bodies: [] };
  for (let b = 0; b * BATCH < input.length; b++) {
    const part = input.slice(b * BATCH, (b + 1) * BATCH);
    let c = cpuNow();
    // The fixtures hold a few events with card data: refused, as the sink does.
    const ok = part.filter((r) => cardDataProblem(r.event) === null);
    out.check += cpuNow() - c;
    c = cpuNow();
    const lines: string[] = [];
    for (const r of ok) lines.push(m.encode(r));
    out.encode += cpuNow() - c;
    c = cpuNow();
    const body = lines.join('\n');
    const token = `events_raw-${createHash('sha256').update('events_raw').update('\n').update(body).digest('hex').slice(0, 32)}`;
    out.token += cpuNow() - c;
    out.bodies.push({ body, rows: ok.length, token });
  }
  return out;
}

/** CPU of inserting the bodies into `table`, through the engine's merges settling afterwards. */
async function insertPhase(client: ClickHouseClient, table: string, m: Method, bodies: JsCost['bodies']): Promise<{ cpu: number; wall: number }> {
  const writer = clientBatchWriter(client);
  const c = cpuNow();
  const t0 = performance.now();
  for (const b of bodies) await writer.write({ table, columns: RAW_EVENT_COLUMNS, body: b.body, rows: b.rows, token: b.token });
  const wall = performance.now() - t0;
  for (;;) {
    const rs = await client.query({ query: 'SELECT count() AS n FROM system.merges', format: 'JSONEachRow' });
    const [{ n }] = await rs.json<{ n: string }>();
    if (Number(n) === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { cpu: cpuNow() - c, wall };
}

async function main(): Promise<void> {
  const arg = (k: string, d: string) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
  const n = Number(arg('--rows', '60000'));
  const m = METHODS[arg('--method', 'json')];
  const input = rows(n, 'm');
  jsPhase(m, input.slice(0, 20_000)); // warm-up: the encoder compiled, as in a long run
  const js = jsPhase(m, input);
  const dir = mkdtempSync(join(tmpdir(), 'posguard-bench-raw-'));
  const ch = await openClickHouse({ kind: 'embedded', dataDir: dir });
  try {
    await migrate(ch.client);
    // Parsing alone: a table of the same columns that stores nothing.
    await ch.client.command({ query: 'CREATE TABLE events_raw_null AS events_raw ENGINE = Null' });
    const parse = await insertPhase(ch.client, 'events_raw_null', m, js.bodies);
    const store = await insertPhase(ch.client, 'events_raw', m, js.bodies);
    const f = (us: number) => (us / n).toFixed(2).padStart(6);
    process.stdout.write(`${m.name}: ${n} rows, ${BATCH}-row batches, CPU-µs per row (process.cpuUsage, every thread)\n`);
    process.stdout.write(`  JS: check ${f(js.check)}  encode ${f(js.encode)}  join+token ${f(js.token)}  = ${f(js.check + js.encode + js.token)}\n`);
    process.stdout.write(`  chdb: insert into Null engine (parse) ${f(parse.cpu)}   into events_raw (parse+store+merges) ${f(store.cpu)}  wall ${f(store.wall * 1000)}\n`);
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
