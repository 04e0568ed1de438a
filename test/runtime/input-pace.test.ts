/**
 * The backlog test of the checkpoint hold budget (runtime/kafka/input-pace.ts):
 * more than BACKLOG_SECONDS of the recent read pace waiting is a backlog.
 */
import { describe, expect, it } from 'vitest';
import { BACKLOG_SECONDS, CAUGHT_UP_SECONDS, CAUGHT_UP_SETTLED_MS, InputPace } from '../../src/runtime/kafka/input-pace.js';

describe('input pace', () => {
  it('is a backlog when the lag exceeds ten seconds of the pace over the last ten seconds, and not at exactly that', () => {
    const p = new InputPace();
    expect(p.backlogged(0)).toBe(true); // no pace yet: treated as a backlog
    // 1,000 records/s for 30 s, one sample a second.
    for (let s = 0; s <= 30; s++) p.sample(s * 1000, s * 1000);
    expect(p.perSecond()).toBe(1000);
    expect(p.backlogged(BACKLOG_SECONDS * 1000)).toBe(false);
    expect(p.backlogged(BACKLOG_SECONDS * 1000 + 1)).toBe(true);
    expect(p.backlogged(null)).toBe(true);
  });

  it('measures the pace over the last ten seconds only', () => {
    const p = new InputPace();
    // 50,000 records/s for 60 s (a catch-up), then 900/s for 20 s (the live feed).
    let records = 0;
    for (let s = 1; s <= 60; s++) p.sample(s * 1000, (records += 50_000));
    for (let s = 61; s <= 80; s++) p.sample(s * 1000, (records += 900));
    expect(p.perSecond()).toBe(900);
    expect(p.backlogged(2_000)).toBe(false); // a fetch or two of the live feed
    expect(p.backlogged(12_000)).toBe(true); // 13 s of it: behind again (after a long hold)
  });

  it('says caught up only once the backlog is drained (lag 0), not in its last ten seconds nor its last second', () => {
    const p = new InputPace();
    // A catch-up of 2,000,000 records at 20,000/s, its lag falling to 0 (a static topic), one tick a second.
    const calls: { lag: number; caught: boolean }[] = [];
    for (let s = 0; s <= 100; s++) {
      const lag = 2_000_000 - s * 20_000;
      p.sample(s * 1000, s * 20_000);
      calls.push({ lag, caught: p.caughtUp(s * 1000, lag, 60_000) });
    }
    const caught = calls.filter((c) => c.caught);
    expect(caught).toHaveLength(1);
    expect(caught[0].lag).toBe(0);
    // Ticks with 2..10 s of the pace waiting (no longer a backlog, not drained) said nothing.
    expect(calls.filter((c) => c.lag > 20_000 * CAUGHT_UP_SECONDS && c.lag <= 20_000 * BACKLOG_SECONDS)).toHaveLength(BACKLOG_SECONDS - CAUGHT_UP_SECONDS);
  });

  it('on a live feed whose lag never reaches 0, says caught up once its lag has stayed within a second of the pace for CAUGHT_UP_SETTLED_MS', () => {
    const p = new InputPace();
    let records = 0;
    const calls: boolean[] = [];
    // A catch-up of 70 s at 20,000/s, lag far behind; then the live feed: 900/s, lag 300 at every tick (10 ticks a second).
    for (let t = 0; t < 70_000; t += 100) {
      p.sample(t, (records += 2_000));
      calls.push(p.caughtUp(t, 5_000_000, 60_000));
    }
    for (let t = 70_000; t < 100_000; t += 100) {
      p.sample(t, (records += 90));
      calls.push(p.caughtUp(t, 300, 60_000));
    }
    expect(calls.filter((c) => c)).toHaveLength(1);
    // Within a second of the pace from the first live tick (300 records), said CAUGHT_UP_SETTLED_MS later.
    expect(calls.indexOf(true) * 100).toBe(70_000 + CAUGHT_UP_SETTLED_MS);
  });

  it('keeps at most the window of samples', () => {
    const p = new InputPace();
    for (let i = 0; i < 10_000; i++) p.sample(i * 100, i);
    expect((p as unknown as { samples: unknown[] }).samples.length).toBeLessThanOrEqual(BACKLOG_SECONDS * 10 + 1);
    expect(p.perSecond()).toBeCloseTo(10, 6);
  });

  it('says caught up once, when a backlog of at least the given length ends; not after a short one, nor while it lasts', () => {
    const p = new InputPace();
    const MIN_MS = 60_000;
    let records = 0;
    const at = (s: number, perSecond: number, lag: number): boolean => {
      p.sample(s * 1000, (records += perSecond));
      return p.caughtUp(s * 1000, lag, MIN_MS);
    };
    // A catch-up: 20,000/s with over 12 s of it waiting, for 100 s; then the live feed (100/s, lag of a fetch).
    const calls: boolean[] = [];
    for (let s = 0; s < 100; s++) calls.push(at(s, 20_000, 250_000 + (100 - s) * 20_000));
    expect(calls.every((c) => !c)).toBe(true);
    for (let s = 100; s < 112; s++) calls.push(at(s, 100, 50));
    // Once, at the first tick the lag is at most a second of the (falling) pace.
    expect(calls.filter((c) => c)).toHaveLength(1);
    const first = calls.indexOf(true);
    expect(first).toBeGreaterThanOrEqual(100);
    // A backlog of 20 s (shorter than MIN_MS), then live again: nothing.
    const later: boolean[] = [];
    for (let s = 112; s < 132; s++) later.push(at(s, 100, 1_000_000));
    for (let s = 132; s < 150; s++) later.push(at(s, 100, 10));
    expect(later.some((c) => c)).toBe(false);
    // A barrier holds the live feed 63 s: the input it kept waiting is timed from the hold's end (4 s to read): nothing.
    const held: boolean[] = [];
    for (let s = 150; s < 213; s++) {
      p.sample(s * 1000, records);
      held.push(p.caughtUp(s * 1000, (s - 149) * 1000, MIN_MS, true));
    }
    for (let s = 213; s < 217; s++) held.push(at(s, 16_000, 63_000 - (s - 212) * 15_000));
    for (let s = 217; s < 240; s++) held.push(at(s, 1_000, 20));
    expect(held.some((c) => c)).toBe(false);
    // A catch-up that was a backlog before a hold inside it still counts as one from its start.
    const long: boolean[] = [];
    for (let s = 240; s < 300; s++) long.push(at(s, 20_000, 2_000_000));
    for (let s = 300; s < 310; s++) {
      p.sample(s * 1000, records);
      long.push(p.caughtUp(s * 1000, 2_000_000, MIN_MS, true));
    }
    for (let s = 310; s < 320; s++) long.push(at(s, 100, 10));
    expect(long.filter((c) => c)).toHaveLength(1);
    // A start on a live feed (no pace yet: a backlog of one tick): nothing.
    const q = new InputPace();
    q.sample(0, 0);
    expect(q.caughtUp(0, 5, MIN_MS)).toBe(false);
    q.sample(1000, 100);
    expect(q.caughtUp(1000, 5, MIN_MS)).toBe(false);
  });
});
