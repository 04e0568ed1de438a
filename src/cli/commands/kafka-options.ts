/**
 * The Kafka and registry security flags shared by every command that talks to
 * Kafka (run, topics, simulate --kafka), so one name means one thing
 * everywhere. Secrets have no flag (a command line is visible in `ps`): they
 * come from the environment or the config file (docs/kafka.md, Security).
 */
import type { Command } from 'commander';
import { loadKafkaSettings } from '../../config/run-config.js';
import { kafkaClientOptions, type KafkaClientOptions } from '../../ingest/kafka/client.js';
import type { RegistryOptions } from '../../ingest/kafka/registry.js';
import { redactUrl, registerSecret, registerUrlSecret } from '../../util/redact.js';

export function addKafkaSecurityOptions(c: Command): Command {
  return c
    .option('--kafka-ssl', 'TLS to the brokers, certificate verified (env KAFKA_SSL)')
    .option('--kafka-ssl-ca <file>', 'PEM CA that signed the brokers\' certificates; implies TLS (env KAFKA_SSL_CA)')
    .option('--kafka-ssl-cert <file>', 'PEM client certificate for mutual TLS, with --kafka-ssl-key (env KAFKA_SSL_CERT; key passphrase: env KAFKA_SSL_KEY_PASSPHRASE)')
    .option('--kafka-ssl-key <file>', 'PEM private key of --kafka-ssl-cert (env KAFKA_SSL_KEY)')
    .option('--kafka-sasl-mechanism <m>', 'plain, scram-sha-256 or scram-sha-512 (env KAFKA_SASL_MECHANISM; password: env KAFKA_SASL_PASSWORD)')
    .option('--kafka-sasl-username <user>', 'SASL user (env KAFKA_SASL_USERNAME)')
    .option('--allow-sasl-plaintext', 'allow SASL without TLS, sending the credentials unencrypted (refused otherwise; env KAFKA_ALLOW_SASL_PLAINTEXT)');
}

export function addRegistrySecurityOptions(c: Command): Command {
  return c
    .option('--registry-username <user>', 'registry basic-auth user (env SCHEMA_REGISTRY_USERNAME; password: env SCHEMA_REGISTRY_PASSWORD)')
    .option('--registry-ca <file>', 'PEM CA of an https registry (env SCHEMA_REGISTRY_CA)')
    .option('--registry-cert <file>', 'PEM client certificate for an https registry, with --registry-key (env SCHEMA_REGISTRY_CERT; key passphrase: env SCHEMA_REGISTRY_KEY_PASSPHRASE)')
    .option('--registry-key <file>', 'PEM private key of --registry-cert (env SCHEMA_REGISTRY_KEY)');
}

/** Kafka client options of a command other than `run`, from its flags, the environment and --config. */
export function kafkaOptionsFrom(flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv, clientId: string): KafkaClientOptions {
  const k = loadKafkaSettings({ flags, env, configFile: flags.config as string | undefined });
  return kafkaClientOptions(k, clientId);
}

/**
 * A password in --registry's userinfo sits on the command line, where `ps`
 * and shell history show it: one warning line (the password masked).
 */
export function warnPasswordOnCommandLine(url: unknown): void {
  if (typeof url !== 'string') return;
  let password = '';
  try {
    password = new URL(url).password;
  } catch {
    return; // not a URL: the configuration check says so
  }
  if (password === '') return;
  process.stderr.write(`posguard: warning: --registry ${redactUrl(url)} puts a password on the command line (visible in ps and shell history); give it in SCHEMA_REGISTRY_PASSWORD or the config file (input.registryPassword)\n`);
}

/** Registry options of `simulate --kafka`: --registry and the flags above, else the SCHEMA_REGISTRY_* variables. */
export function registryOptionsFrom(url: string, flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): RegistryOptions {
  const pick = (flag: string, name: string) => (flags[flag] as string | undefined) ?? (env[name]?.trim() || null);
  const o: RegistryOptions = {
    url,
    username: pick('registryUsername', 'SCHEMA_REGISTRY_USERNAME'),
    password: env.SCHEMA_REGISTRY_PASSWORD || null,
    caFile: pick('registryCa', 'SCHEMA_REGISTRY_CA'),
    certFile: pick('registryCert', 'SCHEMA_REGISTRY_CERT'),
    keyFile: pick('registryKey', 'SCHEMA_REGISTRY_KEY'),
    keyPassphrase: env.SCHEMA_REGISTRY_KEY_PASSPHRASE || null,
  };
  warnPasswordOnCommandLine(url);
  registerUrlSecret(url);
  registerSecret(o.password);
  registerSecret(o.keyPassphrase);
  return o;
}
