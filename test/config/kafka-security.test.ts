/** Kafka and registry security settings: what is refused, what is allowed by name, and the TLS options built from them (no broker). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKafkaSettings, loadRunConfig } from '../../src/config/run-config.js';
import { PosguardError } from '../../src/errors.js';
import { createKafka, tlsOptions } from '../../src/ingest/kafka/client.js';

function fails(fn: () => unknown): PosguardError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PosguardError);
    return e as PosguardError;
  }
  throw new Error('expected a PosguardError');
}

const SASL = { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'pw-123456' };

describe('Kafka security settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'posguard-kafka-sec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses SASL over plaintext unless allowed by name, and allows it over TLS', () => {
    const e = fails(() => loadRunConfig({ env: SASL }));
    expect(e.code).toBe('PG_CONFIG_INVALID');
    expect(e.message).toMatch(/kafka\.saslMechanism \(from env KAFKA_SASL_MECHANISM\): SASL scram-sha-256 over plaintext .*--allow-sasl-plaintext/);
    expect(loadRunConfig({ env: { ...SASL, KAFKA_ALLOW_SASL_PLAINTEXT: 'true' } }).config.kafka.allowSaslPlaintext).toBe(true);
    expect(loadRunConfig({ env: SASL, flags: { allowSaslPlaintext: true } }).config.kafka.ssl).toBe(false);
    expect(loadRunConfig({ env: { ...SASL, KAFKA_SSL: 'true' } }).config.kafka.ssl).toBe(true);
    // The client refuses it too, for callers that skip the config.
    expect(fails(() => createKafka({ brokers: ['h:1'], clientId: 'x', saslMechanism: 'plain', saslUsername: 'u', saslPassword: 'p' })).message).toMatch(/over plaintext is refused/);
  });

  it('needs the SASL password, the client certificate with its key, and https for registry TLS', () => {
    expect(fails(() => loadRunConfig({ env: { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' } })).message).toMatch(/kafka\.saslPassword: SASL plain needs a password/);
    expect(fails(() => loadRunConfig({ flags: { kafkaSslCert: '/c.pem' } })).message).toMatch(/kafka\.sslCertFile \(from flag --kafka-ssl-cert\): mutual TLS needs the client certificate and its key together/);
    expect(loadRunConfig({ flags: { kafkaSslCert: '/c.pem', kafkaSslKey: '/k.pem' } }).config.kafka.ssl).toBe(true);
    expect(fails(() => loadRunConfig({ flags: { registry: 'http://r:8081', registryCa: '/ca.pem' } })).message).toMatch(/input\.registryCaFile \(from flag --registry-ca\): TLS settings for the registry need an https:\/\/ registry URL/);
  });

  it('loadKafkaSettings reads only the Kafka part (a bad registry or ClickHouse setting does not matter to topics)', () => {
    const k = loadKafkaSettings({ env: { ...SASL, KAFKA_SSL: 'true', KAFKA_BROKERS: 'a:1,b:2', SCHEMA_REGISTRY_URL: 'not a url', CLICKHOUSE_URL: '::' }, flags: { kafkaSaslMechanism: 'scram-sha-512' } });
    expect([k.brokers, k.saslMechanism, k.saslUsername, k.ssl]).toEqual([['a:1', 'b:2'], 'scram-sha-512', 'svc', true]);
  });

  it('builds verified TLS options; an encrypted key needs its passphrase, checked before connecting', () => {
    const key = join(dir, 'k.pem');
    const cert = join(dir, 'c.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-days', '1', '-subj', '/CN=t', '-keyout', key, '-out', cert, '-passout', 'pass:open-sesame'], { stdio: 'ignore' });
    const tls = tlsOptions({ sslCaFile: cert, sslCertFile: cert, sslKeyFile: key, sslKeyPassphrase: 'open-sesame' })!;
    expect(tls.rejectUnauthorized).toBe(true);
    expect([tls.ca, tls.passphrase]).toEqual([[expect.stringContaining('BEGIN CERTIFICATE')], 'open-sesame']);
    for (const wrong of ['not-it', null]) {
      const e = fails(() => tlsOptions({ sslCertFile: cert, sslKeyFile: key, sslKeyPassphrase: wrong }));
      expect(e.message).toMatch(/kafka\.sslKeyFile: cannot use .*: it is encrypted and the passphrase .* is missing or wrong/);
    }
    expect(tlsOptions({ ssl: true })).toEqual({ rejectUnauthorized: true });
    expect(tlsOptions({})).toBeUndefined();
    expect(fails(() => tlsOptions({ sslCaFile: join(dir, 'missing.pem') })).message).toMatch(/kafka\.sslCaFile: cannot read .*ENOENT/);
  });
});
