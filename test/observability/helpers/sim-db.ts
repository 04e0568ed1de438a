/**
 * A ClickHouse database filled the way production fills it: simulated traffic
 * (45 minutes, every scenario, an issuer outage, broken lines) through the real
 * pipeline into the real ClickHouseSink, embedded (chdb) in a temp folder.
 * One per test file: chdb holds one data directory per process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import { createPipeline } from '../../../src/runtime/pipeline.js';
import { parseLine } from '../../../src/ingest/jsonl.js';
import { simulate, SIM_DEFAULTS } from '../../../src/sim/index.js';
import { ClickHouseSink, clientBatchWriter, migrate, openClickHouse, type ClickHouseHandle } from '../../../src/sinks/clickhouse/index.js';

export const SIM_START = SIM_DEFAULTS.startMs;
export const SIM_MINUTES = 45;
export const SIM_END = SIM_START + SIM_MINUTES * 60_000;
export const OUTAGE_ISSUER = '100120';

export interface SimDb extends ClickHouseHandle {
  readonly dir: string;
  readonly events: number;
  /** Closes the sink and the client, keeping the folder (another process may open it then). */
  close(): Promise<void>;
  /** Closes, then removes the folder. */
  dispose(): Promise<void>;
}

export async function openSimDb(name: string): Promise<SimDb> {
  const dir = mkdtempSync(join(tmpdir(), `posguard-${name}-`));
  const handle = await openClickHouse({ kind: 'embedded', dataDir: join(dir, 'data') });
  await migrate(handle.client);
  const sink = new ClickHouseSink(clientBatchWriter(handle.client), { log: () => {} });
  const { engine } = createPipeline(() => DEFAULT_RULES, {
    anomaly: (a) => sink.anomaly(a),
    transaction: (t) => sink.transaction(t),
    late: (stream, event) => sink.lateEvent({ stream, event, ref: { source: 'simulator' } }),
  });
  const sim = simulate({
    seed: 5, minutes: SIM_MINUTES, tps: 4, startMs: SIM_START,
    issuerOutage: { issuerId: OUTAGE_ISSUER, fromMs: SIM_START + 15 * 60_000, toMs: SIM_START + 22 * 60_000, rate: 0.1 },
  });
  let n = 0;
  let events = 0;
  for (const r of sim.records) {
    const p = parseLine(r.stream, 'simulator', ++n, r.line);
    if (p.ok) {
      events++;
      sink.rawEvent({ stream: r.stream, event: p.event, ref: { source: 'simulator', line: n } });
      engine.push(r.stream, p.event);
    } else {
      sink.deadLetter({ source: 'simulator', stream: r.stream, line: n, partition: null, offset: null, reason: p.bad.reason, payload: p.bad.payload, received_at: SIM_END });
    }
    if ((n & 4095) === 0 && sink.backlog() > 50_000) await sink.drain();
  }
  engine.end();
  await sink.flush();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await sink.close();
    await handle.close();
  };
  return {
    ...handle,
    dir,
    events,
    close,
    async dispose() {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
