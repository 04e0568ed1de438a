/**
 * Kafka consumption (`posguard run`): lag per topic and partition, computed
 * at scrape time by the consumer's callback (log-end offset − committed
 * offset), group rebalances, and how many partitions this member holds
 * (0 = a standby under the exact assignment).
 */
import { Counter, type Registry } from 'prom-client';
import { scrapedGauge } from '../scrape.js';
import type { ConsumerLagSource } from '../sources.js';

export interface ConsumerMetrics {
  /** Call on every group rebalance (kafkajs consumer.events.GROUP_JOIN), with the partition numbers now held. */
  rebalance(assignedPartitions?: number): void;
}

export function registerConsumerMetrics(registry: Registry, lag: ConsumerLagSource | undefined, onError: (e: unknown) => void): ConsumerMetrics {
  scrapedGauge({
    registry,
    name: 'posguard_consumer_lag_messages',
    help: 'Messages not yet consumed, per topic and partition (log-end offset − committed offset), computed at scrape time.',
    labelNames: ['topic', 'partition'],
    read: async () => {
      if (lag === undefined) return undefined;
      try {
        const parts = await lag();
        return [...parts].map((p) => [{ topic: p.topic, partition: String(p.partition) }, p.lag] as const);
      } catch (e) {
        // No series rather than a failed scrape: the other metrics still matter, and a
        // lag series that goes stale is itself visible (absent() in the alert).
        onError(e);
        return undefined;
      }
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
