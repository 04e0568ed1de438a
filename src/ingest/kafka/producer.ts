/**
 * The producer side: the simulator's records to the three topics, in the
 * simulator's arrival order, keyed by terminal_id. Good records are Avro in
 * the Confluent wire format (schema ids from the registry, registered under
 * `<topic>-value`), or plain Avro / JSON without a registry. Records that
 * break the contract are sent as they are (the raw line's bytes), so the
 * consumer's dead-letter path sees real poison.
 *
 * Order: one send in flight at a time, each a batch across the three topics;
 * Kafka keeps order within a partition, so every partition receives its
 * records in arrival order.
 */
import { Partitioners, type Message, type Producer } from 'kafkajs';
import type { Rules } from '../../config/rules.js';
import { STREAMS, type Stream } from '../../events/index.js';
import { validateEvent } from '../../ingest/validate.js';
import { simulate, type SimLabel } from '../../sim/index.js';
import { encodeAvro, encodeWire } from './avro.js';
import type { ValueFormat } from './codec.js';
import { checkKafkaAccess, createKafka, type KafkaClientOptions } from './client.js';
import { Registry, type RegistryOptions } from './registry.js';
import { kafkaCall, type TopicNames } from './topics.js';

export interface SimulateToKafkaOptions {
  readonly kafka: KafkaClientOptions;
  readonly topics: TopicNames;
  /** Confluent wire format through this registry; null = registry-less. */
  readonly registryUrl: string | null;
  /** Credentials and TLS for the registry (its URL is registryUrl). */
  readonly registry?: Omit<RegistryOptions, 'url'>;
  /** Registry-less value format (ignored with a registry). Default avro. */
  readonly format?: Exclude<ValueFormat, 'confluent'>;
  readonly seed: number;
  readonly minutes: number;
  readonly tps: number;
  readonly startMs: number;
  readonly faultRate?: number;
  readonly badRecordRate?: number;
  readonly rules?: Rules;
  /** Send only records [fromRecord, toRecord) of the simulation (arrival order); default all. Lets a test stop mid-stream. */
  readonly fromRecord?: number;
  readonly toRecord?: number;
  /** Messages per send. Default 2,000. */
  readonly batchMessages?: number;
  /** Called every `progressEvery` records. */
  readonly onProgress?: (sent: number) => void;
}

export interface SimulateToKafkaResult {
  readonly sent: Record<Stream, number>;
  /** Records sent raw because they break the contract. */
  readonly bad: number;
  readonly schemaIds: Partial<Record<Stream, number>>;
  readonly labels: SimLabel[];
  readonly elapsedMs: number;
}

export async function simulateToKafka(o: SimulateToKafkaOptions): Promise<SimulateToKafkaResult> {
  const began = performance.now();
  const sim = simulate({
    seed: o.seed, minutes: o.minutes, tps: o.tps, startMs: o.startMs,
    ...(o.faultRate !== undefined ? { faultRate: o.faultRate } : {}),
    ...(o.badRecordRate !== undefined ? { badRecordRate: o.badRecordRate } : {}),
    ...(o.rules !== undefined ? { rules: o.rules } : {}),
  });
  const schemaIds: Partial<Record<Stream, number>> = {};
  if (o.registryUrl !== null) {
    const registry = new Registry({ clientId: o.kafka.clientId, ...o.registry, url: o.registryUrl });
    for (const s of STREAMS) schemaIds[s] = await registry.register(o.topics[s], s);
  }
  const format = o.registryUrl !== null ? 'confluent' : (o.format ?? 'avro');
  await checkKafkaAccess(o.kafka);
  const kafka = createKafka(o.kafka);
  // The Java client's murmur2 partitioner: other producers of these topics put a terminal in the same partition.
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 } });
  await kafkaCall('connect the producer', () => producer.connect());
  const sent: Record<Stream, number> = { terminal: 0, gateway: 0, bank: 0 };
  let bad = 0;
  const batch = o.batchMessages ?? 2_000;
  const pending: Record<Stream, Message[]> = { terminal: [], gateway: [], bank: [] };
  let n = 0;
  let index = -1;
  const from = o.fromRecord ?? 0;
  const to = o.toRecord ?? Infinity;
  const flush = async () => {
    const topicMessages = STREAMS.filter((s) => pending[s].length > 0).map((s) => ({ topic: o.topics[s], messages: pending[s] }));
    if (topicMessages.length === 0) return;
    await kafkaCall('produce', () => producer.sendBatch({ topicMessages, acks: -1 }));
    for (const s of STREAMS) {
      sent[s] += pending[s].length;
      pending[s] = [];
    }
    o.onProgress?.(sent.terminal + sent.gateway + sent.bank);
  };
  try {
    for (const r of sim.records) {
      index++;
      if (index < from) continue;
      if (index >= to) break;
      let value: Buffer;
      let parsed: unknown;
      let ok = false;
      try {
        parsed = JSON.parse(r.line);
        ok = true;
      } catch {
        ok = false;
      }
      const v = ok ? validateEvent(r.stream, parsed) : null;
      if (v !== null && v.ok) {
        if (format === 'json') value = Buffer.from(r.line, 'utf8');
        else {
          const body = encodeAvro(r.stream, v.event);
          value = format === 'confluent' ? encodeWire(schemaIds[r.stream]!, body) : body;
        }
      } else {
        bad++;
        value = Buffer.from(r.line, 'utf8');
      }
      pending[r.stream].push({ key: r.key, value });
      if (++n % batch === 0) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  return { sent, bad, schemaIds, labels: sim.labels, elapsedMs: performance.now() - began };
}
