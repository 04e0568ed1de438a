/** KafkaRun's stop without a broker: one drain whoever asks, every caller gets the same result, the state ends closed. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../../src/config/rules.js';
import { loadRunConfig } from '../../../src/config/run-config.js';
import { KafkaRun } from '../../../src/runtime/kafka/runner.js';

describe('KafkaRun.stop', () => {
  it('is idempotent: two stops share one drain and one result, a third after the close returns it too', async () => {
    const lines: string[] = [];
    const run = new KafkaRun({ config: loadRunConfig({ env: {}, flags: { checkpointIntervalMs: '0' } }).config, rules: () => DEFAULT_RULES, log: (level, msg) => void lines.push(`${level} ${msg}`) });
    expect(run.state).toBe('created');
    const first = run.stop('received SIGTERM');
    const second = run.stop('received SIGINT');
    expect(run.state).toBe('draining');
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect(a.reason).toBe('stopped');
    expect(run.state).toBe('closed');
    expect(await run.stop()).toBe(a);
    expect(await run.done).toBe(a);
    // One drain: the second signal did not start another.
    expect(lines.filter((l) => /draining/.test(l))).toEqual(['info received SIGTERM: draining (stop fetching, flush, commit, leave the group)']);
  });
});
