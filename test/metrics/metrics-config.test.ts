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
    const loaded = loadRunConfig({ env: { POSGUARD_METRICS_USERNAME: 'prom', POSGUARD_METRICS_PASSWORD: 'hunter2-metrics' } });
    expect([loaded.config.run.metricsUsername, loaded.config.run.metricsPassword]).toEqual(['prom', 'hunter2-metrics']);
    const printed = describeRunConfig(loaded);
    expect(printed).toMatch(/run\.metricsPassword\s+\*\*\*/);
    expect(printed).not.toContain('hunter2-metrics');
    expect(() => loadRunConfig({ env: { POSGUARD_METRICS_USERNAME: 'prom' } })).toThrow(/run\.metricsUsername.*user and password together/);
  });
});
