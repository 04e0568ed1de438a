/**
 * What the Kafka benches share (bench/kafka.ts, bench/recovery.ts,
 * bench/peer-compare.ts): the brokers, client options, a run's own topics and
 * the printed table. A module of its own: bench/kafka.ts is also the entry
 * point that loads the others, and a module they imported from it would wait
 * on its top-level await (node exits 13, a deadlock).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_ENV, loadKafkaSettings } from '../src/config/run-config.js';
import { kafkaClientOptions, type KafkaClientOptions } from '../src/ingest/kafka/client.js';
import type { TopicNames } from '../src/ingest/kafka/topics.js';

/** The benches' one table (bench/engine.ts prints it too). */
export { printTable, type Row } from './engine.js';

export function servicesEnv(): Map<string, string> {
  const file = join(process.env.POSGUARD_SERVICES_DIR || '/tmp/posguard-services', 'services.env');
  if (!existsSync(file)) return new Map();
  return new Map(readFileSync(file, 'utf8').split('\n').map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m![1], m![2]] as const));
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** The brokers to bench against: KAFKA_BROKERS, else the local services' services.env. */
export function benchBrokers(): string {
  const brokers = process.env.KAFKA_BROKERS ?? servicesEnv().get('KAFKA_BROKERS');
  if (!brokers) throw new Error('bench:kafka needs a broker: npm run services:up (or set KAFKA_BROKERS)');
  return brokers;
}

/** A run's own topics, under its prefix: nothing else reads or writes them, and they are deleted at the end. */
export function benchTopics(prefix: string): TopicNames {
  return { terminal: `${prefix}.pos.terminal.events`, gateway: `${prefix}.pos.gateway.events`, bank: `${prefix}.bank.core.authorizations`, dlq: `${prefix}.posguard.dlq`, state: `${prefix}.posguard.state`, cardFacts: `${prefix}.posguard.card-facts` };
}

/** The KAFKA_* security variables of this process (TLS, SASL), for the run config of a child. */
export function kafkaEnv(): Record<string, string | undefined> {
  return Object.fromEntries(RUN_ENV.filter(([name, path]) => path.startsWith('kafka.') && name !== 'KAFKA_BROKERS').map(([name]) => [name, process.env[name]]));
}

export function kafkaOptions(brokers: string): KafkaClientOptions {
  return { ...kafkaClientOptions(loadKafkaSettings({ env: kafkaEnv(), flags: { brokers } }), 'posguard-bench'), logLevel: 'error' };
}
