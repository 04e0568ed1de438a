/**
 * The demo job closes every resource it opened, once, in reverse order of
 * opening, when it fails (here: the sink's flush throws at the end of input),
 * and a SIGINT stops a running demo, which then drains, prints its summary and
 * exits 130. Uses the embedded ClickHouse (chdb): run alone.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoJob } from '../../src/runtime/demo.js';
import { openClickHouse } from '../../src/sinks/clickhouse/connection.js';
import type { ClickHouseSink } from '../../src/sinks/clickhouse/sink.js';
import type { Sink } from '../../src/sinks/types.js';
import { configureLogger } from '../../src/util/log.js';

afterEach(() => configureLogger());

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

/** Passes everything to the real sink, except that flush() fails. */
function failingFlush(real: ClickHouseSink): Sink {
  return {
    anomaly: (a) => real.anomaly(a), transaction: (t) => real.transaction(t), rawEvent: (r) => real.rawEvent(r), lateEvent: (r) => real.lateEvent(r),
    deadLetter: (d) => real.deadLetter(d), backlog: () => real.backlog(), drain: () => real.drain(), close: () => real.close(),
    flush: async () => {
      throw new Error('flush failed: disk full');
    },
  };
}

describe('demo job resources', () => {
  it('a sink whose flush throws: the error comes out, and every closer ran once, in reverse order of opening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-demo-close-'));
    const rulesFile = join(dir, 'rules.json');
    writeFileSync(rulesFile, '{}');
    const lines: string[] = [];
    configureLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
    const port = await freePort();
    const listeners = () => ['SIGHUP', 'SIGINT', 'SIGTERM'].map((s) => process.listenerCount(s));
    const before = listeners();

    await expect(demoJob({
      dataDir: join(dir, 'data'), rulesFile, seed: 2, minutes: 2, tps: 2, startMs: Date.UTC(2026, 2, 2, 8), wallMs: 0,
      metrics: { port, host: '127.0.0.1' }, wrapSink: failingFlush,
    })).rejects.toThrow('flush failed: disk full');

    const closed = lines.map((l) => JSON.parse(l) as { component?: string; msg: string }).filter((l) => l.component === 'runtime').map((l) => l.msg);
    expect(closed).toEqual(['closed clickhouse sink', 'closed metrics server', 'closed suppressor', 'closed clickhouse', 'closed SIGHUP rules watcher', 'closed signal handlers']);
    // What those closers were for is really gone: signal handlers, the metrics port, the data folder.
    expect(listeners()).toEqual(before);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    const h = await openClickHouse({ kind: 'embedded', dataDir: join(dir, 'data') });
    try {
      const [r] = await (await h.client.query({ query: 'SELECT count() AS n FROM events_raw', format: 'JSONEachRow' })).json<{ n: string }>();
      // The sink's own close() still wrote what it held: the failure was in the wrapper's flush only.
      expect(Number(r.n)).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  }, 120_000);

  it('SIGINT stops a paced demo: it drains, prints the summary with the reason and exits 130', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-demo-sigint-'));
    const BIN = new URL('../../bin/posguard.js', import.meta.url).pathname;
    const child = execFile(process.execPath, [BIN, 'demo', '--duration', '120s', '--minutes', '5', '--tps', '2', '--seed', '3', '--start', '2026-03-02T08:00:00Z', '--data', join(dir, 'data')], { env: { ...process.env, POSGUARD_LOG_FORMAT: 'json' } });
    let stderr = '';
    child.stderr!.on('data', (d: string) => {
      // The job logs this line just before the input starts flowing.
      if (!stderr.includes('simulated minutes') && (stderr + d).includes('simulated minutes')) setTimeout(() => child.kill('SIGINT'), 300);
      stderr += d;
    });
    const [code] = await once(child, 'exit') as [number];
    expect(stderr).toMatch(/"msg":"SIGINT: stopping the input, then draining and closing/);
    expect(stderr).toMatch(/posguard summary/);
    expect(stderr).toMatch(/stopped by\s+SIGINT \(attempts still open were not decided\)/);
    expect(code).toBe(130);
  }, 120_000);
});
