/** `posguard run` configuration: layers, validation naming field and source, conflicts, masking, freezing. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRunConfig, loadRunConfig } from '../../../src/config/run-config.js';
import { PosguardError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'posguard-run-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const fails = (fn: () => unknown): PosguardError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PosguardError);
    return e as PosguardError;
  }
  throw new Error('expected an error');
};

describe('run config', () => {
  it('has working defaults: local broker, registry-less Avro, embedded ClickHouse', () => {
    const { config, sources } = loadRunConfig({ env: {} });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.groupId).toBe('posguard');
    expect(config.topics).toEqual({ terminal: 'pos.terminal.events', gateway: 'pos.gateway.events', bank: 'bank.core.authorizations', dlq: 'posguard.dlq', state: 'posguard.state', cardFacts: 'posguard.card-facts' });
    expect(config.input.format).toBe('avro');
    expect(config.output.clickhouse.kind).toBe('embedded');
    expect(sources.get('kafka.brokers')).toBe('default');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true);
  });

  it('layers file < environment < flags, and says where each value came from', () => {
    const f = file('layers.yaml', 'kafka:\n  groupId: from-file\n  clientId: file-client\n  sessionTimeoutMs: 45000\ntopics:\n  dlq: file.dlq\nrun:\n  commitIntervalMs: 2000\n');
    const { config, sources } = loadRunConfig({
      configFile: f,
      env: { POSGUARD_GROUP_ID: 'from-env', KAFKA_BROKERS: 'a:9092, b:9093', SCHEMA_REGISTRY_URL: 'http://reg:8081/apis/ccompat/v7' },
      flags: { group: 'from-flag', commitIntervalMs: '750', untilEnd: true },
    });
    expect(config.kafka.groupId).toBe('from-flag');
    expect(config.kafka.clientId).toBe('file-client');
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(config.kafka.sessionTimeoutMs).toBe(45_000);
    expect(config.topics.dlq).toBe('file.dlq');
    expect(config.run.commitIntervalMs).toBe(750);
    expect(config.run.untilEnd).toBe(true);
    expect(config.input.format).toBe('confluent'); // a registry selects the wire format
    expect(sources.get('kafka.groupId')).toBe('flag --group');
    expect(sources.get('kafka.brokers')).toBe('env KAFKA_BROKERS');
    expect(sources.get('kafka.clientId')).toBe(`file ${f}`);
  });

  it('names the bad field and its source', () => {
    expect(fails(() => loadRunConfig({ env: {}, flags: { commitIntervalMs: 'soon' } })).message).toContain('run.commitIntervalMs (from flag --commit-interval-ms): expected an integer');
    expect(fails(() => loadRunConfig({ env: { KAFKA_SSL: 'maybe' } })).message).toContain('kafka.ssl (from env KAFKA_SSL): expected true or false');
    expect(fails(() => loadRunConfig({ env: {}, flags: { format: 'xml' } })).message).toMatch(/input\.format \(from flag --format\): expected one of confluent, avro, json/);
    expect(fails(() => loadRunConfig({ env: {}, configFile: file('typo.yaml', 'kafka:\n  grupId: x\n') })).message).toContain('kafka.grupId: unknown field');
    expect(fails(() => loadRunConfig({ env: {}, flags: { brokers: 'localhost' } })).message).toContain('kafka.brokers (from flag --brokers): expected host:port');
    expect(fails(() => loadRunConfig({ env: {}, flags: { bankTopic: 'bad topic!' } })).message).toContain('topics.bank (from flag --bank-topic): not a valid Kafka topic name');
  });

  it('refuses conflicting settings with advice', () => {
    expect(fails(() => loadRunConfig({ env: {}, flags: { sessionTimeoutMs: '6000', heartbeatIntervalMs: '3000' } })).message).toMatch(/heartbeatIntervalMs .*more than a third of kafka.sessionTimeoutMs/);
    expect(fails(() => loadRunConfig({ env: {}, flags: { format: 'confluent' } })).message).toMatch(/needs a schema registry: set --registry URL/);
    expect(fails(() => loadRunConfig({ env: { SCHEMA_REGISTRY_URL: 'http://r:8081' }, flags: { format: 'json' } })).message).toMatch(/input.registryUrl \(from env SCHEMA_REGISTRY_URL\): a registry is set but input.format is json/);
    expect(fails(() => loadRunConfig({ env: {}, flags: { dlqTopic: 'pos.gateway.events' } })).message).toContain('is also topics.gateway');
    expect(fails(() => loadRunConfig({ env: { CLICKHOUSE_URL: 'http://ch:8123' }, flags: { data: './d' } })).message).toContain('both --data ./d and CLICKHOUSE_URL are set');
  });

  it('prints every field with its source and never a secret', () => {
    const loaded = loadRunConfig({
      env: {
        KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'kafka-secret',
        SCHEMA_REGISTRY_URL: 'https://user:url-secret@registry.example/apis/ccompat/v7', SCHEMA_REGISTRY_PASSWORD: 'reg-secret',
        CLICKHOUSE_URL: 'https://ch.example:8443', CLICKHOUSE_PASSWORD: 'ch-secret',
      },
    });
    const text = describeRunConfig(loaded);
    for (const secret of ['kafka-secret', 'url-secret', 'reg-secret', 'ch-secret']) expect(text).not.toContain(secret);
    expect(text).toMatch(/kafka\.saslPassword\s+\*\*\*\s+\(env KAFKA_SASL_PASSWORD\)/);
    expect(text).toMatch(/input\.registryUrl\s+https:\/\/\*\*\*@registry\.example/);
    expect(text).toMatch(/kafka\.groupId\s+posguard\s+\(default\)/);
    expect(text).toContain('ClickHouse https://ch.example:8443');
  });
});

describe('docs/kafka.md', () => {
  it('documents every field, flag and environment variable of the run config', async () => {
    const { readFileSync } = await import('node:fs');
    const { RUN_CONFIG_SCHEMA, RUN_ENV, RUN_FLAGS } = await import('../../../src/config/run-config.js');
    const doc = readFileSync(new URL('../../../docs/kafka.md', import.meta.url), 'utf8');
    const missing: string[] = [];
    for (const [sec, def] of Object.entries(RUN_CONFIG_SCHEMA.properties)) {
      for (const f of Object.keys(def.properties)) if (!doc.includes(`\`${sec}.${f}\``)) missing.push(`${sec}.${f}`);
    }
    for (const [name] of RUN_ENV) if (!doc.includes(`\`${name}\``)) missing.push(name);
    for (const [name] of RUN_FLAGS) {
      const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      if (!doc.includes(`\`${flag}\``)) missing.push(flag);
    }
    expect(missing).toEqual([]);
  });
});
