/** The metrics endpoint over real HTTP: /metrics, /healthz, /readyz, and what it refuses. */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, METRICS_DEFAULT_PORT, startMetricsServer, type MetricsServer } from '../../src/metrics/index.js';
import { parsePromText, value } from './helpers/prom-text.js';
import { chargeUserCpu } from './helpers/cpu.js';

let server: MetricsServer;
let ready = false;
const registry = new Registry();
const metrics = createMetrics({ registry });

beforeAll(async () => {
  server = await startMetricsServer({ registry, port: 0, host: '127.0.0.1', ready: () => ready });
});
afterAll(async () => server?.close());

describe('metrics server', () => {
  it('defaults to port 9464', () => {
    expect(METRICS_DEFAULT_PORT).toBe(9464);
  });

  it('serves /metrics in the Prometheus text format', async () => {
    metrics.rebalance();
    chargeUserCpu();
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePromText(await res.text());
    expect(value(samples, 'posguard_consumer_rebalances_total')).toBe(1);
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('/healthz is 200 while the process answers; /readyz follows ready()', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it('404 for other paths, 405 for other methods, HEAD has no body', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('a port in use is a PG_USAGE error naming it', async () => {
    await expect(startMetricsServer({ registry, port: server.port, host: '127.0.0.1' })).rejects.toMatchObject({ code: 'PG_USAGE', message: expect.stringContaining(`${server.port}`) });
  });

  it('close() stops listening', async () => {
    const s = await startMetricsServer({ registry: new Registry(), port: 0, host: '127.0.0.1' });
    await s.close();
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  it('with basic auth: /metrics needs the credentials, the probes stay open', async () => {
    const s = await startMetricsServer({ registry, port: 0, host: '127.0.0.1', basicAuth: { username: 'prom', password: 's3cr3t:pw' } });
    try {
      const auth = (u: string, p: string) => ({ headers: { authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` } });
      const none = await fetch(`${s.url}/metrics`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="posguard metrics"/);
      expect((await fetch(`${s.url}/metrics`, auth('prom', 'wrong'))).status).toBe(401);
      expect((await fetch(`${s.url}/metrics`, auth('other', 's3cr3t:pw'))).status).toBe(401);
      const ok = await fetch(`${s.url}/metrics`, auth('prom', 's3cr3t:pw'));
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('# TYPE');
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('listens on the host it is given only', async () => {
    const s = await startMetricsServer({ registry: new Registry(), port: 0, host: '127.0.0.1' });
    try {
      expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
      // Another loopback address is another interface as far as the socket is concerned.
      await expect(fetch(`http://127.0.0.2:${s.port}/healthz`)).rejects.toThrow();
    } finally {
      await s.close();
    }
  });
});
