/**
 * What the live-feed fault suites (feeds-*.test.ts) share: simulated records
 * with their partition and event time, a JSON producer the test paces by hand,
 * an in-process `posguard run` with short feed rules and an injectable wall
 * clock, and event-driven waits.
 */
import { Partitioners, type Producer } from 'kafkajs';
import type { Rules } from '../../../src/config/rules.js';
import { loadRunConfig } from '../../../src/config/run-config.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { referenceAnomalies } from '../../../src/eval/reference.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../../src/events/index.js';
import { validateEvent } from '../../../src/ingest/validate.js';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import type { TopicNames } from '../../../src/ingest/kafka/topics.js';
import { KafkaRun } from '../../../src/runtime/kafka/runner.js';
import { simulate } from '../../../src/sim/index.js';
import { partitionOf } from './fixtures.js';

export interface SimRec {
  readonly stream: Stream;
  readonly key: string;
  readonly line: string;
  /** Its partition among `partitions` (the key's murmur2). */
  readonly partition: number;
  /** event_time, or null for a line that does not parse. */
  readonly eventTime: number | null;
}

/** The simulation's records in arrival order, with partition and event time. */
export function simRecords(sim: { seed: number; minutes: number; tps: number; startMs: number; rules?: Rules }, partitions: number): SimRec[] {
  const out: SimRec[] = [];
  const parts = new Map<string, number>();
  for (const r of simulate(sim).records) {
    let eventTime: number | null = null;
    try {
      const t = (JSON.parse(r.line) as { event_time?: unknown }).event_time;
      if (typeof t === 'number') eventTime = t;
    } catch {
      // a poison line of the simulator: sent as it is
    }
    let p = parts.get(r.key);
    if (p === undefined) parts.set(r.key, (p = partitionOf(r.key, partitions)));
    out.push({ stream: r.stream, key: r.key, line: r.line, partition: p, eventTime });
  }
  return out;
}

/** The batch reference on exactly these records (those that break the contract left out, as the run dead-letters them). */
export function referenceOf(records: readonly SimRec[], rules: Rules): Anomaly[] {
  const input = { terminal: [] as TerminalEvent[], gateway: [] as GatewayEvent[], bank: [] as BankEvent[] };
  for (const r of records) {
    let v;
    try {
      v = validateEvent(r.stream, JSON.parse(r.line));
    } catch {
      continue;
    }
    if (v.ok) (input[r.stream] as unknown[]).push(v.event);
  }
  return referenceAnomalies(input, rules);
}

/** A producer of JSON values (the run reads --format json), paced by the test. */
export class JsonProducer {
  private constructor(private readonly producer: Producer, private readonly topics: TopicNames) {}

  static async open(brokers: string, topics: TopicNames): Promise<JsonProducer> {
    const producer = createKafka({ brokers: brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return new JsonProducer(producer, topics);
  }

  async send(records: readonly SimRec[]): Promise<void> {
    if (records.length === 0) return;
    const by = new Map<string, { key: string; value: string }[]>();
    for (const r of records) {
      const topic = this.topics[r.stream];
      let list = by.get(topic);
      if (list === undefined) by.set(topic, (list = []));
      list.push({ key: r.key, value: r.line });
    }
    await this.producer.sendBatch({ topicMessages: [...by].map(([topic, messages]) => ({ topic, messages })), acks: -1 });
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

export interface LiveRun {
  readonly run: KafkaRun;
  /** Every anomaly version written, with the (real) wall clock when it was. */
  readonly versions: { readonly a: Anomaly; readonly at: number }[];
  readonly commits: { readonly at: number; readonly partition: number; readonly floor: number }[];
  /** Moves the run's wall clock forward (the clock it reads is Date.now() + the offset). */
  jump(ms: number): void;
}

export async function startLiveRun(o: {
  brokers: string; topics: TopicNames; group: string; dataDir: string; rules: Rules; quietAfterMs: number; stallReleaseMs: number;
}): Promise<LiveRun> {
  const { config } = loadRunConfig({
    env: {},
    flags: {
      brokers: o.brokers, group: o.group, data: o.dataDir, statusIntervalMs: '0', format: 'json', commitIntervalMs: '200', checkpointIntervalMs: '0', skipRawEvents: true,
      terminalTopic: o.topics.terminal, gatewayTopic: o.topics.gateway, bankTopic: o.topics.bank, dlqTopic: o.topics.dlq,
      quietAfterMs: String(o.quietAfterMs), stallReleaseMs: String(o.stallReleaseMs), stallAlertAfterMs: String(o.stallReleaseMs),
    },
  });
  let offset = 0;
  const versions: LiveRun['versions'] = [];
  const commits: LiveRun['commits'] = [];
  const run = new KafkaRun({
    config, rules: () => o.rules, log: () => undefined, now: () => Date.now() + offset,
    onAnomaly: (a) => versions.push({ a, at: Date.now() }),
    onCommit: (c) => {
      for (const e of c) commits.push({ at: Date.now(), partition: e.partition, floor: e.floor });
    },
  });
  await run.start();
  return { run, versions, commits, jump: (ms) => void (offset += ms) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once `cond()` holds (checked every 50 ms); rejects with `what` after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await sleep(50);
  }
}
