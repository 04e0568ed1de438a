/** `posguard run`'s metrics listener settings: where it listens, and basic auth with the password never printed. */
import { describe, expect, it } from 'vitest';
import { describeRunConfig, loadRunConfig } from '../../src/config/run-config.js';

describe('metrics listener configuration', () => {
  it('listens on every interface by default, so Prometheus can scrape; --metrics-host narrows it', () => {
    expect(loadRunConfig({}).config.run.metricsHost).toBe('0.0.0.0');
    expect(loadRunConfig({ flags: { metricsHost: '127.0.0.1' } }).config.run.metricsHost).toBe('127.0.0.1');
    expect(loadRunConfig({ env: { POSGUARD_METRICS_HOST: '10.0.0.5' } }).config.run.metricsHost).toBe('10.0.0.5');
  });

  it('takes basic auth from the environment, both or neither, and masks the password in the start-up print', () => {
    const loaded = loadRunConfig({ env: { POSGUARD_METRICS_USERNAME: 'prom', POSGUARD_METRICS_PASSWORD: 'hunter2-metrics', POSGUARD_METRICS_HOST: '127.0.0.1' } });
    expect([loaded.config.run.metricsUsername, loaded.config.run.metricsPassword]).toEqual(['prom', 'hunter2-metrics']);
    const printed = describeRunConfig(loaded);
    expect(printed).toMatch(/run\.metricsPassword\s+\*\*\*/);
    expect(printed).not.toContain('hunter2-metrics');
    expect(() => loadRunConfig({ env: { POSGUARD_METRICS_USERNAME: 'prom' } })).toThrow(/run\.metricsUsername.*user and password together/);
  });

  it('refuses basic auth over plain HTTP on a non-loopback address (the password would cross the network in clear)', () => {
    const auth = { POSGUARD_METRICS_USERNAME: 'prom', POSGUARD_METRICS_PASSWORD: 'hunter2-metrics' };
    for (const host of [undefined, '0.0.0.0', '10.0.0.5']) {
      const env = host === undefined ? auth : { ...auth, POSGUARD_METRICS_HOST: host };
      expect(() => loadRunConfig({ env }), String(host)).toThrow(/run\.metricsHost.*basic auth on \/metrics needs a loopback address .*TLS proxy/);
    }
    for (const host of ['::1', 'localhost']) expect(loadRunConfig({ env: { ...auth, POSGUARD_METRICS_HOST: host } }).config.run.metricsHost).toBe(host);
    expect(() => loadRunConfig({ env: { ...auth, POSGUARD_METRICS_HOST: '10.0.0.5' } })).not.toThrow(/hunter2/);
  });
});
