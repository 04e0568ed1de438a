/**
 * The checks of `posguard run`'s settings that span fields (run after the schema):
 * conflicts fail at once with advice, and the two derived settings are filled in
 * (input.format from the registry, kafka.ssl from the TLS files).
 */
import type { PosguardError } from '../errors.js';
import type { RunConfig, ValueFormatSetting } from './run-config.js';

export type Bad = (field: string, msg: string) => PosguardError;

/** The config as validated by the schema, before the ClickHouse target is resolved. */
type Unresolved = Omit<RunConfig, 'output'> & { output: Omit<RunConfig['output'], 'clickhouse'> };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function checkRunConfig(c: Unresolved, bad: Bad): void {
  checkKafka(c.kafka, bad);
  checkKafkaSecurity(c.kafka, bad);
  checkInput(c, bad);
  checkTopics(c.topics, bad);
  checkRunAndOutput(c, bad);
}

function checkKafka(k: Unresolved['kafka'], bad: Bad): void {
  // kafkajs' own rule for heartbeats.
  if (k.heartbeatIntervalMs * 3 > k.sessionTimeoutMs) {
    throw bad('kafka.heartbeatIntervalMs', `${k.heartbeatIntervalMs} ms is more than a third of kafka.sessionTimeoutMs (${k.sessionTimeoutMs} ms): a member could be dropped between two heartbeats; lower it or raise the session timeout`);
  }
  if (k.rebalanceTimeoutMs < k.sessionTimeoutMs) {
    throw bad('kafka.rebalanceTimeoutMs', `${k.rebalanceTimeoutMs} ms is below kafka.sessionTimeoutMs (${k.sessionTimeoutMs} ms)`);
  }
  for (const b of k.brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)) throw bad('kafka.brokers', `expected host:port, got ${JSON.stringify(b)}`);
  }
}

/** Kafka TLS/SASL settings that only make sense together; SASL without TLS only when allowed by name. */
function checkKafkaSecurity(k: Unresolved['kafka'], bad: Bad): void {
  const w = k as { ssl: boolean };
  if ((k.saslMechanism === null) !== (k.saslUsername === null)) {
    throw bad('kafka.saslMechanism', 'set the SASL mechanism and user together (or neither)');
  }
  if (k.saslMechanism !== null && k.saslPassword === null) {
    throw bad('kafka.saslPassword', `SASL ${k.saslMechanism} needs a password: set KAFKA_SASL_PASSWORD or kafka.saslPassword in the config file`);
  }
  if ((k.sslCertFile === null) !== (k.sslKeyFile === null)) {
    throw bad(k.sslCertFile === null ? 'kafka.sslKeyFile' : 'kafka.sslCertFile', 'mutual TLS needs the client certificate and its key together (kafka.sslCertFile and kafka.sslKeyFile)');
  }
  if (k.sslCaFile !== null || k.sslCertFile !== null) w.ssl = true;
  if (k.saslMechanism !== null && !k.ssl && !k.allowSaslPlaintext) {
    throw bad('kafka.saslMechanism', `SASL ${k.saslMechanism} over plaintext would send the ${k.saslMechanism === 'plain' ? 'password' : 'SCRAM exchange'} unencrypted: enable TLS (--kafka-ssl, KAFKA_SSL=true or kafka.ssl), or allow it explicitly with --allow-sasl-plaintext (KAFKA_ALLOW_SASL_PLAINTEXT=true)`);
  }
}

function checkInput(c: Unresolved, bad: Bad): void {
  const input = c.input as { format: ValueFormatSetting | null; registryUrl: string | null };
  if (input.format === null) input.format = input.registryUrl !== null ? 'confluent' : 'avro';
  if (input.format === 'confluent' && input.registryUrl === null) {
    throw bad('input.format', 'confluent wire format needs a schema registry: set --registry URL (or SCHEMA_REGISTRY_URL), or choose --format avro|json for registry-less input');
  }
  if (input.format !== 'confluent' && input.registryUrl !== null) {
    throw bad('input.registryUrl', `a registry is set but input.format is ${input.format}: drop the registry, or use --format confluent`);
  }
  if (input.registryUrl !== null) {
    let u: URL;
    try {
      u = new URL(input.registryUrl);
    } catch {
      throw bad('input.registryUrl', 'not a URL (value not shown: it may hold credentials)');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad('input.registryUrl', `expected http(s)://, got ${u.protocol}`);
    const tls = (['registryCaFile', 'registryCertFile', 'registryKeyFile'] as const).find((f) => c.input[f] !== null);
    if (tls !== undefined && u.protocol !== 'https:') throw bad(`input.${tls}`, 'TLS settings for the registry need an https:// registry URL');
  }
  if ((c.input.registryCertFile === null) !== (c.input.registryKeyFile === null)) {
    throw bad('input.registryCertFile', 'set the registry client certificate and its key together (or neither)');
  }
}

function checkTopics(t: Unresolved['topics'], bad: Bad): void {
  const seen = new Map<string, string>();
  for (const k of ['terminal', 'gateway', 'bank', 'dlq', 'state', 'cardFacts'] as const) {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(t[k])) throw bad(`topics.${k}`, `not a valid Kafka topic name: ${JSON.stringify(t[k])}`);
    if (seen.has(t[k])) throw bad(`topics.${k}`, `${t[k]} is also topics.${seen.get(t[k])}`);
    seen.set(t[k], k);
  }
}

function checkRunAndOutput(c: Unresolved, bad: Bad): void {
  if ((c.run.metricsUsername === null) !== (c.run.metricsPassword === null)) {
    throw bad('run.metricsUsername', 'set the metrics basic-auth user and password together (or neither)');
  }
  // posguard serves plain HTTP: basic auth there would send the password in clear across the network.
  if (c.run.metricsUsername !== null && !LOOPBACK_HOSTS.has(c.run.metricsHost)) {
    throw bad('run.metricsHost', `basic auth on /metrics needs a loopback address (127.0.0.1, ::1, localhost), not ${c.run.metricsHost}: posguard serves plain HTTP, so put a TLS proxy on the same host in front of it (docs/security.md), or drop basic auth`);
  }
  if (c.output.sinkHighWaterRows < c.output.sinkBatchRows) {
    throw bad('output.sinkHighWaterRows', `${c.output.sinkHighWaterRows} is below output.sinkBatchRows (${c.output.sinkBatchRows})`);
  }
}
