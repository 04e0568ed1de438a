/**
 * posguard against the local broker's secured listeners (deploy/local/kafka.sh):
 * `posguard topics`, `simulate --kafka` and `run` (each as a user runs it) over SASL_SSL (SCRAM-SHA-512,
 * PLAIN) and mutual TLS give exactly the batch reference; a wrong password, an
 * untrusted broker certificate and a missing client certificate each stop
 * `run` at start-up with one line and exit 2 (docs/errors.md).
 *
 * Each listener is configured through a different place: SCRAM through the
 * environment, PLAIN through a config file, mTLS through flags.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectSameAnomalies, expected, type Expected } from './fixtures.js';
import { deleteTestTopics, runCli, storedAnomalies, uniqueGroup, uniqueTopics } from './helpers.js';
import { NO_KAFKA_SECURITY, describeSecured, scramEnv, type SecuredEnv } from './secured.js';

/** Small on purpose: 6 simulated minutes at 2 attempts/s (a few thousand records, some of every common kind). */
const SMALL = Object.freeze({ seed: 5, minutes: 6, tps: 2, startMs: Date.UTC(2026, 2, 2, 8) });

type Topics = ReturnType<typeof uniqueTopics>;
const topicFlags = (t: Topics) => ['--terminal-topic', t.terminal, '--gateway-topic', t.gateway, '--bank-topic', t.bank, '--dlq-topic', t.dlq, '--state-topic', t.state];

/** The only line naming an error code, and that nothing looks like a stack trace. */
function oneErrorLine(output: string): string {
  const lines = output.split('\n').filter((l) => /PG_[A-Z_]+/.test(l));
  expect(lines, output).toHaveLength(1);
  expect(output).not.toMatch(/^\s+at /m);
  return lines[0];
}

describeSecured('posguard over the secured listeners (SASL_SSL, mTLS)', (env, sec: SecuredEnv) => {
  let exp: Expected;
  const dirs: string[] = [];
  const made: string[] = [];
  const tmp = (tag: string) => {
    const d = mkdtempSync(join(tmpdir(), `posguard-sec-${tag}-`));
    dirs.push(d);
    return d;
  };

  beforeAll(() => {
    exp = expected(SMALL);
    expect(exp.reference.length).toBeGreaterThan(5);
  });

  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, made);
  });

  /**
   * `posguard topics create`, `posguard simulate --kafka` and `posguard run --until-end`, all over the
   * listener at `brokers` with the security given by `securityFlags` and `cliEnv`; returns run's output.
   */
  async function roundTrip(tag: string, brokers: string, cliEnv: Record<string, string | undefined>, securityFlags: string[] = []): Promise<string> {
    const t = uniqueTopics(tag);
    made.push(t.terminal, t.gateway, t.bank, t.dlq, t.state);
    const e = { ...NO_KAFKA_SECURITY, SCHEMA_REGISTRY_URL: '', ...cliEnv };
    const created = await runCli(['topics', 'create', '--brokers', brokers, '--partitions', '2', ...topicFlags(t), ...securityFlags], e);
    expect(created.code, created.output).toBe(0);
    const sim = await runCli(['simulate', '--kafka', brokers, '--seed', String(SMALL.seed), '--minutes', String(SMALL.minutes), '--tps', String(SMALL.tps),
      '--start', new Date(SMALL.startMs).toISOString(), '--terminal-topic', t.terminal, '--gateway-topic', t.gateway, '--bank-topic', t.bank, ...securityFlags], e);
    expect(sim.code, sim.output).toBe(0);
    expect(sim.output).toContain(`to ${t.terminal}, ${t.gateway}, ${t.bank} at ${brokers}`);
    const data = tmp(tag);
    const run = await runCli(['run', '--until-end', '--brokers', brokers, '--format', 'avro', '--data', data, '--group', uniqueGroup(tag), '--status-interval-ms', '0',
      ...topicFlags(t), ...securityFlags], e);
    expect(run.code, run.output).toBe(0);
    expectSameAnomalies(await storedAnomalies(data), exp.reference);
    return run.output;
  }

  it('SCRAM-SHA-512 over TLS (environment): topics, simulate --kafka and run give exactly the batch reference', async () => {
    const e = scramEnv(sec, 'scram-sha-512');
    const out = await roundTrip('scram', sec.saslSslBrokers, e);
    expect(out).toMatch(/kafka\.saslMechanism\s+scram-sha-512\s+\(env KAFKA_SASL_MECHANISM\)/);
    expect(out).not.toContain(sec.scramPassword);
  }, 180_000);

  it('SASL PLAIN over TLS (config file): the same', async () => {
    const cfg = join(tmp('plain-cfg'), 'run.yaml');
    writeFileSync(cfg, [
      'kafka:', `  brokers: ["${sec.saslSslBrokers}"]`, `  sslCaFile: ${sec.caFile}`, '  saslMechanism: plain',
      `  saslUsername: ${sec.plainUser}`, `  saslPassword: "${sec.plainPassword}"`, '',
    ].join('\n'), { mode: 0o600 });
    const out = await roundTrip('plain', sec.saslSslBrokers, { POSGUARD_CONFIG: cfg });
    expect(out).toMatch(/kafka\.saslPassword\s+\*\*\*\s+\(file /);
    expect(out).not.toContain(sec.plainPassword);
  }, 180_000);

  it('mutual TLS with an encrypted client key (flags + passphrase in the environment): the same', async () => {
    const flags = ['--kafka-ssl-ca', sec.caFile, '--kafka-ssl-cert', sec.clientCertFile, '--kafka-ssl-key', sec.clientKeyFile];
    const out = await roundTrip('mtls', sec.mtlsBrokers, { KAFKA_SSL_KEY_PASSPHRASE: sec.clientKeyPassphrase }, flags);
    expect(out).not.toContain(sec.clientKeyPassphrase);
  }, 180_000);

  it('topics check over SCRAM-SHA-256', async () => {
    const t = uniqueTopics('s256');
    made.push(t.terminal, t.gateway, t.bank, t.dlq, t.state);
    const e = { ...NO_KAFKA_SECURITY, ...scramEnv(sec, 'scram-sha-256') };
    expect((await runCli(['topics', 'create', '--partitions', '3', ...topicFlags(t)], e)).code).toBe(0);
    const check = await runCli(['topics', 'check', ...topicFlags(t)], e);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toContain(`${t.terminal}\t3`);
  });

  const fails = async (args: string[], e: Record<string, string | undefined>) => {
    const t0 = Date.now();
    const r = await runCli(['run', '--format', 'avro', '--data', tmp('fail'), '--group', uniqueGroup('fail'), ...args], { ...NO_KAFKA_SECURITY, SCHEMA_REGISTRY_URL: '', ...e });
    return { ...r, ms: Date.now() - t0 };
  };

  it('a wrong SCRAM password stops run at start-up: one PG_KAFKA_AUTH line, exit 2, password not shown', async () => {
    const r = await fails([], scramEnv(sec, 'scram-sha-512', 'not-the-password-0451'));
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.output)).toMatch(/^posguard: PG_KAFKA_AUTH: SASL SCRAM-SHA-512 authentication of user "posguard-scram" at 127\.0\.0\.1:\d+ failed/);
    expect(r.output).not.toContain('not-the-password-0451');
    expect(r.ms).toBeLessThan(20_000);
  });

  it('a broker certificate from an unknown CA stops run at start-up: one PG_KAFKA_TLS line, exit 2', async () => {
    const { KAFKA_SSL_CA: _, ...noCa } = scramEnv(sec, 'scram-sha-512');
    const r = await fails(['--kafka-ssl'], noCa);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.output)).toMatch(/^posguard: PG_KAFKA_TLS: TLS to 127\.0\.0\.1:\d+ failed: the broker's certificate is not trusted .*--kafka-ssl-ca/);
    expect(r.ms).toBeLessThan(20_000);
  });

  it('no client certificate on the mTLS listener stops run at start-up: one PG_KAFKA_TLS line, exit 2', async () => {
    const r = await fails(['--brokers', sec.mtlsBrokers, '--kafka-ssl-ca', sec.caFile], {});
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.output)).toMatch(/^posguard: PG_KAFKA_TLS: TLS to 127\.0\.0\.1:\d+ failed: the broker refused the client certificate .*--kafka-ssl-cert/);
    expect(r.ms).toBeLessThan(20_000);
  });

  it('SASL over plaintext is refused unless --allow-sasl-plaintext', async () => {
    const r = await fails(['--brokers', env.brokers, '--kafka-sasl-mechanism', 'plain', '--kafka-sasl-username', 'u'], { KAFKA_SASL_PASSWORD: 'some-password-77' });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.output)).toMatch(/PG_CONFIG_INVALID: .*SASL plain over plaintext .*--allow-sasl-plaintext/);
    expect(r.output).not.toContain('some-password-77');
  });
});
