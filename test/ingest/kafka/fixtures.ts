/**
 * The simulated traffic the Kafka suites send, and what the batch reference
 * says it contains.
 */
import { Partitioners } from 'kafkajs';
import { expect } from 'vitest';
import { DEFAULT_RULES, type Rules } from '../../../src/config/rules.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { compareAnomalies, formatReport } from '../../../src/eval/compare.js';
import { referenceAnomalies } from '../../../src/eval/reference.js';
import type { BankEvent, GatewayEvent, TerminalEvent } from '../../../src/events/index.js';
import { validateEvent } from '../../../src/ingest/validate.js';
import { SIM_DEFAULTS, simulate } from '../../../src/sim/index.js';
import { openClickHouse } from '../../../src/sinks/clickhouse/connection.js';
import { anomalyFromRow, STORED_ANOMALY_SQL } from './helpers.js';

/** 20 simulated minutes at 3 attempts/s: about 27,600 records, 90+ anomalies, every poison kind of the simulator. */
export const SIM = Object.freeze({ seed: 3, minutes: 20, tps: 3, startMs: SIM_DEFAULTS.startMs });

export interface Expected {
  readonly reference: Anomaly[];
  /** Records the simulation sends, in arrival order. */
  readonly records: number;
  /** Records that break the contract (sent raw). */
  readonly bad: number;
  /** rrn → terminal_id of its bank AUTH events. */
  readonly bankTerminal: Map<string, string>;
}

export function expected(sim: { seed: number; minutes: number; tps: number; startMs: number; rules?: Rules } = SIM, rules: Rules = DEFAULT_RULES): Expected {
  const input = { terminal: [] as TerminalEvent[], gateway: [] as GatewayEvent[], bank: [] as BankEvent[] };
  const bankTerminal = new Map<string, string>();
  let records = 0;
  let bad = 0;
  for (const r of simulate(sim).records) {
    records++;
    let v;
    try {
      v = validateEvent(r.stream, JSON.parse(r.line));
    } catch {
      v = null;
    }
    if (v === null || !v.ok) {
      bad++;
      continue;
    }
    (input[r.stream] as unknown[]).push(v.event);
    if (r.stream === 'bank') bankTerminal.set((v.event as BankEvent).rrn, v.event.terminal_id);
  }
  return { reference: referenceAnomalies(input, rules), records, bad, bankTerminal };
}

/** The partition kafkajs' default (Java murmur2) partitioner gives `key` among `n`. */
export function partitionOf(key: string, n: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

/**
 * DUPLICATE_DEBITs whose earlier debits sit in another partition than the
 * duplicate: stage 1 is keyed by terminal, so a per-partition engine cannot
 * pair them (docs/architecture.md, "DUPLICATE_DEBIT does not partition by
 * terminal"; docs/kafka.md, limitations).
 */
export function crossPartitionDuplicates(exp: Expected, partitions: number): Set<string> {
  const out = new Set<string>();
  for (const a of exp.reference) {
    if (a.kind !== 'DUPLICATE_DEBIT' || a.rrn === null) continue;
    const p = partitionOf(exp.bankTerminal.get(a.rrn)!, partitions);
    if (a.related_rrns.some((r) => partitionOf(exp.bankTerminal.get(r)!, partitions) !== p)) out.add(a.anomaly_id);
  }
  return out;
}

/** Throws with the comparison table unless `got` (any versions) equals the reference, `except` ids left out on both sides. */
export function expectSameAnomalies(got: readonly Anomaly[], reference: readonly Anomaly[], except: ReadonlySet<string> = new Set()): void {
  const report = compareAnomalies(got.filter((a) => !except.has(a.anomaly_id)), reference.filter((a) => !except.has(a.anomaly_id)));
  if (!report.agree) throw new Error(`anomalies differ from the batch reference:\n${formatReport(report)}`);
}

/**
 * After crashes and restarts (restart.test.ts, kill-random.test.ts): the stored anomalies equal the
 * reference, none twice in anomalies_current, every input event once in events_raw, every bad record
 * dead-lettered once.
 */
export async function expectRecoveredOutput(dataDir: string, exp: Expected): Promise<void> {
  const h = await openClickHouse({ kind: 'embedded', dataDir });
  try {
    const q = async <T>(query: string) => (await h.client.query({ query, format: 'JSONEachRow' })).json<T>();
    const stored = (await q<Record<string, unknown>>(STORED_ANOMALY_SQL)).map(anomalyFromRow);
    expectSameAnomalies(stored, exp.reference);
    const twice = await q<{ anomaly_id: string }>('SELECT anomaly_id FROM anomalies_current GROUP BY anomaly_id HAVING count() > 1');
    expect(twice).toEqual([]);
    // Every input event is stored once (events_raw is keyed by event_id), whatever was re-read.
    const raw = await q<{ n: string; ids: string }>('SELECT count() AS n, uniqExact(event_id) AS ids FROM events_raw FINAL');
    expect(Number(raw[0].n)).toBe(Number(raw[0].ids));
    const dl = await q<{ n: string }>('SELECT count() AS n FROM dead_letters FINAL');
    expect(Number(dl[0].n)).toBe(exp.bad);
  } finally {
    await h.close();
  }
}
