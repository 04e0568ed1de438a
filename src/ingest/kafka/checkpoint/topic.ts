/**
 * The state topic (default `posguard.state`): compacted, one partition per
 * input partition, replicated as the cluster's default unless told otherwise
 * (docs/kafka.md, "Checkpoints"). Created by `posguard topics create`; the
 * store checks it when it opens and reads its message limit, which sets the
 * largest chunk.
 */
import type { Admin, ConfigResourceTypes } from 'kafkajs';
import { PosguardError } from '../../../errors.js';
import { kafkaCall, partitionCounts } from '../topics.js';

// Kafka's config resource types (kafkajs' ConfigResourceTypes, which Node's ESM cannot import by name from kafkajs).
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;
const BROKER_RESOURCE = 4 as ConfigResourceTypes;

/**
 * The topic's settings. Safety does not rest on them (two slots: the latest
 * complete checkpoint is never the older version of a key, so the cleaner
 * cannot remove it, whatever its lag); they bound the space. Segments roll
 * every 10 min so overwritten slots become cleanable soon; tombstones of
 * chunks a smaller checkpoint no longer needs live a day.
 */
export const STATE_TOPIC_CONFIG: Readonly<Record<string, string>> = Object.freeze({
  'cleanup.policy': 'compact',
  'segment.ms': String(10 * 60_000),
  'segment.bytes': String(256 * 1024 * 1024),
  'min.cleanable.dirty.ratio': '0.5',
  'min.compaction.lag.ms': '0',
  'delete.retention.ms': String(24 * 3600_000),
});

export interface StateTopicInfo {
  readonly partitions: number;
  readonly cleanupPolicy: string;
  /** The largest record batch the topic accepts (its max.message.bytes, else the broker's). */
  readonly maxMessageBytes: number;
}

/** The cluster's default.replication.factor, at most the number of brokers. */
export async function clusterReplicationFactor(admin: Admin): Promise<number> {
  const cluster = await kafkaCall('describe the cluster', () => admin.describeCluster());
  const broker = cluster.brokers[0];
  const cfg = await kafkaCall('read the broker configuration', () => admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: BROKER_RESOURCE, name: String(broker.nodeId), configNames: ['default.replication.factor'] }],
  }));
  const v = Number(cfg.resources[0]?.configEntries.find((e) => e.configName === 'default.replication.factor')?.configValue ?? 1);
  return Math.max(1, Math.min(Number.isInteger(v) ? v : 1, cluster.brokers.length));
}

/**
 * Creates the state topic when missing; an existing one is checked, never changed.
 * `replicationFactor` null: the cluster's default.
 */
export async function createStateTopic(admin: Admin, topic: string, partitions: number, replicationFactor: number | null): Promise<{ created: boolean; info: StateTopicInfo; replicationFactor: number | null }> {
  const exists = (await partitionCounts(admin, [topic])).get(topic) !== null;
  if (exists) return { created: false, info: await checkStateTopic(admin, topic), replicationFactor: null };
  const rf = replicationFactor ?? (await clusterReplicationFactor(admin));
  await kafkaCall(`create ${topic}`, () => admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: partitions, replicationFactor: rf, configEntries: Object.entries(STATE_TOPIC_CONFIG).map(([name, value]) => ({ name, value })) }],
  }));
  return { created: true, info: await checkStateTopic(admin, topic), replicationFactor: rf };
}

/**
 * Refuses a missing state topic, or one that is not compacted (retention
 * would delete the checkpoint of a quiet partition); returns its partitions
 * and message limit.
 */
export async function checkStateTopic(admin: Admin, topic: string): Promise<StateTopicInfo> {
  const partitions = (await partitionCounts(admin, [topic])).get(topic) ?? null;
  if (partitions === null) {
    throw new PosguardError('PG_STATE_TOPIC', `the state topic ${topic} does not exist; create it with \`posguard topics create\` (compacted, one partition per input partition)`);
  }
  const cfg = await kafkaCall(`read the configuration of ${topic}`, () => admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['cleanup.policy', 'max.message.bytes'] }],
  }));
  const entries = cfg.resources[0]?.configEntries ?? [];
  const value = (name: string): string | undefined => entries.find((e) => e.configName === name)?.configValue;
  const cleanupPolicy = value('cleanup.policy') ?? 'delete';
  const policies = cleanupPolicy.split(',').map((s) => s.trim());
  if (!policies.includes('compact') || policies.includes('delete')) {
    throw new PosguardError('PG_STATE_TOPIC', `the state topic ${topic} has cleanup.policy=${cleanupPolicy}: it must be compact alone, or retention deletes the checkpoint of a quiet partition (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config cleanup.policy=compact)`);
  }
  const maxMessageBytes = Number(value('max.message.bytes') ?? 1_048_588);
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1024) {
    throw new PosguardError('PG_STATE_TOPIC', `the state topic ${topic} has max.message.bytes=${value('max.message.bytes')}: too small for a checkpoint chunk`);
  }
  return { partitions, cleanupPolicy, maxMessageBytes };
}
