/**
 * Schema registry security: basic auth and TLS (private CA, client
 * certificate with an encrypted key). The local Apicurio runs without either
 * (its authentication needs an OIDC server), so the test puts a small Node
 * https server in front of it that requires a client certificate signed by the
 * test CA and checks basic auth before passing the request on; posguard talks
 * only to that server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runSimulateKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { expectSameAnomalies, expected } from './fixtures.js';
import { createTestTopics, deleteTestTopics, runCli, storedAnomalies, uniqueGroup, uniqueTopics } from './helpers.js';
import { NO_KAFKA_SECURITY, describeSecured } from './secured.js';

const SMALL = Object.freeze({ seed: 9, minutes: 5, tps: 2, startMs: Date.UTC(2026, 2, 2, 8) });
const USER = 'posguard-reg';
const PASSWORD = `reg-${randomBytes(8).toString('hex')}`;

describeSecured('schema registry over https with basic auth and a client certificate', (env, sec) => {
  let server: Server;
  let base = '';
  const seen = { ok: 0, unauthorized: 0, clientCNs: new Set<string>() };
  const topics = uniqueTopics('regsec');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-regsec-'));
  const tlsFlags = ['--registry-ca', sec.caFile, '--registry-cert', sec.clientCertFile, '--registry-key', sec.clientKeyFile];

  beforeAll(async () => {
    const upstream = new URL(env.registry!);
    server = createServer({
      cert: readFileSync(sec.serverCertFile), key: readFileSync(sec.serverKeyFile), ca: readFileSync(sec.caFile),
      requestCert: true, rejectUnauthorized: true,
    }, (req, res) => {
      seen.clientCNs.add(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
      if (req.headers.authorization !== `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`) {
        seen.unauthorized++;
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error_code":40101,"message":"Unauthorized"}');
        return;
      }
      seen.ok++;
      const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host, authorization: '' } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;
    await createTestTopics(env.brokers, { [topics.terminal]: 2, [topics.gateway]: 2, [topics.bank]: 2, [topics.dlq]: 2 });
  });

  afterAll(async () => {
    await new Promise((res) => server.close(res));
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('simulate --kafka registers and run decodes through it: exactly the batch reference, the password never shown', async () => {
    const exp = expected(SMALL);
    // Producer side: credentials in the URL's userinfo.
    const withUserinfo = base.replace('https://', `https://${USER}:${PASSWORD}@`);
    await runSimulateKafka({
      brokers: env.brokers, registry: withUserinfo, topics, ...SMALL, progress: false,
      registryOptions: { caFile: sec.caFile, certFile: sec.clientCertFile, keyFile: sec.clientKeyFile, keyPassphrase: sec.clientKeyPassphrase },
    });
    expect(seen.ok).toBeGreaterThan(0);
    // Consumer side: user by flag, password and key passphrase from the environment.
    const r = await runCli(['run', '--until-end', '--brokers', env.brokers, '--registry', base, '--registry-username', USER, ...tlsFlags,
      '--data', dataDir, '--group', uniqueGroup('regsec'), '--status-interval-ms', '0',
      '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq],
    { ...NO_KAFKA_SECURITY, SCHEMA_REGISTRY_URL: '', SCHEMA_REGISTRY_PASSWORD: PASSWORD, SCHEMA_REGISTRY_KEY_PASSPHRASE: sec.clientKeyPassphrase });
    expect(r.code, r.output).toBe(0);
    expectSameAnomalies(await storedAnomalies(dataDir), exp.reference);
    expect(seen.unauthorized).toBe(0);
    expect([...seen.clientCNs]).toEqual(['posguard-client']);
    expect(r.output).not.toContain(PASSWORD);
    expect(r.output).not.toContain(sec.clientKeyPassphrase);
  }, 180_000);

  it('a wrong registry password fails with one PG_REGISTRY line, exit 2, and neither password shown', async () => {
    const before = seen.unauthorized;
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const r = await runCli(['simulate', '--kafka', env.brokers, '--minutes', '1', '--registry', base.replace('https://', `https://${USER}:${wrong}@`), ...tlsFlags],
      { ...NO_KAFKA_SECURITY, SCHEMA_REGISTRY_KEY_PASSPHRASE: sec.clientKeyPassphrase });
    expect(r.code, r.output).toBe(2);
    const lines = r.output.split('\n').filter((l) => l.includes('PG_'));
    expect(lines, r.output).toHaveLength(1);
    expect(lines[0]).toMatch(/^posguard: PG_REGISTRY: cannot register .* at https:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7: .*Unauthorized/);
    expect(r.output).not.toContain(wrong);
    expect(seen.unauthorized).toBeGreaterThan(before);
  });

  it('without a client certificate the registry cannot be reached (PG_REGISTRY), without its CA neither', async () => {
    for (const flags of [['--registry-ca', sec.caFile], []]) {
      const r = await runCli(['simulate', '--kafka', env.brokers, '--minutes', '1', '--registry', base, '--registry-username', USER, ...flags],
        { ...NO_KAFKA_SECURITY, SCHEMA_REGISTRY_PASSWORD: PASSWORD });
      expect(r.code, r.output).toBe(2);
      expect(r.output).toMatch(/^posguard: PG_REGISTRY: /m);
      expect(r.output).not.toContain(PASSWORD);
    }
  });
});
