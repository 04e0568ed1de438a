/**
 * drain / drainYielding (util/yield.ts): a generator's work at once, or in
 * slices that hand the event loop back (a restore's build goes on
 * heartbeating).
 */
import { describe, expect, it } from 'vitest';
import { drain, drainYielding } from '../../src/util/yield.js';

/** Steps of `msEach` each: on `clock` when given (a step advances it: no dependence on the machine's load), else busy on the wall clock. */
function* busy(steps: number, msEach: number, done: string[], clock?: { ms: number }): Generator<void, string> {
  for (let i = 0; i < steps; i++) {
    if (clock !== undefined) {
      clock.ms += msEach;
    } else {
      const until = performance.now() + msEach;
      while (performance.now() < until);
    }
    done.push(`step ${i}`);
    yield;
  }
  return 'result';
}

describe('drain and drainYielding', () => {
  it('drain runs every step at once and returns the result', () => {
    const done: string[] = [];
    expect(drain(busy(5, 0, done))).toBe('result');
    expect(done).toHaveLength(5);
  });

  it('drainYielding hands the event loop back once a slice has gone by, not at every step', async () => {
    const done: string[] = [];
    const pausedAfter: number[] = [];
    // 12 steps of 8 ms, slices of 20 ms: a pause after every third step (24 ms), 4 in all.
    const clock = { ms: 0 };
    const result = await drainYielding(busy(12, 8, done, clock), async () => void pausedAfter.push(done.length), 20, () => clock.ms);
    expect(result).toBe('result');
    expect(done).toHaveLength(12);
    expect(pausedAfter).toEqual([3, 6, 9, 12]);
    // Steps well under a slice: no pause at all.
    const quick: number[] = [];
    const still = { ms: 0 };
    await drainYielding(busy(50, 0, [], still), async () => void quick.push(1), 20, () => still.ms);
    expect(quick).toEqual([]);
  });

  it('lets timers run between slices (a heartbeat would)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await drainYielding(busy(30, 5, []), undefined, 20);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });
});
