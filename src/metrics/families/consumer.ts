/**
 * Kafka consumption (`posguard run`), per topic and partition, computed at
 * scrape time by the consumer's callback: the lag (log-end offset − this
 * process's position, partitions it holds) and the commit trail (log-end −
 * committed, which trails the input by design); group rebalances, and how
 * many partitions this member holds (0 = a standby under the exact assignment).
 */
import { Counter, type Registry } from 'prom-client';
import { scrapedGauge } from '../scrape.js';
import type { ConsumerLagSource, PartitionLag } from '../sources.js';

export interface ConsumerMetrics {
  /** Call on every group rebalance (kafkajs consumer.events.GROUP_JOIN), with the partition numbers now held. */
  rebalance(assignedPartitions?: number): void;
}

export function registerConsumerMetrics(registry: Registry, lag: ConsumerLagSource | undefined, onError: (e: unknown) => void): ConsumerMetrics {
  // Each gauge fetches on its own: two small admin requests per scrape, and no stale value shared between scrapes.
  const fetch = async (): Promise<Iterable<PartitionLag> | undefined> => {
    if (lag === undefined) return undefined;
    try {
      return await lag();
    } catch (e) {
      // No series rather than a failed scrape: the other metrics still matter, and a
      // lag series that goes stale is itself visible (absent() in the alert).
      onError(e);
      return undefined;
    }
  };
  scrapedGauge({
    registry,
    name: 'posguard_consumer_lag_messages',
    help: 'Messages not yet read, per topic and partition this process holds (log-end offset − the consumer position), computed at scrape time.',
    labelNames: ['topic', 'partition'],
    read: async () => {
      const parts = await fetch();
      return parts && [...parts].filter((p) => p.lag !== null).map((p) => [{ topic: p.topic, partition: String(p.partition) }, p.lag as number] as const);
    },
  });
  scrapedGauge({
    registry,
    name: 'posguard_consumer_commit_trail_messages',
    help: 'Messages between the committed offset and the log end, per topic and partition (what a restart re-reads; trails the input by design), computed at scrape time.',
    labelNames: ['topic', 'partition'],
    read: async () => {
      const parts = await fetch();
      return parts && [...parts].filter((p) => p.commitTrail !== undefined).map((p) => [{ topic: p.topic, partition: String(p.partition) }, p.commitTrail as number] as const);
    },
  });
  const rebalances = new Counter({
    name: 'posguard_consumer_rebalances_total',
    help: 'Consumer group rebalances this process took part in.',
    registers: [registry],
  });
  let assigned: number | null = null;
  scrapedGauge({
    registry,
    name: 'posguard_consumer_assigned_partitions',
    help: 'Partition numbers this member holds since its last rebalance (0: standing by; under the exact assignment one member holds them all).',
    labelNames: [],
    read: async () => (assigned === null ? undefined : [[{}, assigned] as const]),
  });
  return {
    rebalance: (n?: number) => {
      rebalances.inc();
      if (n !== undefined) assigned = n;
    },
  };
}
