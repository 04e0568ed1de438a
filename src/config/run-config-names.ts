/**
 * Where the settings of `posguard run` can come from: the environment variables
 * and command-line flags that set each field, and which fields are secrets.
 * Kept apart from run-config.ts (the loader) so the names read as one table.
 */
/** Fields whose values never appear in logs or messages. */
export const SECRETS = new Set(['kafka.saslPassword', 'kafka.sslKeyPassphrase', 'input.registryPassword', 'input.registryKeyPassphrase', 'run.metricsPassword']);

export type Kind = 'string' | 'list' | 'int' | 'bool';

/** Environment variables, the field each sets, and how to read it. */
export const RUN_ENV: readonly (readonly [string, string, Kind])[] = [
  ['KAFKA_BROKERS', 'kafka.brokers', 'list'],
  ['KAFKA_CLIENT_ID', 'kafka.clientId', 'string'],
  ['POSGUARD_GROUP_ID', 'kafka.groupId', 'string'],
  ['POSGUARD_ASSIGNMENT', 'kafka.assignment', 'string'],
  ['KAFKA_SSL', 'kafka.ssl', 'bool'],
  ['KAFKA_SSL_CA', 'kafka.sslCaFile', 'string'],
  ['KAFKA_SSL_CERT', 'kafka.sslCertFile', 'string'],
  ['KAFKA_SSL_KEY', 'kafka.sslKeyFile', 'string'],
  ['KAFKA_SSL_KEY_PASSPHRASE', 'kafka.sslKeyPassphrase', 'string'],
  ['KAFKA_SASL_MECHANISM', 'kafka.saslMechanism', 'string'],
  ['KAFKA_SASL_USERNAME', 'kafka.saslUsername', 'string'],
  ['KAFKA_SASL_PASSWORD', 'kafka.saslPassword', 'string'],
  ['KAFKA_ALLOW_SASL_PLAINTEXT', 'kafka.allowSaslPlaintext', 'bool'],
  ['POSGUARD_TOPIC_TERMINAL', 'topics.terminal', 'string'],
  ['POSGUARD_TOPIC_GATEWAY', 'topics.gateway', 'string'],
  ['POSGUARD_TOPIC_BANK', 'topics.bank', 'string'],
  ['POSGUARD_TOPIC_DLQ', 'topics.dlq', 'string'],
  ['POSGUARD_TOPIC_STATE', 'topics.state', 'string'],
  ['POSGUARD_TOPIC_CARD_FACTS', 'topics.cardFacts', 'string'],
  ['POSGUARD_INPUT_FORMAT', 'input.format', 'string'],
  ['SCHEMA_REGISTRY_URL', 'input.registryUrl', 'string'],
  ['SCHEMA_REGISTRY_USERNAME', 'input.registryUsername', 'string'],
  ['SCHEMA_REGISTRY_PASSWORD', 'input.registryPassword', 'string'],
  ['SCHEMA_REGISTRY_CA', 'input.registryCaFile', 'string'],
  ['SCHEMA_REGISTRY_CERT', 'input.registryCertFile', 'string'],
  ['SCHEMA_REGISTRY_KEY', 'input.registryKeyFile', 'string'],
  ['SCHEMA_REGISTRY_KEY_PASSPHRASE', 'input.registryKeyPassphrase', 'string'],
  ['POSGUARD_DATA', 'output.dataDir', 'string'],
  ['POSGUARD_RULES', 'run.rulesFile', 'string'],
  ['POSGUARD_METRICS_PORT', 'run.metricsPort', 'int'],
  ['POSGUARD_CHECKPOINT_INTERVAL_MS', 'run.checkpointIntervalMs', 'int'],
  ['POSGUARD_ALIGN_AHEAD_MS', 'run.alignAheadMs', 'int'],
  ['POSGUARD_METRICS_HOST', 'run.metricsHost', 'string'],
  ['POSGUARD_METRICS_USERNAME', 'run.metricsUsername', 'string'],
  ['POSGUARD_METRICS_PASSWORD', 'run.metricsPassword', 'string'],
];

/**
 * Flags of every command that talks to Kafka (run, topics, simulate --kafka). Secrets
 * (passwords, passphrases) have no flag: a command line is visible to every user of the
 * host (ps); they come from the environment or the config file.
 */
export const KAFKA_FLAGS: readonly (readonly [string, string, Kind])[] = [
  ['brokers', 'kafka.brokers', 'list'],
  ['kafkaSsl', 'kafka.ssl', 'bool'],
  ['kafkaSslCa', 'kafka.sslCaFile', 'string'],
  ['kafkaSslCert', 'kafka.sslCertFile', 'string'],
  ['kafkaSslKey', 'kafka.sslKeyFile', 'string'],
  ['kafkaSaslMechanism', 'kafka.saslMechanism', 'string'],
  ['kafkaSaslUsername', 'kafka.saslUsername', 'string'],
  ['allowSaslPlaintext', 'kafka.allowSaslPlaintext', 'bool'],
];

/** Command-line flags of `posguard run` (commander's camelCase keys) and the field each sets. */
export const RUN_FLAGS: readonly (readonly [string, string, Kind])[] = [
  ...KAFKA_FLAGS,
  ['group', 'kafka.groupId', 'string'],
  ['assignment', 'kafka.assignment', 'string'],
  ['clientId', 'kafka.clientId', 'string'],
  ['sessionTimeoutMs', 'kafka.sessionTimeoutMs', 'int'],
  ['heartbeatIntervalMs', 'kafka.heartbeatIntervalMs', 'int'],
  ['maxBytesPerPartition', 'kafka.maxBytesPerPartition', 'int'],
  ['terminalTopic', 'topics.terminal', 'string'],
  ['gatewayTopic', 'topics.gateway', 'string'],
  ['bankTopic', 'topics.bank', 'string'],
  ['dlqTopic', 'topics.dlq', 'string'],
  ['stateTopic', 'topics.state', 'string'],
  ['cardFactsTopic', 'topics.cardFacts', 'string'],
  ['format', 'input.format', 'string'],
  ['registry', 'input.registryUrl', 'string'],
  ['registryUsername', 'input.registryUsername', 'string'],
  ['registryCa', 'input.registryCaFile', 'string'],
  ['registryCert', 'input.registryCertFile', 'string'],
  ['registryKey', 'input.registryKeyFile', 'string'],
  ['data', 'output.dataDir', 'string'],
  ['skipRawEvents', 'output.skipRawEvents', 'bool'],
  ['rules', 'run.rulesFile', 'string'],
  ['commitIntervalMs', 'run.commitIntervalMs', 'int'],
  ['checkpointIntervalMs', 'run.checkpointIntervalMs', 'int'],
  ['idleTimeoutMs', 'run.idleTimeoutMs', 'int'],
  ['alignAheadMs', 'run.alignAheadMs', 'int'],
  ['shutdownTimeoutMs', 'run.shutdownTimeoutMs', 'int'],
  ['untilEnd', 'run.untilEnd', 'bool'],
  ['statusIntervalMs', 'run.statusIntervalMs', 'int'],
  ['metricsPort', 'run.metricsPort', 'int'],
  ['suppressionsReloadMs', 'run.suppressionsReloadMs', 'int'],
  ['metricsHost', 'run.metricsHost', 'string'],
  ['quietAfterMs', 'feeds.quietAfterMs', 'int'],
  ['stallAlertAfterMs', 'feeds.stallAlertAfterMs', 'int'],
  ['stallReleaseMs', 'feeds.stallReleaseMs', 'int'],
];
