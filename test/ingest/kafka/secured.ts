/**
 * The secured listeners of the local broker (deploy/local/kafka.sh): SASL_SSL
 * (PLAIN, SCRAM-SHA-256/512 over TLS) and mTLS (client certificate required),
 * their test CA, client certificate and test users, from the environment or
 * the services.env of `npm run services:up`. Missing: skipped locally, a
 * failure in CI (like helpers.ts' describeKafka).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { KAFKA_ENV, type KafkaTestEnv } from './helpers.js';

export interface SecuredEnv {
  readonly saslSslBrokers: string;
  readonly mtlsBrokers: string;
  readonly caFile: string;
  /** The broker's certificate and key (signed by the test CA, SAN 127.0.0.1): for test servers such as an https registry proxy. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly clientKeyPassphrase: string;
  readonly scramUser: string;
  readonly scramPassword: string;
  readonly plainUser: string;
  readonly plainPassword: string;
}

const NAMES = {
  saslSslBrokers: 'KAFKA_SASL_SSL_BROKERS',
  mtlsBrokers: 'KAFKA_MTLS_BROKERS',
  caFile: 'KAFKA_TEST_CA_FILE',
  serverCertFile: 'KAFKA_TEST_SERVER_CERT_FILE',
  serverKeyFile: 'KAFKA_TEST_SERVER_KEY_FILE',
  clientCertFile: 'KAFKA_TEST_CLIENT_CERT_FILE',
  clientKeyFile: 'KAFKA_TEST_CLIENT_KEY_FILE',
  clientKeyPassphrase: 'KAFKA_TEST_CLIENT_KEY_PASSPHRASE',
  scramUser: 'KAFKA_TEST_SCRAM_USER',
  scramPassword: 'KAFKA_TEST_SCRAM_PASSWORD',
  plainUser: 'KAFKA_TEST_PLAIN_USER',
  plainPassword: 'KAFKA_TEST_PLAIN_PASSWORD',
} as const;

function read(): SecuredEnv | null {
  const file = join(process.env.POSGUARD_SERVICES_DIR || '/tmp/posguard-services', 'services.env');
  const vars = new Map<string, string>();
  if (existsSync(file)) {
    for (const l of readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(l.trim());
      if (m) vars.set(m[1], m[2]);
    }
  }
  const out: Record<string, string> = {};
  for (const [k, name] of Object.entries(NAMES)) {
    const v = process.env[name]?.trim() || vars.get(name);
    if (!v) return null;
    out[k] = v;
  }
  return out as unknown as SecuredEnv;
}

export const SECURED_ENV = read();

/** describe() for a suite that needs the plaintext broker, the secured listeners (and the registry). */
export function describeSecured(name: string, fn: (env: KafkaTestEnv, sec: SecuredEnv) => void, opts: { needsRegistry?: boolean } = {}): void {
  const env = KAFKA_ENV;
  const missing = env === null ? 'KAFKA_BROKERS'
    : SECURED_ENV === null ? 'KAFKA_SASL_SSL_BROKERS and the other secured-listener variables'
    : opts.needsRegistry && env.registry === null ? 'SCHEMA_REGISTRY_URL' : null;
  if (missing === null) {
    describe(name, () => fn(env!, SECURED_ENV!));
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`needs ${missing}`, () => {
        throw new Error(`${missing} is not set and CI=true: start the services (deploy/local/services-up.sh writes them to services.env)`);
      });
    });
    return;
  }
  describe.skip(`${name} (needs ${missing})`, () => undefined);
}

/** The environment that gives `posguard` SCRAM over TLS to the SASL_SSL listener. */
export function scramEnv(sec: SecuredEnv, mechanism: 'scram-sha-256' | 'scram-sha-512', password = sec.scramPassword): Record<string, string> {
  return { KAFKA_BROKERS: sec.saslSslBrokers, KAFKA_SSL_CA: sec.caFile, KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: sec.scramUser, KAFKA_SASL_PASSWORD: password };
}

/** Clears every Kafka security variable the parent process may carry, so a child sees only what a test gives it. */
export const NO_KAFKA_SECURITY: Record<string, undefined> = Object.fromEntries(
  ['KAFKA_SSL', 'KAFKA_SSL_CA', 'KAFKA_SSL_CERT', 'KAFKA_SSL_KEY', 'KAFKA_SSL_KEY_PASSPHRASE', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_ALLOW_SASL_PLAINTEXT', 'POSGUARD_CONFIG']
    .map((k) => [k, undefined]),
);
