/**
 * The checkpoint store of `posguard run`, opened at start: the state topic
 * is created (compacted, one partition per input partition, the cluster's
 * replication) when missing and `run.createStateTopic` allows it, then
 * checked by the store's open() (PG_STATE_TOPIC when missing or not compacted).
 */
import type { Admin, Kafka } from 'kafkajs';
import type { RunConfig } from '../../../config/run-config.js';
import type { Logger } from '../../../util/log.js';
import type { CheckpointObserver, CheckpointStore } from '../../checkpoint-store.js';
import { partitionCounts } from '../topics.js';
import { KafkaCheckpointStore } from './store.js';
import { createStateTopic } from './topic.js';

export interface OpenStateStoreOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly config: RunConfig;
  /** The run's "checkpoint" logger. The store's own per-key lines are kept to errors: the restore logs one line for all keys. */
  readonly log: Logger;
  readonly now: () => number;
  readonly observer?: CheckpointObserver;
}

export async function openStateStore(o: OpenStateStoreOptions): Promise<CheckpointStore> {
  const topic = o.config.topics.state;
  if ((await partitionCounts(o.admin, [topic])).get(topic) === null && o.config.run.createStateTopic) {
    const inputs = (await partitionCounts(o.admin, [o.config.topics.terminal])).get(o.config.topics.terminal) ?? 1;
    const r = await createStateTopic(o.admin, topic, inputs, null);
    if (r.created) o.log.info(`created the state topic ${topic} (compacted, ${inputs} partitions, replication ${r.replicationFactor})`);
  }
  const store = new KafkaCheckpointStore({ kafka: o.kafka, topic, observer: o.observer, log: o.log.child({}, { level: 'error' }), now: o.now });
  await store.open();
  return store;
}
