/**
 * No secret is printed (issue 12, item 4): commands run with a distinct secret
 * in every place one can be given (config file, environment, a flag's URL
 * userinfo, CLICKHOUSE_URL and SCHEMA_REGISTRY_URL userinfo) and fail or end
 * in the ways an operator meets them; none of the values, plain or
 * URL-encoded, appears in stdout or stderr. Secrets have no flags of their own
 * (docs/kafka.md, Security), so a URL is the one way a flag carries one.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestTopics, deleteTestTopics, runCli, uniqueGroup, uniqueTopics } from '../ingest/kafka/helpers.js';
import { NO_KAFKA_SECURITY, describeSecured } from '../ingest/kafka/secured.js';

/** A secret with characters that URL-encoding changes, so both forms are checked. */
const secret = (tag: string) => `${tag}-${randomBytes(6).toString('hex')}+/=`;
const S = {
  saslFile: secret('sasl-file'),
  saslEnv: secret('sasl-env'),
  keyPassEnv: secret('keypass-env'),
  keyPassFile: secret('keypass-file'),
  regFile: secret('reg-file'),
  regEnv: secret('reg-env'),
  regUrlFlag: secret('reg-url-flag'),
  regUrlEnv: secret('reg-url-env'),
  chUrl: secret('ch-url'),
  chEnv: secret('ch-env'),
};

function expectNoSecret(output: string, values: readonly string[] = Object.values(S)): void {
  for (const v of values) {
    expect(output, `secret ${v} printed`).not.toContain(v);
    expect(output, `secret ${v} printed URL-encoded`).not.toContain(encodeURIComponent(v));
    // The random part alone: a secret cut at a special character must not leak either.
    expect(output).not.toContain(v.split('-').pop()!.replace(/[+/=]+$/, ''));
  }
}

describeSecured('secrets are never printed', (env, sec) => {
  const dir = mkdtempSync(join(tmpdir(), 'posguard-secrets-'));
  const cfg = join(dir, 'run.yaml');
  writeFileSync(cfg, [
    'kafka:',
    `  sslCaFile: ${sec.caFile}`,
    '  saslMechanism: scram-sha-512',
    `  saslUsername: ${sec.scramUser}`,
    `  saslPassword: "${S.saslFile}"`,
    `  sslKeyPassphrase: "${S.keyPassFile}"`,
    'input:',
    '  registryUsername: reg-user',
    `  registryPassword: "${S.regFile}"`,
    '',
  ].join('\n'), { mode: 0o600 });
  const urlWith = (s: string, port = 1) => `https://reg-user:${encodeURIComponent(s)}@127.0.0.1:${port}/apis/ccompat/v7`;
  /** Every secret the environment can carry (the SASL one wrong, so that run stops at start-up). */
  const secretEnv = {
    ...NO_KAFKA_SECURITY,
    POSGUARD_CONFIG: cfg,
    KAFKA_BROKERS: sec.saslSslBrokers,
    KAFKA_SASL_PASSWORD: S.saslEnv,
    KAFKA_SSL_KEY_PASSPHRASE: S.keyPassEnv,
    SCHEMA_REGISTRY_URL: urlWith(S.regUrlEnv),
    SCHEMA_REGISTRY_PASSWORD: S.regEnv,
    CLICKHOUSE_URL: `http://default:${encodeURIComponent(S.chUrl)}@127.0.0.1:1/`,
    CLICKHOUSE_PASSWORD: S.chEnv,
  };
  const made: string[] = [];

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, made);
  });

  it('run with a wrong SASL password: the configuration print masks every secret, the error names none', async () => {
    const r = await runCli(['run', '--registry', urlWith(S.regUrlFlag), '--group', uniqueGroup('secrets')], secretEnv);
    expect(r.code, r.output).toBe(2);
    expect(r.output).toMatch(/^posguard: PG_KAFKA_AUTH: /m);
    expect(r.output).toMatch(/kafka\.saslPassword\s+\*\*\*\s+\(env KAFKA_SASL_PASSWORD\)/);
    expect(r.output).toMatch(/kafka\.sslKeyPassphrase\s+\*\*\*/);
    expect(r.output).toMatch(/input\.registryUrl\s+https:\/\/\*\*\*@127\.0\.0\.1:1\//);
    expectNoSecret(r.output);
  });

  it('run with a client key and a wrong passphrase, topics check, sql and simulate --kafka against closed ports: no secret either', async () => {
    const outputs = await Promise.all([
      runCli(['run', '--kafka-ssl-cert', sec.clientCertFile, '--kafka-ssl-key', sec.clientKeyFile, '--registry', urlWith(S.regUrlFlag)], secretEnv),
      runCli(['topics', 'check'], secretEnv),
      runCli(['sql', 'SELECT 1'], secretEnv),
      runCli(['simulate', '--kafka', env.brokers, '--minutes', '1', '--registry', urlWith(S.regUrlFlag)], { ...secretEnv, POSGUARD_CONFIG: undefined }),
    ]);
    const [keyRun, topics, sql, sim] = outputs;
    expect(keyRun.output).toMatch(/^posguard: PG_CONFIG_INVALID: kafka\.sslKeyFile: cannot use .*passphrase/m);
    expect(topics.output).toMatch(/^posguard: PG_KAFKA_AUTH: /m);
    expect(sql.output).toMatch(/^posguard: PG_CLICKHOUSE: /m);
    expect(sim.output).toMatch(/^posguard: PG_REGISTRY: cannot register .* at https:\/\/127\.0\.0\.1:1\/apis\/ccompat\/v7: /m);
    for (const r of outputs) {
      expect(r.code, r.output).toBe(2);
      expectNoSecret(r.output);
    }
  });

  it('a run that works (SCRAM over TLS, status lines on): its log shows no secret', async () => {
    const t = uniqueTopics('secrets');
    made.push(t.terminal, t.gateway, t.bank, t.dlq);
    await createTestTopics(env.brokers, { [t.terminal]: 1, [t.gateway]: 1, [t.bank]: 1, [t.dlq]: 1 });
    const r = await runCli(['run', '--until-end', '--format', 'avro', '--data', join(dir, 'data'), '--group', uniqueGroup('secrets'), '--status-interval-ms', '100',
      '--terminal-topic', t.terminal, '--gateway-topic', t.gateway, '--bank-topic', t.bank, '--dlq-topic', t.dlq],
    { ...secretEnv, POSGUARD_CONFIG: undefined, SCHEMA_REGISTRY_URL: '', CLICKHOUSE_URL: '', KAFKA_SSL_CA: sec.caFile, KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: sec.scramUser, KAFKA_SASL_PASSWORD: sec.scramPassword });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/kafka\.saslPassword\s+\*\*\*/);
    expect(r.output).not.toContain(sec.scramPassword);
    expectNoSecret(r.output, [S.keyPassEnv, S.regEnv, S.chEnv]);
  }, 120_000);
});

describe('configuration errors name the setting, never its value (no Kafka needed)', () => {
  const CLI = new URL('../../bin/posguard.js', import.meta.url).pathname;
  const cli = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const pw = secret('cfg');
  const dir = mkdtempSync(join(tmpdir(), 'posguard-secrets-cfg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a YAML syntax error: code and line/column only, not the line', () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, `kafka:\n  sasl: { mechanism: scram-sha-512, username: u, password: "${pw}\n`);
    const r = cli(['run', '--config', cfg]);
    expect(r.out).toMatch(/^posguard: PG_CONFIG_INVALID: .*bad\.yaml: not valid YAML\/JSON: [A-Z_]+ at line \d+, column \d+\n$/);
    expectNoSecret(r.out, [pw]);
  });

  it('a URL that does not parse: the setting is named, the value is not', () => {
    const bad = `http://u:${pw}@[::1`;
    const sql = cli(['sql', 'SELECT 1'], { CLICKHOUSE_URL: bad });
    expect(sql.out).toBe('posguard: PG_CONFIG_INVALID: CLICKHOUSE_URL: not a URL (value not shown: it may hold credentials; expected e.g. https://clickhouse.example:8443)\n');
    const run = cli(['run', '--registry', bad]);
    expect(run.out).toMatch(/^posguard: PG_CONFIG_INVALID: run config: input\.registryUrl \(from flag --registry\): not a URL \(value not shown/);
    const sim = cli(['simulate', '--kafka', '127.0.0.1:1', '--registry', bad, '--minutes', '1']);
    expect(sim.out).toMatch(/PG_CONFIG_INVALID: .*not a URL \(value not shown/);
    for (const r of [sql, run, sim]) {
      expect(r.status).toBe(2);
      expectNoSecret(r.out, [pw]);
    }
  });

  it('a password in --registry: one warning line, the password masked', () => {
    const r = cli(['run', '--registry', `http://reg-user:${encodeURIComponent(pw)}@127.0.0.1:1`, '--format', 'json']);
    const warnings = r.out.split('\n').filter((l) => l.startsWith('posguard: warning:'));
    expect(warnings).toEqual(['posguard: warning: --registry http://***@127.0.0.1:1 puts a password on the command line (visible in ps and shell history); give it in SCHEMA_REGISTRY_PASSWORD or the config file (input.registryPassword)']);
    expectNoSecret(r.out, [pw]);
    const plain = cli(['run', '--registry', 'http://127.0.0.1:1', '--format', 'json']);
    expect(plain.out).not.toContain('warning');
  });

  it('a bad % escape in URL userinfo: a configuration error, not an internal one with a stack', () => {
    const bad = `http://u:${encodeURIComponent(pw)}%zz@127.0.0.1:1`;
    const sql = cli(['sql', 'SELECT 1'], { CLICKHOUSE_URL: bad });
    expect(sql.out).toBe('posguard: PG_CONFIG_INVALID: CLICKHOUSE_URL: the user name or password in the URL has a bad % escape (write a literal % as %25)\n');
    const sim = cli(['simulate', '--kafka', '127.0.0.1:1', '--registry', bad, '--minutes', '1']);
    expect(sim.out).toMatch(/^posguard: warning: --registry http:\/\/\*\*\*@127\.0\.0\.1:1 puts a password on the command line .*\nposguard: PG_CONFIG_INVALID: registry URL: the user name or password in the URL has a bad % escape \(write a literal % as %25\)\n$/);
    for (const r of [sql, sim]) {
      expect(r.status).toBe(2);
      expectNoSecret(r.out, [pw]);
    }
  });
});
