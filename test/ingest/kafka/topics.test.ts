/**
 * `posguard topics create|check` and the co-partitioning check of `run`
 * against the real broker: equal counts are created, unequal ones refused
 * with PG_COPARTITION and a message that says what to do; the start-up
 * print never shows a secret.
 */
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import { createTestTopics, deleteTestTopics, describeKafka, runCli, uniqueGroup, uniqueTopics } from './helpers.js';

describeKafka('posguard topics and the co-partitioning check', (env) => {
  const made: string[] = [];
  afterAll(async () => {
    await deleteTestTopics(env.brokers, made);
  });

  const topicFlags = (t: ReturnType<typeof uniqueTopics>) => ['--terminal-topic', t.terminal, '--gateway-topic', t.gateway, '--bank-topic', t.bank, '--dlq-topic', t.dlq, '--state-topic', t.state, '--card-facts-topic', t.cardFacts];

  it('creates the three input topics and the dead-letter topic with one partition count, and keeps them on a second call', async () => {
    const t = uniqueTopics('create');
    made.push(t.terminal, t.gateway, t.bank, t.dlq, t.state, t.cardFacts);
    const first = await runCli(['topics', 'create', '--brokers', env.brokers, '--partitions', '3', ...topicFlags(t)]);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain(`created ${t.terminal} (3 partitions`);
    const again = await runCli(['topics', 'create', '--brokers', env.brokers, '--partitions', '3', ...topicFlags(t)]);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(`${t.bank} exists (3 partitions), kept`);
    const admin = createKafka({ brokers: env.brokers.split(','), clientId: 'posguard-test', logLevel: 'error' }).admin();
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: [t.terminal, t.gateway, t.bank, t.dlq, t.state] });
    const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: t.state, configNames: ['cleanup.policy', 'segment.ms'] }] });
    const cfCfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: t.cardFacts, configNames: ['cleanup.policy', 'retention.ms'] }] });
    const cfParts = (await admin.fetchTopicMetadata({ topics: [t.cardFacts] })).topics[0].partitions.length;
    await admin.disconnect();
    expect(md.topics.map((x) => x.partitions.length)).toEqual([3, 3, 3, 3, 3]);
    // The checkpoint topic: compacted, created with the settings of STATE_TOPIC_CONFIG, replicated as the cluster's default (1 here).
    const entries = Object.fromEntries(cfg.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries).toEqual({ 'cleanup.policy': 'compact', 'segment.ms': '600000' });
    expect(first.output).toContain(`created ${t.state} (3 partitions, the cluster's default replication factor 1, cleanup.policy=compact)`);
    expect(again.output).toContain(`${t.state} exists (3 partitions, cleanup.policy=compact), kept`);
    // The card-facts topic (issue 14): as many partitions, deleting after 26 h (the longest card look-back and room).
    expect(cfParts).toBe(3);
    expect(Object.fromEntries(cfCfg.resources[0].configEntries.map((e) => [e.configName, e.configValue]))).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': String(26 * 3600 * 1000) });
    expect(first.output).toContain(`created ${t.cardFacts} (3 partitions, replication factor 1, retention 26 h)`);
    expect(again.output).toContain(`${t.cardFacts} exists (3 partitions), kept`);
    const check = await runCli(['topics', 'check', '--brokers', env.brokers, ...topicFlags(t)]);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toContain('co-partitioned, 3 partitions each');
    expect(check.output).toContain(`${t.state} is compacted, max.message.bytes `);
    // A different count for existing topics is refused, never applied.
    const other = await runCli(['topics', 'create', '--brokers', env.brokers, '--partitions', '5', ...topicFlags(t)]);
    expect(other.code).toBe(2);
    expect(other.output).toContain('PG_COPARTITION');
  });

  it('topics check refuses a state topic that is missing or not compacted (retention would delete checkpoints), with PG_STATE_TOPIC', async () => {
    const t = uniqueTopics('state');
    made.push(t.terminal, t.gateway, t.bank, t.dlq, t.state);
    await createTestTopics(env.brokers, { [t.terminal]: 2, [t.gateway]: 2, [t.bank]: 2, [t.dlq]: 2 });
    const missing = await runCli(['topics', 'check', '--brokers', env.brokers, ...topicFlags(t)]);
    expect(missing.code, missing.output).toBe(2);
    expect(missing.output).toContain(`posguard: PG_STATE_TOPIC: the state topic ${t.state} does not exist`);
    await createTestTopics(env.brokers, { [t.state]: 2 });
    const deleting = await runCli(['topics', 'check', '--brokers', env.brokers, ...topicFlags(t)]);
    expect(deleting.code, deleting.output).toBe(2);
    expect(deleting.output).toContain(`posguard: PG_STATE_TOPIC: the state topic ${t.state} has cleanup.policy=delete`);
  });

  it('refuses to run on input topics with unequal partition counts, saying which and what to do', async () => {
    const t = uniqueTopics('unequal');
    made.push(t.terminal, t.gateway, t.bank, t.dlq);
    await createTestTopics(env.brokers, { [t.terminal]: 2, [t.gateway]: 3, [t.bank]: 2 });
    const started = Date.now();
    const r = await runCli(['run', '--brokers', env.brokers, '--format', 'avro', '--group', uniqueGroup('unequal'), ...topicFlags(t)], { SCHEMA_REGISTRY_URL: '' });
    expect(r.code, r.output).toBe(2);
    expect(r.output).toContain('posguard: PG_COPARTITION: the input topics are not co-partitioned');
    expect(r.output).toContain(`${t.terminal}: 2, ${t.gateway}: 3, ${t.bank}: 2`);
    expect(r.output).toMatch(/same partition count/);
    expect(Date.now() - started).toBeLessThan(30_000);
    const check = await runCli(['topics', 'check', '--brokers', env.brokers, ...topicFlags(t)]);
    expect(check.code).toBe(2);
    expect(check.output).toContain('PG_COPARTITION');
  });

  it('refuses missing input topics with PG_KAFKA and prints its configuration with secrets masked first', async () => {
    const t = uniqueTopics('missing');
    const r = await runCli(['run', '--brokers', env.brokers, '--group', uniqueGroup('missing'), ...topicFlags(t)], {
      SCHEMA_REGISTRY_URL: 'http://reg-user:reg-secret@127.0.0.1:1/apis/ccompat/v7',
      SCHEMA_REGISTRY_PASSWORD: 'another-secret',
    });
    expect(r.code, r.output).toBe(2);
    expect(r.output).toContain('PG_KAFKA');
    expect(r.output).toContain('posguard topics create');
    expect(r.output).toMatch(/input\.registryPassword\s+\*\*\*\s+\(env SCHEMA_REGISTRY_PASSWORD\)/);
    expect(r.output).toMatch(/input\.format\s+confluent/);
    expect(r.output).not.toContain('reg-secret');
    expect(r.output).not.toContain('another-secret');
  });
});
