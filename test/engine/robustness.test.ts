/**
 * Valid but hostile input — rrns claimed by several attempts, stans reused,
 * reversals of unknown debits, clocks far apart — never crashes the engine,
 * and every attempt it opened is released at the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import { validateEvent } from '../../src/ingest/validate.js';
import { randomScenario, rng } from '../support/scenarios.js';

describe('engine robustness', () => {
  it('survives scrambled linking keys and times, and releases everything at the end', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (seed) => {
        const r = rng(seed);
        const { arrivals } = randomScenario(seed, 30);
        const { engine } = createPipeline(() => DEFAULT_RULES, { anomaly: () => undefined, transaction: () => undefined });
        for (const a of arrivals) {
          const e = { ...a.event } as Record<string, unknown>;
          if (r() < 0.2) e.stan = String(Math.floor(r() * 5)).padStart(6, '0');
          if (r() < 0.2 && 'rrn' in e) e.rrn = `RRN00000000${Math.floor(r() * 5)}`;
          if (r() < 0.1 && e.orig_rrn) e.orig_rrn = `RRN00000000${Math.floor(r() * 5)}`;
          if (r() < 0.1) e.event_time = (e.event_time as number) + Math.floor((r() - 0.5) * 6 * 3_600_000);
          const v = validateEvent(a.stream, e);
          expect(v.ok).toBe(true);
          if (v.ok) engine.push(a.stream, v.event);
        }
        engine.end();
        expect(engine.openAttempts()).toBe(0);
      }),
      { numRuns: 40 },
    );
  });
});
