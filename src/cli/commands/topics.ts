/**
 * `posguard topics create|check`: the three input topics and the dead-letter
 * topic with one partition count (co-partitioned), and the check `run` does
 * at start-up; the compacted checkpoint topic (same partition count when
 * created; replication: --replication-factor if given, else the cluster's default).
 */
import type { Command } from 'commander';
import { PosguardError } from '../../errors.js';
import { checkKafkaAccess, createKafka } from '../../ingest/kafka/client.js';
import { checkStateTopic, createStateTopic } from '../../ingest/kafka/checkpoint/topic.js';
import { CARD_FACTS_RETENTION_MS, DEFAULT_TOPICS, checkCoPartitioned, createTopics, ensureCardFactsTopic, inputTopics, kafkaCall, partitionCounts, type TopicNames } from '../../ingest/kafka/topics.js';
import { addKafkaSecurityOptions, kafkaOptionsFrom } from './kafka-options.js';

export interface TopicsFlags {
  [flag: string]: unknown;
  brokers?: string;
  partitions?: string;
  replicationFactor?: string;
  terminalTopic?: string;
  gatewayTopic?: string;
  bankTopic?: string;
  dlqTopic?: string;
  stateTopic?: string;
  cardFactsTopic?: string;
}

/** A connected admin client: brokers and security from the flags, the environment or --config (as `run`). */
async function connectAdmin(flags: TopicsFlags, env: NodeJS.ProcessEnv) {
  const o = kafkaOptionsFrom(flags, env, 'posguard-topics');
  await checkKafkaAccess(o);
  const admin = createKafka(o).admin();
  await kafkaCall('connect', () => admin.connect());
  return admin;
}

function namesOf(flags: TopicsFlags): TopicNames {
  return {
    terminal: flags.terminalTopic ?? DEFAULT_TOPICS.terminal,
    gateway: flags.gatewayTopic ?? DEFAULT_TOPICS.gateway,
    bank: flags.bankTopic ?? DEFAULT_TOPICS.bank,
    dlq: flags.dlqTopic ?? DEFAULT_TOPICS.dlq,
    state: flags.stateTopic ?? DEFAULT_TOPICS.state,
    cardFacts: flags.cardFactsTopic ?? DEFAULT_TOPICS.cardFacts,
  };
}

function positiveInt(flag: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new PosguardError('PG_USAGE', `--${flag}: expected a positive integer, got "${v}"`);
  return n;
}

export async function topicsCreate(flags: TopicsFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const partitions = positiveInt('partitions', flags.partitions, 6);
  const rf = positiveInt('replication-factor', flags.replicationFactor, 1);
  const names = namesOf(flags);
  const admin = await connectAdmin(flags, env);
  try {
    const r = await createTopics(admin, names, partitions, rf);
    for (const t of r.created) process.stderr.write(`posguard topics: created ${t} (${partitions} partitions, replication factor ${rf})\n`);
    for (const t of r.existing) process.stderr.write(`posguard topics: ${t.topic} exists (${t.partitions} partitions), kept\n`);
    const cf = await ensureCardFactsTopic(admin, names.cardFacts, partitions, true, rf);
    process.stderr.write(cf.created
      ? `posguard topics: created ${names.cardFacts} (${partitions} partitions, replication factor ${rf}, retention ${CARD_FACTS_RETENTION_MS / 3_600_000} h)\n`
      : `posguard topics: ${names.cardFacts} exists (${cf.partitions} partitions), kept\n`);
    const explicitRf = flags.replicationFactor === undefined ? null : rf;
    const s = await createStateTopic(admin, names.state, partitions, explicitRf);
    const how = explicitRf === null ? 'the cluster\'s default replication factor' : 'replication factor';
    process.stderr.write(s.created
      ? `posguard topics: created ${names.state} (${s.info.partitions} partitions, ${how} ${s.replicationFactor}, cleanup.policy=compact)\n`
      : `posguard topics: ${names.state} exists (${s.info.partitions} partitions, cleanup.policy=${s.info.cleanupPolicy}), kept\n`);
  } finally {
    await admin.disconnect();
  }
}

export async function topicsCheck(flags: TopicsFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const names = namesOf(flags);
  const admin = await connectAdmin(flags, env);
  try {
    const counts = await partitionCounts(admin, [...inputTopics(names), names.dlq, names.cardFacts]);
    for (const [t, n] of counts) process.stdout.write(`${t}\t${n === null ? 'missing' : n}\n`);
    const n = await checkCoPartitioned(admin, names);
    process.stderr.write(`posguard topics: co-partitioned, ${n} partitions each\n`);
    const s = await checkStateTopic(admin, names.state);
    process.stdout.write(`${names.state}\t${s.partitions}\n`);
    process.stderr.write(`posguard topics: ${names.state} is compacted, max.message.bytes ${s.maxMessageBytes}\n`);
  } finally {
    await admin.disconnect();
  }
}

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('Create or check the Kafka topics posguard reads (co-partitioned) and writes.');
  const common = (c: Command) => addKafkaSecurityOptions(c
    .option('--config <file>', 'config file of `posguard run` (its kafka section is used)')
    .option('--brokers <list>', 'bootstrap brokers (env KAFKA_BROKERS; default 127.0.0.1:9092)'))
    .option('--terminal-topic <t>', `terminal topic (default ${DEFAULT_TOPICS.terminal})`)
    .option('--gateway-topic <t>', `gateway topic (default ${DEFAULT_TOPICS.gateway})`)
    .option('--bank-topic <t>', `bank-core topic (default ${DEFAULT_TOPICS.bank})`)
    .option('--dlq-topic <t>', `dead-letter topic (default ${DEFAULT_TOPICS.dlq})`)
    .option('--state-topic <t>', `compacted checkpoint topic (default ${DEFAULT_TOPICS.state})`)
    .option('--card-facts-topic <t>', `internal topic between the stages (default ${DEFAULT_TOPICS.cardFacts})`);
  common(topics.command('create').description('Create the three input topics and the dead-letter topic, each with --partitions partitions (existing ones with that count are kept), and the compacted checkpoint topic.'))
    .option('--partitions <n>', 'partitions per topic (default 6)')
    .option('--replication-factor <n>', 'replicas per partition (default 1; the checkpoint topic: the cluster\'s default.replication.factor)')
    .action(async (flags: TopicsFlags) => topicsCreate(flags));
  common(topics.command('check').description('Print the partition counts; fail with PG_COPARTITION unless the input topics are co-partitioned.'))
    .action(async (flags: TopicsFlags) => topicsCheck(flags));
}
