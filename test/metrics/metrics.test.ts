/**
 * The metrics say what the detector did: a simulated run (with an issuer
 * outage) through the real pipeline, scraped, compared with the engine's own
 * counters and with the anomalies it emitted.
 */
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { createPipeline, type Pipeline } from '../../src/runtime/pipeline.js';
import { RunSummary } from '../../src/runtime/summary.js';
import { STREAMS } from '../../src/events/index.js';
import { parseLine } from '../../src/ingest/jsonl.js';
import { createMetrics, DEAD_LETTER_REASONS, deadLetterReason, OpenOrphans, perStreamWatermarksForTest } from './helpers/imports.js';
import { simulate, SIM_DEFAULTS } from '../../src/sim/index.js';
import { parsePromText, sum, value, type PromSample } from './helpers/prom-text.js';
import { chargeUserCpu } from './helpers/cpu.js';

const START = SIM_DEFAULTS.startMs;
const NOW = START + 30 * 60_000;

interface Run {
  samples: PromSample[];
  pipeline: Pipeline;
  anomalies: Anomaly[];
  summary: RunSummary;
  debits: number;
  bad: number;
  badReasons: string[];
}

async function run(): Promise<Run> {
  const registry = new Registry();
  let pipeline: Pipeline | undefined;
  const metrics = createMetrics({
    registry,
    engine: () => pipeline?.engine,
    cardPatterns: () => pipeline?.cardPatterns,
    now: () => NOW,
    processDefaults: false,
  });
  const anomalies: Anomaly[] = [];
  const summary = new RunSummary();
  pipeline = createPipeline(() => DEFAULT_RULES, {
    anomaly: (a) => {
      anomalies.push(a);
      summary.anomaly(a);
      metrics.anomaly(a);
    },
  });
  const sim = simulate({
    seed: 3, minutes: 25, tps: 6, startMs: START,
    issuerOutage: { issuerId: '100120', fromMs: START + 5 * 60_000, toMs: START + 12 * 60_000, rate: 0.1 },
  });
  let n = 0;
  let debits = 0;
  let bad = 0;
  const badReasons: string[] = [];
  for (const r of sim.records) {
    const p = parseLine(r.stream, 'sim', ++n, r.line);
    if (!p.ok) {
      bad++;
      badReasons.push(p.bad.reason);
      metrics.decodeError(r.stream, p.bad.reason);
      continue;
    }
    const e = p.event;
    if (r.stream === 'bank' && e.event_type === 'AUTH_APPROVED' && (e.txn_type === 'SALE' || e.txn_type === 'PREAUTH')) debits++;
    metrics.event(r.stream, e);
    pipeline.engine.push(r.stream, e);
  }
  return { samples: parsePromText(await registry.metrics()), pipeline, anomalies, summary, debits, bad, badReasons };
}

let r: Run;
beforeAll(async () => {
  r = await run();
});

describe('engine metrics, read at scrape time', () => {
  it('events, duplicates and late events per stream equal the engine counters', () => {
    const c = r.pipeline.engine.counters;
    for (const stream of STREAMS) {
      expect(value(r.samples, 'posguard_events_consumed_total', { stream })).toBe(c.events[stream]);
      expect(value(r.samples, 'posguard_duplicate_events_total', { stream })).toBe(c.duplicates[stream]);
      expect(value(r.samples, 'posguard_late_events_total', { stream })).toBe(c.late[stream]);
      expect(value(r.samples, 'posguard_too_late_events_total', { stream })).toBe(c.tooLate[stream]);
    }
    expect(c.events.bank).toBeGreaterThan(1000);
    expect(value(r.samples, 'posguard_debit_decisions_total')).toBe(c.decisions);
    expect(value(r.samples, 'posguard_link_conflicts_total')).toBe(c.linkConflicts);
  });

  it('watermark lag is wall clock minus each stream\'s watermark, and the largest lag is the engine\'s', () => {
    const wm = perStreamWatermarksForTest(r.pipeline.engine)!;
    for (const stream of STREAMS) {
      expect(value(r.samples, 'posguard_watermark_timestamp_seconds', { stream })).toBeCloseTo(wm[stream] / 1000, 3);
      expect(value(r.samples, 'posguard_watermark_lag_seconds', { stream })).toBeCloseTo((NOW - wm[stream]) / 1000, 3);
    }
    const maxLag = Math.max(...STREAMS.map((stream) => value(r.samples, 'posguard_watermark_lag_seconds', { stream })!));
    expect(maxLag).toBeCloseTo((NOW - r.pipeline.engine.watermark) / 1000, 3);
  });

  it('state size: open attempts and active cards', () => {
    expect(value(r.samples, 'posguard_open_attempts')).toBe(r.pipeline.engine.openAttempts());
    expect(value(r.samples, 'posguard_active_cards')).toBe(r.pipeline.cardPatterns.activeCards());
    expect(r.pipeline.engine.openAttempts()).toBeGreaterThan(0);
  });
});

describe('anomaly metrics', () => {
  it('anomalies_total counts first versions by kind and cause', () => {
    const firsts = r.anomalies.filter((a) => a.version === 1);
    const byKey = new Map<string, number>();
    for (const a of firsts) byKey.set(`${a.kind}/${a.cause ?? 'none'}`, (byKey.get(`${a.kind}/${a.cause ?? 'none'}`) ?? 0) + 1);
    expect(byKey.size).toBeGreaterThan(5);
    for (const [key, n] of byKey) {
      const [kind, cause] = key.split('/');
      expect(value(r.samples, 'posguard_anomalies_total', { kind, cause }), key).toBe(n);
    }
    expect(sum(r.samples, 'posguard_anomalies_total')).toBe(firsts.length);
    expect(sum(r.samples, 'posguard_anomaly_versions_total')).toBe(r.anomalies.length);
    expect(sum(r.samples, 'posguard_anomaly_versions_total', { kind: 'ORPHAN_DEBIT', status: 'RETRACTED' }))
      .toBe(r.anomalies.filter((a) => a.kind === 'ORPHAN_DEBIT' && a.status === 'RETRACTED').length);
  });

  it('the outage issuer stands out in orphaned debits, cause ISSUER_LATE_APPROVAL', () => {
    const orphans = r.anomalies.filter((a) => a.kind === 'ORPHAN_DEBIT' && a.version === 1);
    expect(sum(r.samples, 'posguard_orphaned_debits_total')).toBe(orphans.length);
    const outage = value(r.samples, 'posguard_orphaned_debits_total', { issuer_id: '100120', cause: 'ISSUER_LATE_APPROVAL' })!;
    expect(outage).toBeGreaterThan(100);
    for (const s of r.samples.filter((x) => x.name === 'posguard_orphaned_debits_total' && x.labels.issuer_id !== '100120')) {
      expect(s.value).toBeLessThan(outage / 5);
    }
  });

  it('money at risk equals the OPEN orphans in the final states, by currency', () => {
    const expected = r.summary.moneyAtRisk();
    expect(expected.size).toBeGreaterThan(0);
    for (const [currency, amount] of expected) {
      expect(sum(r.samples, 'posguard_money_at_risk_minor_units', { currency }), currency).toBe(amount);
    }
    const open = r.anomalies.filter((a) => a.kind === 'ORPHAN_DEBIT');
    const finals = new Map(open.map((a) => [a.anomaly_id, a]));
    expect(sum(r.samples, 'posguard_open_orphaned_debits')).toBe([...finals.values()].filter((a) => a.status === 'OPEN').length);
  });
});

describe('input metrics', () => {
  it('debits consumed by issuer add up to the bank debits fed', () => {
    expect(sum(r.samples, 'posguard_debits_total')).toBe(r.debits);
    expect(value(r.samples, 'posguard_gateway_issuer_timeouts_total', { issuer_id: '100120' })).toBeGreaterThan(100);
    expect(sum(r.samples, 'posguard_gateway_requests_total')).toBeGreaterThan(r.debits / 2);
  });

  it('every broken line is a decode error and a dead letter, with a known reason class', () => {
    expect(r.bad).toBeGreaterThan(0);
    expect(sum(r.samples, 'posguard_decode_errors_total')).toBe(r.bad);
    expect(sum(r.samples, 'posguard_dead_letters_total')).toBe(r.bad);
    for (const reason of r.badReasons) expect(deadLetterReason(reason), reason).not.toBe('other');
    for (const s of r.samples.filter((x) => x.name === 'posguard_dead_letters_total')) {
      expect(DEAD_LETTER_REASONS).toContain(s.labels.reason);
    }
  });
});

describe('dead-letter reason classes', () => {
  it.each([
    ['not valid JSON: Unexpected end of JSON input', 'invalid_json'],
    ['expected a JSON object, got an array', 'not_an_object'],
    ['field stan: missing', 'missing_field'],
    ['field bogus: not in the gateway contract', 'unknown_field'],
    ['field event_type: unknown value "X" (expected one of A, B)', 'unknown_value'],
    ['field amount_minor: expected long, got "x"', 'invalid_value'],
    ['field card_token: looks like a clear card number (PAN), refused', 'clear_pan'],
    ['field masked_pan: expected first 6 and last 4 digits with the middle masked', 'unmasked_pan'],
    ['ClickHouse refused the row for anomalies: Cannot parse input', 'store_refused'],
    ['store_refused: ClickHouse refused the row for transactions (code 27 X): Cannot parse input', 'store_refused'],
    ['avro: invalid magic byte', 'undecodable'],
    ['missing_field', 'missing_field'],
    ['something else entirely', 'other'],
  ])('%s -> %s', (reason, cls) => {
    expect(deadLetterReason(reason)).toBe(cls);
  });
});

describe('OpenOrphans', () => {
  const base: Anomaly = {
    anomaly_id: 'a1', kind: 'ORPHAN_DEBIT', cause: 'ISSUER_LATE_APPROVAL', status: 'OPEN', severity: 'high', version: 1,
    event_time: START, detected_at: START, terminal_id: 'T0000001', merchant_id: 'M00000000000001', card_token: 'tok', rrn: 'R00000000001',
    stan: '000001', issuer_id: '100120', amount_minor: 1000, currency: 'EUR', related_rrns: [], evidence: { terminal: [], gateway: [], bank: [] },
  };

  it('keeps OPEN cases, drops resolved and retracted ones, ignores older versions, reports a pair at 0 once empty', () => {
    const o = new OpenOrphans();
    o.anomaly(base);
    o.anomaly({ ...base, anomaly_id: 'a2', amount_minor: 500 });
    o.anomaly({ ...base, anomaly_id: 'a3', currency: 'GBP', amount_minor: 7 });
    o.anomaly({ ...base, kind: 'DUPLICATE_DEBIT', anomaly_id: 'd1' });
    expect(o.totals()).toEqual(expect.arrayContaining([
      { issuer: '100120', currency: 'EUR', count: 2, amountMinor: 1500, suppressedCount: 0, suppressedAmountMinor: 0 },
      { issuer: '100120', currency: 'GBP', count: 1, amountMinor: 7, suppressedCount: 0, suppressedAmountMinor: 0 },
    ]));
    o.anomaly({ ...base, version: 2, status: 'AUTO_RESOLVED' });
    o.anomaly({ ...base, anomaly_id: 'a3', currency: 'GBP', version: 2, status: 'RETRACTED' });
    o.anomaly({ ...base, anomaly_id: 'a2', version: 3, status: 'OPEN', amount_minor: 600 });
    o.anomaly({ ...base, anomaly_id: 'a2', version: 2, status: 'RETRACTED' }); // older than what we hold
    expect(o.totals()).toEqual(expect.arrayContaining([
      { issuer: '100120', currency: 'EUR', count: 1, amountMinor: 600, suppressedCount: 0, suppressedAmountMinor: 0 },
      { issuer: '100120', currency: 'GBP', count: 0, amountMinor: 0, suppressedCount: 0, suppressedAmountMinor: 0 },
    ]));
  });

  it('cases older than the window (event time) leave the gauge', () => {
    const o = new OpenOrphans(60_000);
    o.anomaly(base);
    o.anomaly({ ...base, anomaly_id: 'late', event_time: START + 61_000 });
    expect(o.totals()).toEqual([{ issuer: '100120', currency: 'EUR', count: 1, amountMinor: 1000, suppressedCount: 0, suppressedAmountMinor: 0 }]);
    expect(o.size).toBe(1);
  });
});

describe('sources that are missing or come later', () => {
  it('a family without its source exports no series; the metric is still declared', async () => {
    const registry = new Registry();
    createMetrics({ registry, processDefaults: false });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE posguard_events_consumed_total counter');
    expect(text).toContain('# TYPE posguard_sink_batch_duration_seconds histogram');
    const samples = parsePromText(text);
    // Only what needs no source: build info, the rebalance counter at 0, the registry gauge at 0 (alertable from start).
    expect(samples.filter((s) => s.name.startsWith('posguard_')).map((s) => s.name).sort()).toEqual(['posguard_build_info', 'posguard_consumer_rebalances_total', 'posguard_registry_unreachable']);
  });

  it('registries are independent: two detectors in one process', async () => {
    const a = new Registry();
    const b = new Registry();
    const ma = createMetrics({ registry: a });
    createMetrics({ registry: b });
    ma.rebalance();
    chargeUserCpu();
    expect(value(parsePromText(await a.metrics()), 'posguard_consumer_rebalances_total')).toBe(1);
    expect(value(parsePromText(await b.metrics()), 'posguard_consumer_rebalances_total')).toBe(0);
    expect(value(parsePromText(await a.metrics()), 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});

describe('sink metrics', () => {
  it('stats at scrape time, batch durations from onEvent, sink refusals as dead letters', async () => {
    const registry = new Registry();
    let clock = 1_000_000;
    let failingSince: number | null = null;
    const m = createMetrics({
      registry, processDefaults: false, now: () => clock,
      sinkStats: () => ({
        rowsWrittenByTable: { anomalies: 10, events_raw: 900 }, batchesWritten: 4, writeFailures: 3, backlogRows: 1234,
        highWaterRows: 100_000, failingSince, panRefused: 1, rowsRejected: 2, rowsDropped: 0,
        rowsRefusedByTable: { anomalies: 1, transactions: 1, events_raw: 0 },
      }),
    });
    m.sinkEvent({ type: 'batch_written', table: 'events_raw', rows: 900, ms: 42 });
    m.sinkEvent({ type: 'batch_written', table: 'anomalies', rows: 10, ms: 3 });
    m.sinkEvent({ type: 'write_failed', table: 'anomalies' });
    m.sinkEvent({ type: 'pan_refused', table: 'transactions' });
    m.sinkEvent({ type: 'row_rejected', table: 'transactions' });
    let s = parsePromText(await registry.metrics());
    expect(value(s, 'posguard_sink_rows_written_total', { table: 'events_raw' })).toBe(900);
    expect(value(s, 'posguard_sink_write_failures_total')).toBe(3);
    expect(value(s, 'posguard_sink_backlog_rows')).toBe(1234);
    expect(value(s, 'posguard_sink_failing_seconds')).toBe(0);
    expect(value(s, 'posguard_sink_batch_duration_seconds_count', { table: 'events_raw' })).toBe(1);
    expect(value(s, 'posguard_sink_batch_duration_seconds_sum', { table: 'events_raw' })).toBeCloseTo(0.042, 6);
    expect(value(s, 'posguard_sink_batch_duration_seconds_bucket', { table: 'events_raw', le: '0.05' })).toBe(1);
    expect(value(s, 'posguard_sink_batch_duration_seconds_bucket', { table: 'events_raw', le: '0.025' })).toBe(0);
    expect(value(s, 'posguard_dead_letters_total', { reason: 'clear_pan' })).toBe(1);
    expect(value(s, 'posguard_dead_letters_total', { reason: 'store_refused' })).toBe(1);
    expect(value(s, 'posguard_sink_rows_refused_total', { table: 'transactions' })).toBe(1);
    expect(value(s, 'posguard_sink_rows_refused_total', { table: 'events_raw' })).toBe(0);
    failingSince = clock - 90_000;
    clock += 10_000;
    s = parsePromText(await registry.metrics());
    expect(value(s, 'posguard_sink_failing_seconds')).toBe(100);
  });
});

describe('consumer metrics', () => {
  it('lag comes from the callback at scrape time (async allowed); a failing callback drops the series, not the scrape', async () => {
    const registry = new Registry();
    let lag = 5;
    let fail = false;
    const errors: unknown[] = [];
    const m = createMetrics({
      registry, processDefaults: false, onError: (e) => errors.push(e),
      consumerLag: async () => {
        if (fail) throw new Error('broker down');
        return [{ topic: 'pos.bank', partition: 0, lag, commitTrail: lag + 1000 }, { topic: 'pos.bank', partition: 1, lag: 0 }, { topic: 'pos.bank', partition: 2, lag: null, commitTrail: 7 }];
      },
    });
    let s = parsePromText(await registry.metrics());
    expect(value(s, 'posguard_consumer_lag_messages', { topic: 'pos.bank', partition: '0' })).toBe(5);
    expect(value(s, 'posguard_consumer_commit_trail_messages', { topic: 'pos.bank', partition: '0' })).toBe(1005);
    // A partition held elsewhere: its commit trail, no lag (a standby must not raise the lag alert).
    expect(value(s, 'posguard_consumer_lag_messages', { topic: 'pos.bank', partition: '2' })).toBeUndefined();
    expect(value(s, 'posguard_consumer_commit_trail_messages', { topic: 'pos.bank', partition: '2' })).toBe(7);
    lag = 42;
    expect(s.filter((x) => x.name === 'posguard_consumer_assigned_partitions')).toEqual([]);
    m.rebalance(4);
    m.rebalance(0);
    s = parsePromText(await registry.metrics());
    expect(value(s, 'posguard_consumer_assigned_partitions')).toBe(0);
    expect(value(s, 'posguard_consumer_lag_messages', { topic: 'pos.bank', partition: '0' })).toBe(42);
    expect(value(s, 'posguard_consumer_rebalances_total')).toBe(2);
    fail = true;
    s = parsePromText(await registry.metrics());
    expect(s.filter((x) => x.name === 'posguard_consumer_lag_messages')).toEqual([]);
    expect(s.filter((x) => x.name === 'posguard_consumer_commit_trail_messages')).toEqual([]);
    expect(value(s, 'posguard_consumer_rebalances_total')).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it('posguard_registry_unreachable: 0 from start, 1 while lookups wait for the registry, 0 again', async () => {
    const registry = new Registry();
    const m = createMetrics({ registry, processDefaults: false });
    const read = async () => value(parsePromText(await registry.metrics()), 'posguard_registry_unreachable');
    expect(await read()).toBe(0);
    m.registryUnreachable(true);
    expect(await read()).toBe(1);
    m.registryUnreachable(false);
    expect(await read()).toBe(0);
  });
});
