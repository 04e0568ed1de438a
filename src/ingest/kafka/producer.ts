/**
 * The producer side: records (a stream, a Kafka key, a JSON line) to the
 * three topics, in the order given, keyed by terminal_id. Good records are
 * Avro in the Confluent wire format (schema ids from the registry, registered
 * under `<topic>-value`), or plain Avro / JSON without a registry. Records that
 * break the contract are sent as they are (the raw line's bytes), so the
 * consumer's dead-letter path sees real poison.
 *
 * Where the records come from is the caller's business (`simulate --kafka`
 * hands it the simulator's records): this file knows Kafka and the value
 * formats, not the simulator.
 *
 * Order: one send in flight at a time, each a batch across the three topics;
 * Kafka keeps order within a partition, so every partition receives its
 * records in the order given.
 */
import { Partitioners, type Message, type Producer } from 'kafkajs';
import { STREAMS, type Stream } from '../../events/index.js';
import { validateEvent } from '../validate.js';
import { encodeAvro, encodeWire } from './avro.js';
import type { ValueFormat } from './codec.js';
import { checkKafkaAccess, createKafka, type KafkaClientOptions } from './client.js';
import { Registry, type RegistryOptions } from './registry.js';
import { kafkaCall, type TopicNames } from './topics.js';

/** One record to send: its stream (which topic), its Kafka key, and its value as a JSON line. */
export interface ProducerRecord {
  readonly stream: Stream;
  readonly key: string;
  readonly line: string;
}

export interface ProduceOptions {
  readonly kafka: KafkaClientOptions;
  readonly topics: TopicNames;
  /** Confluent wire format through this registry; null = registry-less. */
  readonly registryUrl: string | null;
  /** Credentials and TLS for the registry (its URL is registryUrl). */
  readonly registry?: Omit<RegistryOptions, 'url'>;
  /** Registry-less value format (ignored with a registry). Default avro. */
  readonly format?: Exclude<ValueFormat, 'confluent'>;
  /** Send only records [fromRecord, toRecord) of `records`; default all. Lets a test stop mid-stream. */
  readonly fromRecord?: number;
  readonly toRecord?: number;
  /** Messages per send. Default 2,000. */
  readonly batchMessages?: number;
  /** Called after every send with the number of records sent so far. */
  readonly onProgress?: (sent: number) => void;
}

export interface ProduceResult {
  readonly sent: Record<Stream, number>;
  /** Records sent raw because they break the contract. */
  readonly bad: number;
  readonly schemaIds: Partial<Record<Stream, number>>;
}

/** A record's value bytes: encoded when it meets the contract, else the raw line (and `bad`). */
function encodeValue(r: ProducerRecord, format: ValueFormat, schemaIds: Partial<Record<Stream, number>>): { value: Buffer; bad: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.line);
  } catch {
    return { value: Buffer.from(r.line, 'utf8'), bad: true };
  }
  const v = validateEvent(r.stream, parsed);
  if (!v.ok) return { value: Buffer.from(r.line, 'utf8'), bad: true };
  if (format === 'json') return { value: Buffer.from(r.line, 'utf8'), bad: false };
  const body = encodeAvro(r.stream, v.event);
  return { value: format === 'confluent' ? encodeWire(schemaIds[r.stream]!, body) : body, bad: false };
}

async function registerSchemas(o: ProduceOptions): Promise<Partial<Record<Stream, number>>> {
  const schemaIds: Partial<Record<Stream, number>> = {};
  if (o.registryUrl === null) return schemaIds;
  const registry = new Registry({ clientId: o.kafka.clientId, ...o.registry, url: o.registryUrl });
  for (const s of STREAMS) schemaIds[s] = await registry.register(o.topics[s], s);
  return schemaIds;
}

async function connectProducer(kafka: KafkaClientOptions): Promise<Producer> {
  await checkKafkaAccess(kafka);
  // The Java client's murmur2 partitioner: other producers of these topics put a terminal in the same partition.
  const producer = createKafka(kafka).producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 } });
  await kafkaCall('connect the producer', () => producer.connect());
  return producer;
}

/** A connected producer for the topics of `o`: several `send` calls share one connection (a paced feed); `close` disconnects. */
export interface RecordProducer {
  send(records: Iterable<ProducerRecord>): Promise<void>;
  result(): ProduceResult;
  close(): Promise<void>;
}

/** Registers the schemas (with a registry) and connects one producer for `o`. */
export async function openRecordProducer(o: ProduceOptions): Promise<RecordProducer> {
  const schemaIds = await registerSchemas(o);
  const format: ValueFormat = o.registryUrl !== null ? 'confluent' : (o.format ?? 'avro');
  const producer = await connectProducer(o.kafka);
  const sent: Record<Stream, number> = { terminal: 0, gateway: 0, bank: 0 };
  let bad = 0;
  const batch = o.batchMessages ?? 2_000;
  const pending: Record<Stream, Message[]> = { terminal: [], gateway: [], bank: [] };
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
  return {
    async send(records) {
      let n = 0;
      for (const r of records) {
        const v = encodeValue(r, format, schemaIds);
        if (v.bad) bad++;
        pending[r.stream].push({ key: r.key, value: v.value });
        if (++n % batch === 0) await flush();
      }
      await flush();
    },
    result: () => ({ sent: { ...sent }, bad, schemaIds }),
    close: () => producer.disconnect().catch(() => undefined),
  };
}

/** Records [from, to) of `records`. */
function* slice<T>(records: Iterable<T>, from: number, to: number): Generator<T> {
  let index = -1;
  for (const r of records) {
    index++;
    if (index < from) continue;
    if (index >= to) return;
    yield r;
  }
}

/** Sends `records` to the topics of `o` (registering the schemas first with a registry). */
export async function produceRecords(o: ProduceOptions, records: Iterable<ProducerRecord>): Promise<ProduceResult> {
  const p = await openRecordProducer(o);
  try {
    await p.send(slice(records, o.fromRecord ?? 0, o.toRecord ?? Infinity));
  } finally {
    await p.close();
  }
  return p.result();
}
