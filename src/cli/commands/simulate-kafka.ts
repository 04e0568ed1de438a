/**
 * `posguard simulate --kafka BROKERS [--registry URL]`: the simulator's traffic
 * to the three topics instead of files. Called by ./simulate.ts when --kafka
 * is given; everything else about the traffic (seed, span, rates) is shared.
 */
import type { Rules } from '../../config/rules.js';
import { PosguardError } from '../../errors.js';
import type { KafkaClientOptions } from '../../ingest/kafka/client.js';
import type { RegistryOptions } from '../../ingest/kafka/registry.js';
import { produceRecords, type ProduceOptions, type ProduceResult } from '../../ingest/kafka/producer.js';
import { DEFAULT_TOPICS, type TopicNames } from '../../ingest/kafka/topics.js';
import { simulate, type SimLabel } from '../../sim/index.js';

/** The simulated traffic: seed, span, rates. */
interface SimTraffic {
  readonly seed: number;
  readonly minutes: number;
  readonly tps: number;
  readonly startMs: number;
  readonly faultRate?: number;
  readonly badRecordRate?: number;
}

export interface SimulateToKafkaOptions extends ProduceOptions, SimTraffic {
  readonly rules?: Rules;
}

export interface SimulateToKafkaResult extends ProduceResult {
  readonly labels: SimLabel[];
  readonly elapsedMs: number;
}

/** The simulator's records (arrival order) to the three topics: the simulator hands the producer its records. */
export async function simulateToKafka(o: SimulateToKafkaOptions): Promise<SimulateToKafkaResult> {
  const began = performance.now();
  const sim = simulate({
    seed: o.seed, minutes: o.minutes, tps: o.tps, startMs: o.startMs,
    ...(o.faultRate !== undefined ? { faultRate: o.faultRate } : {}),
    ...(o.badRecordRate !== undefined ? { badRecordRate: o.badRecordRate } : {}),
    ...(o.rules !== undefined ? { rules: o.rules } : {}),
  });
  const r = await produceRecords(o, sim.records);
  return { ...r, labels: sim.labels, elapsedMs: performance.now() - began };
}

export interface SimulateKafkaOptions extends SimTraffic {
  /** Comma-separated host:port list. */
  readonly brokers: string;
  /** TLS and SASL for the brokers (docs/kafka.md, Security); default plaintext. */
  readonly security?: Omit<KafkaClientOptions, 'brokers' | 'clientId'>;
  /** Registry credentials and TLS. */
  readonly registryOptions?: Omit<RegistryOptions, 'url'>;
  /** Schema registry (Confluent API); absent = registry-less. */
  readonly registry?: string;
  /** Registry-less value format: avro (default) or json. */
  readonly format?: string;
  readonly topics?: Partial<TopicNames>;
  /** Progress lines to stderr. Default true. */
  readonly progress?: boolean;
}

export async function runSimulateKafka(o: SimulateKafkaOptions): Promise<SimulateToKafkaResult> {
  const brokers = o.brokers.split(',').map((s) => s.trim()).filter(Boolean);
  if (brokers.length === 0) throw new PosguardError('PG_USAGE', 'simulate: --kafka expects host:port[,host:port...]');
  const format = o.format ?? 'avro';
  if (format !== 'avro' && format !== 'json') throw new PosguardError('PG_USAGE', `simulate: --format must be avro or json (registry-less), got "${format}"`);
  if (o.registry !== undefined && o.format !== undefined) throw new PosguardError('PG_USAGE', 'simulate: --format is for registry-less mode; with --registry values are Confluent wire-format Avro');
  const topics: TopicNames = { ...DEFAULT_TOPICS, ...(o.topics ?? {}) };
  let last = Date.now();
  const r = await simulateToKafka({
    kafka: { ...o.security, brokers, clientId: 'posguard-simulate' },
    topics,
    registryUrl: o.registry ?? null,
    registry: o.registryOptions,
    format,
    seed: o.seed, minutes: o.minutes, tps: o.tps, startMs: o.startMs,
    faultRate: o.faultRate, badRecordRate: o.badRecordRate,
    onProgress: (n) => {
      if (o.progress === false || Date.now() - last < 2_000) return;
      last = Date.now();
      process.stderr.write(`posguard simulate: ${n} records sent\n`);
    },
  });
  if (o.progress !== false) {
    const ids = Object.entries(r.schemaIds).map(([s, id]) => `${s} ${id}`).join(', ');
    process.stderr.write(
      `posguard simulate: ${r.sent.terminal} terminal, ${r.sent.gateway} gateway, ${r.sent.bank} bank records (${r.bad} bad, sent raw) ` +
        `to ${topics.terminal}, ${topics.gateway}, ${topics.bank} at ${brokers.join(',')} in ${(r.elapsedMs / 1000).toFixed(1)} s` +
        `${ids ? ` (schema ids: ${ids})` : ` (${format}, registry-less)`}\n`,
    );
  }
  return r;
}
