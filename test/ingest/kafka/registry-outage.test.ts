/**
 * The schema registry goes away while `posguard run` reads (issue 11): for a
 * few seconds from the first schema-id lookup (after the start-up probe
 * passed) every request gets a bare 404, as from a load balancer that lost its
 * backend. Before issue 11 such a 404 made every record poison for the life of
 * the process; now the 404 counts as "unknown id" only from a registry that
 * answers, so the records wait. The records wait (retry with backoff, nothing dead-lettered, nothing
 * cached as poison) and, once the registry is back, the run reads to the end:
 * exactly the batch reference. A small HTTP proxy in front of the real
 * Apicurio plays the outage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runSimulateKafka } from '../../../src/cli/commands/simulate-kafka.js';
import { expectSameAnomalies, expected } from './fixtures.js';
import { createTestTopics, deleteTestTopics, describeKafka, runCli, sqlRows, storedAnomalies, uniqueGroup, uniqueTopics } from './helpers.js';

const SMALL = Object.freeze({ seed: 12, minutes: 5, tps: 2, startMs: Date.UTC(2026, 2, 3, 9) });
const OUTAGE_MS = 4_000;

describeKafka('the schema registry unreachable while posguard run reads', (env) => {
  const topics = uniqueTopics('regout');
  const dataDir = mkdtempSync(join(tmpdir(), 'posguard-regout-'));
  const seen = { idLookups: 0, idRefused: 0 };
  let outageFrom: number | null = null;
  let server: Server;
  let base = '';

  beforeAll(async () => {
    const upstream = new URL(env.registry!);
    server = createServer((req, res) => {
      const isId = req.url?.includes('/schemas/ids/') === true;
      if (isId) {
        seen.idLookups++;
        outageFrom ??= Date.now();
      }
      if (outageFrom !== null && Date.now() - outageFrom < OUTAGE_MS) {
        if (isId) seen.idRefused++;
        res.writeHead(404).end();
        return;
      }
      const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;
    await createTestTopics(env.brokers, { [topics.terminal]: 2, [topics.gateway]: 2, [topics.bank]: 2, [topics.dlq]: 2 });
    await runSimulateKafka({ brokers: env.brokers, registry: env.registry!, topics, ...SMALL, progress: false });
  }, 120_000);

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dataDir, { recursive: true, force: true });
    await deleteTestTopics(env.brokers, [topics.terminal, topics.gateway, topics.bank, topics.dlq]);
  });

  it('waits through the outage, dead-letters nothing for it, and stores exactly the batch reference', async () => {
    const exp = expected(SMALL);
    const r = await runCli(['run', '--until-end', '--brokers', env.brokers, '--registry', base, '--data', dataDir, '--group', uniqueGroup('regout'),
      '--status-interval-ms', '0', '--terminal-topic', topics.terminal, '--gateway-topic', topics.gateway, '--bank-topic', topics.bank, '--dlq-topic', topics.dlq]);
    expect(r.code, r.output).toBe(0);
    // The outage happened and was waited through: the same ids asked again, not cached as poison.
    expect(seen.idRefused).toBeGreaterThan(0);
    expect(seen.idLookups).toBeGreaterThan(seen.idRefused);
    expect(r.output).toMatch(/PG_REGISTRY: the registry at .* answered 404 for schema id \d+ and does not answer as a registry .*retrying in \d+ ms \(partition not advanced\)/);
    const unknown = await sqlRows<{ n: string }>(dataDir, "SELECT count() AS n FROM dead_letters FINAL WHERE reason LIKE 'unknown_schema%'");
    expect(Number(unknown[0].n)).toBe(0);
    expectSameAnomalies(await storedAnomalies(dataDir), exp.reference);
  }, 180_000);
}, { needsRegistry: true });
