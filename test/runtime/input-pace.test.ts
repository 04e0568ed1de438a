/**
 * The backlog test of the checkpoint hold budget (runtime/kafka/input-pace.ts):
 * more than BACKLOG_SECONDS of the recent read pace waiting is a backlog.
 */
import { describe, expect, it } from 'vitest';
import { BACKLOG_SECONDS, InputPace } from '../../src/runtime/kafka/input-pace.js';

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

  it('keeps at most the window of samples', () => {
    const p = new InputPace();
    for (let i = 0; i < 10_000; i++) p.sample(i * 100, i);
    expect((p as unknown as { samples: unknown[] }).samples.length).toBeLessThanOrEqual(BACKLOG_SECONDS * 10 + 1);
    expect(p.perSecond()).toBeCloseTo(10, 6);
  });
});
