/**
 * Kafka consumption (`posguard run`): lag per topic and partition, computed
 * at scrape time by the consumer's callback (log-end offset − committed
 * offset), and group rebalances.
 */
import { Counter, type Registry } from 'prom-client';
import { scrapedGauge } from '../scrape.js';
import type { ConsumerLagSource } from '../sources.js';

export interface ConsumerMetrics {
  /** Call on every group rebalance (kafkajs consumer.events.GROUP_JOIN). */
  rebalance(): void;
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
  return { rebalance: () => rebalances.inc() };
}
