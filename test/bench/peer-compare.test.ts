/** bench/peer-compare.ts: posguard's summary read back, and the posguard ÷ peer rows. */
import { describe, expect, it } from 'vitest';
import { comparisonRows, parseRunSummary, ratios, type PosguardPass } from '../../bench/peer-compare.js';
import type { PeerPass, PeerRun } from '../../bench/peer.js';
import type { EngineCounters } from '../../src/engine/engine.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { RunSummary } from '../../src/runtime/summary.js';

/** The end-of-run summary as `posguard run` renders it (the real renderer, the extra lines as run.ts adds them). */
function renderedSummary(): string {
  const s = new RunSummary();
  const orphan = (id: string, cause: string, status = 'OPEN') =>
    ({ anomaly_id: id, version: 1, kind: 'ORPHAN_DEBIT', cause, status, amount_minor: 1000, currency: 'EUR', issuer_id: '1', suppressed_by: null }) as unknown as Anomaly;
  for (const a of [orphan('a', 'NO_GATEWAY_RECORD'), orphan('b', 'ISSUER_TIMEOUT'), orphan('c', 'ISSUER_TIMEOUT'), orphan('d', 'ISSUER_TIMEOUT', 'RETRACTED')]) s.anomaly(a);
  s.anomaly({ anomaly_id: 'e', version: 1, kind: 'DUPLICATE_DEBIT', cause: null, status: 'OPEN', amount_minor: 5, currency: 'EUR', issuer_id: '1', suppressed_by: null } as unknown as Anomaly);
  const zero = { terminal: 0, gateway: 0, bank: 0 };
  const counters = { events: { terminal: 500, gateway: 400, bank: 300 }, duplicates: zero, late: zero } as unknown as EngineCounters;
  return s.render(counters, { 'ended by': 'end of input (--until-end)', 'records read': '1353299 in 55.3 s (24472/s)', 'dead-lettered': '0 (none), 0 sent to x.dlq' });
}

describe('parseRunSummary', () => {
  it('reads the records, the in-run seconds and the orphaned debits summed over causes, retracted ones apart', () => {
    expect(parseRunSummary(`{"level":30,"msg":"started"}\n${renderedSummary()}`)).toEqual({ records: 1353299, inRunS: 55.3, orphanDebits: 3 });
  });

  it('counts 0 orphaned debits when the summary lists none', () => {
    const none = new RunSummary().render({ events: { terminal: 1, gateway: 0, bank: 0 }, duplicates: { terminal: 0, gateway: 0, bank: 0 }, late: { terminal: 0, gateway: 0, bank: 0 } } as unknown as EngineCounters, { 'records read': '1 in 0.1 s (10/s)' });
    expect(parseRunSummary(none)).toEqual({ records: 1, inRunS: 0.1, orphanDebits: 0 });
  });

  it('is null without a summary (the run failed)', () => {
    expect(parseRunSummary('posguard: PG_KAFKA: no broker\n')).toBeNull();
  });
});

const cpu = (wallS: number, userS: number, sysS: number) => ({ wallS, userS, sysS, maxRssKb: 1024 });
const pass = (o: Partial<PeerPass>): PeerPass => ({ pass: 2, jvm: 'warm', recordsIn: 1_000_000, wallS: 20, recordsPerS: 50_000, cpuS: 30, cpuUsPerRecord: 30, candidates: 10, dropped: 0, brokerCpuS: null, ...o });
const withRaw: PosguardPass = { skipRaw: false, records: 1_000_000, inRunS: 45, orphanDebits: 11, cpu: cpu(50, 70, 10) };
const skipRaw: PosguardPass = { skipRaw: true, records: 1_000_000, inRunS: 35, orphanDebits: 11, cpu: cpu(40, 45, 5) };

describe('ratios', () => {
  it('divides posguard by the peer: records/s (launch to exit) and CPU-µs/record (user + sys)', () => {
    // posguard: 1e6 / 50 s = 20,000/s against 50,000/s; (70 + 10) s / 1e6 = 80 µs against 30 µs.
    const r = ratios(withRaw, pass({}));
    expect(r.recordsPerS).toBeCloseTo(0.4, 10);
    expect(r.cpuUsPerRecord).toBeCloseTo(80 / 30, 10);
  });
});

describe('comparisonRows', () => {
  const peer: PeerRun = {
    summary: { records: 1_000_000, wallS: 20, recordsPerS: 50_000, cpuUsPerRecord: 30, pass: 2, jvm: 'warm' },
    passes: [pass({ pass: 1, jvm: 'cold', wallS: 40, recordsPerS: 25_000, cpuS: 60, cpuUsPerRecord: 60 }), pass({})],
    compared: pass({}),
    cold: pass({ pass: 1, jvm: 'cold', wallS: 40, recordsPerS: 25_000, cpuS: 60, cpuUsPerRecord: 60 }),
  };

  it("puts both posguard passes, the peer's cold and warm passes and one ratio row per posguard pass side by side", () => {
    const rows = comparisonRows([withRaw, skipRaw], peer);
    expect(rows.map((r) => r.value)).toEqual([
      '20,000/s, 80.0 CPU-µs/record',
      '25,000/s, 50.0 CPU-µs/record',
      '25,000/s, 60.0 CPU-µs/record',
      '50,000/s, 30.0 CPU-µs/record',
      '×0.40 records/s, ×2.67 CPU-µs/record',
      '×0.50 records/s, ×1.67 CPU-µs/record',
    ]);
    expect(rows[4].benchmark).toContain('events_raw');
    expect(rows[5].benchmark).toContain('--skip-raw-events');
    expect(rows[4].note).toContain('vs the cold pass: ×0.80, ×1.33');
  });

  it('says so when the two read different record counts', () => {
    const rows = comparisonRows([{ ...withRaw, records: 999_000 }], peer);
    expect(rows.at(-1)!.note).toMatch(/posguard read 999,000 records, the peer 1,000,000/);
  });
});
