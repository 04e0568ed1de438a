/**
 * The input topics (../shared/spec/events.md), the dead-letter topic, and the
 * co-partitioning check: terminal p, gateway p and bank p hold the same
 * terminals only when the three topics have equal partition counts (all keyed
 * by terminal_id with the default murmur2 partitioner).
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { PosguardError } from '../../errors.js';
import { STREAMS, type Stream } from '../../events/index.js';

export interface TopicNames {
  readonly terminal: string;
  readonly gateway: string;
  readonly bank: string;
  readonly dlq: string;
  /** Compacted topic of the partition tasks' checkpoints (checkpoint/topic.ts). */
  readonly state: string;
  /** The internal topic between the stages under the spread assignment: card facts keyed by card_token (issue 14). */
  readonly cardFacts: string;
}

export const DEFAULT_TOPICS: TopicNames = Object.freeze({
  terminal: 'pos.terminal.events',
  gateway: 'pos.gateway.events',
  bank: 'bank.core.authorizations',
  dlq: 'posguard.dlq',
  state: 'posguard.state',
  cardFacts: 'posguard.card-facts',
});

export function inputTopics(t: TopicNames): string[] {
  return STREAMS.map((s) => t[s]);
}

/** topic → stream, for the consumer's dispatch. */
export function streamOfTopic(t: TopicNames): Map<string, Stream> {
  return new Map(STREAMS.map((s) => [t[s], s]));
}

/** Partition count per topic; a missing topic maps to null. */
export async function partitionCounts(admin: Admin, topics: readonly string[]): Promise<Map<string, number | null>> {
  const existing = new Set(await kafkaCall('list topics', () => admin.listTopics()));
  const out = new Map<string, number | null>();
  const present = topics.filter((t) => existing.has(t));
  if (present.length > 0) {
    const md = await kafkaCall('describe topics', () => admin.fetchTopicMetadata({ topics: present }));
    for (const t of md.topics) out.set(t.name, t.partitions.length);
  }
  for (const t of topics) if (!out.has(t)) out.set(t, null);
  return out;
}

/**
 * Refuses to run unless the three input topics exist with one partition count.
 * Returns that count.
 */
export async function checkCoPartitioned(admin: Admin, names: TopicNames): Promise<number> {
  const topics = inputTopics(names);
  const counts = await partitionCounts(admin, topics);
  const missing = topics.filter((t) => counts.get(t) === null);
  if (missing.length > 0) {
    throw new PosguardError('PG_KAFKA', `input topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} do${missing.length > 1 ? '' : 'es'} not exist; create them with \`posguard topics create --partitions N\` (equal counts)`);
  }
  const distinct = new Set(topics.map((t) => counts.get(t)));
  if (distinct.size > 1) {
    const list = topics.map((t) => `${t}: ${counts.get(t)}`).join(', ');
    throw new PosguardError(
      'PG_COPARTITION',
      `the input topics are not co-partitioned (${list}): terminal, gateway and bank events of one terminal land in the same partition number only when the counts are equal, and the detector joins them per partition. ` +
        'Give the three topics the same partition count (kafka-topics.sh --alter --partitions N on the smaller ones, then re-produce or wait for new keys to settle), or recreate them with `posguard topics create --partitions N`.',
      { context: Object.fromEntries(counts) },
    );
  }
  return counts.get(topics[0]) as number;
}

export interface CreateTopicsResult {
  readonly created: string[];
  readonly existing: { topic: string; partitions: number }[];
}

/**
 * Creates the three input topics and the dead-letter topic with `partitions`
 * each. Topics that exist already are kept when their count matches; a
 * different count is refused (PG_COPARTITION), never changed silently.
 */
export async function createTopics(admin: Admin, names: TopicNames, partitions: number, replicationFactor: number): Promise<CreateTopicsResult> {
  const all = [...inputTopics(names), names.dlq];
  const counts = await partitionCounts(admin, all);
  const wrong = all.filter((t) => counts.get(t) !== null && counts.get(t) !== partitions);
  if (wrong.length > 0) {
    throw new PosguardError('PG_COPARTITION', `topic${wrong.length > 1 ? 's' : ''} ${wrong.map((t) => `${t} (${counts.get(t)} partitions)`).join(', ')} already exist${wrong.length > 1 ? '' : 's'} with a partition count other than ${partitions}; delete or alter ${wrong.length > 1 ? 'them' : 'it'} first (posguard never changes an existing topic)`);
  }
  const toCreate: ITopicConfig[] = all.filter((t) => counts.get(t) === null).map((topic) => ({
    topic,
    numPartitions: partitions,
    replicationFactor,
    configEntries: topic === names.dlq ? [{ name: 'retention.ms', value: String(30 * 24 * 3600 * 1000) }] : [],
  }));
  if (toCreate.length > 0) {
    await kafkaCall('create topics', () => admin.createTopics({ topics: toCreate, waitForLeaders: true }));
  }
  return {
    created: toCreate.map((t) => t.topic),
    existing: all.filter((t) => counts.get(t) !== null).map((t) => ({ topic: t, partitions: counts.get(t) as number })),
  };
}

/**
 * Card facts are kept this long (retention.ms when posguard creates the topic): a stage-2 task given a
 * partition re-reads it whole to rebuild its windows, which reach back the impossible-travel horizon
 * (≈ 22.2 h at 900 km/h) plus the allowed lateness; 26 h leaves room for a slow start.
 */
export const CARD_FACTS_RETENTION_MS = 26 * 3600 * 1000;

/**
 * The card-facts topic's partition count: created (cleanup.policy=delete, retention CARD_FACTS_RETENTION_MS,
 * `partitions` partitions) when missing and `create` allows it, else refused naming the fix.
 */
export async function ensureCardFactsTopic(admin: Admin, topic: string, partitions: number, create: boolean, replicationFactor?: number): Promise<{ partitions: number; created: boolean }> {
  const n = (await partitionCounts(admin, [topic])).get(topic) ?? null;
  if (n !== null) return { partitions: n, created: false };
  if (!create) throw new PosguardError('PG_KAFKA', `the card-facts topic ${topic} does not exist; create it (posguard topics create) or allow run.createDlqTopic`);
  const configEntries = [{ name: 'cleanup.policy', value: 'delete' }, { name: 'retention.ms', value: String(CARD_FACTS_RETENTION_MS) }];
  await kafkaCall(`create ${topic}`, () => admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor, configEntries }], waitForLeaders: true }));
  return { partitions, created: true };
}

/** Wraps a kafkajs call so failures carry PG_KAFKA and say what was attempted. */
export async function kafkaCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof PosguardError) throw e;
    const msg = (e as Error)?.message ?? String(e);
    throw new PosguardError('PG_KAFKA', `cannot ${what}: ${msg}`, { cause: e, retriable: (e as { retriable?: boolean })?.retriable ?? true });
  }
}

/** A kafkajs error that means the group is rebalancing (or this member left it). */
export function isRebalancing(e: unknown): boolean {
  const t = (e as { type?: string })?.type;
  return t === 'REBALANCE_IN_PROGRESS' || t === 'NOT_COORDINATOR_FOR_GROUP' || t === 'ILLEGAL_GENERATION' || t === 'UNKNOWN_MEMBER_ID';
}
