/**
 * posguard_state_entries / posguard_state_cap_hits_total
 * (src/metrics/families/bounds.ts): one series per structure from start,
 * read from the census at scrape time; engines, card patterns and the
 * replay line limit report into it.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { createMetrics } from '../../src/metrics/index.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import { STATE_STRUCTURES, StateCensus, stateCensus } from '../../src/util/state-census.js';
import { EventBuilder, T0 } from '../eval/builders.js';

async function series(registry: Registry, name: string): Promise<Map<string, number>> {
  const m = await registry.getSingleMetric(name)!.get();
  return new Map(m.values.map((v) => [String(v.labels.structure), v.value]));
}

describe('memory-bound metrics', () => {
  it('every structure has a series from start; values follow the census at each scrape', async () => {
    const census = new StateCensus();
    const registry = new Registry();
    createMetrics({ registry, census: () => census, processDefaults: false });
    const start = await series(registry, 'posguard_state_entries');
    expect([...start.keys()].sort()).toEqual([...STATE_STRUCTURES].sort());
    expect([...start.values()].every((v) => v === 0)).toBe(true);
    const owner = { held: 5 };
    census.track('attempts', owner, (o) => o.held);
    census.capHit('dead_letter_queue', 2);
    expect((await series(registry, 'posguard_state_entries')).get('attempts')).toBe(5);
    owner.held = 1;
    expect((await series(registry, 'posguard_state_entries')).get('attempts')).toBe(1);
    expect((await series(registry, 'posguard_state_cap_hits_total')).get('dead_letter_queue')).toBe(2);
  });

  it('an engine reports its open attempts, timers and duplicate debits to the process census', () => {
    const entries = () => new Map(stateCensus.entries());
    const before = entries();
    const { engine } = createPipeline(() => DEFAULT_RULES, { anomaly: () => {} });
    const b = new EventBuilder();
    b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
    b.attempt({ t: T0 + 1_000, stan: '000002', rrn: 'RRN000000002', omit: ['TXN_COMPLETED'] });
    const s = b.streams();
    for (const e of s.terminal) engine.push('terminal', e);
    for (const e of s.gateway) engine.push('gateway', e);
    for (const e of s.bank) engine.push('bank', e);
    const held = entries();
    expect(held.get('attempts')! - before.get('attempts')!).toBe(2);
    expect(held.get('duplicate_debits')! - before.get('duplicate_debits')!).toBe(2);
    expect(held.get('attempt_timers')! - before.get('attempt_timers')!).toBeGreaterThanOrEqual(2);
    engine.end();
    const after = entries();
    expect(after.get('attempts')! - before.get('attempts')!).toBe(0);
    expect(after.get('duplicate_debits')! - before.get('duplicate_debits')!).toBe(0);
  });
});
