/** Backtest periods: the bounds analysts type, and the margins read around them. */
import { describe, expect, it } from 'vitest';
import { buildRules, DEFAULT_RULES } from '../../src/config/rules.js';
import { parseMarginMs, parseTimeBound, readRange, settleMs, warmupMs } from '../../src/backtest/period.js';

const NOW = Date.UTC(2026, 10, 15, 12, 30);
const H = 3_600_000;

describe('backtest period bounds', () => {
  it.each([
    ['2026-11-01T00:00Z', Date.UTC(2026, 10, 1)],
    ['2026-11-01T02:00:30.5+02:00', Date.UTC(2026, 10, 1, 0, 0, 30, 500)],
    ['2026-11-01', Date.UTC(2026, 10, 1)],
    ['now', NOW],
    ['now-7d', NOW - 7 * 24 * H],
    ['-36h', NOW - 36 * H],
    ['now - 90m', NOW - 1.5 * H],
  ])('%s', (text, want) => {
    expect(parseTimeBound('--from', text, NOW)).toBe(want);
  });

  it.each(['', 'yesterday', '2026-11-01T00:00', '2026-13-01', 'now+1d', '7d', '2026-11-01 00:00Z'])('refuses %j with one line naming the option', (text) => {
    expect(() => parseTimeBound('--to', text, NOW)).toThrow(/^--to: expected an ISO-8601 time with a zone/);
  });

  it('margins: durations with a unit only', () => {
    expect(parseMarginMs('--warmup', '36h')).toBe(36 * H);
    expect(() => parseMarginMs('--settle', '36')).toThrow(/^--settle: expected a duration like 90m/);
  });
});

describe('the range read around a period', () => {
  it('warms up over the longest window (the travel horizon by default) and settles over the resolution horizon', () => {
    const t = DEFAULT_RULES.time;
    const drift = t.terminalMaxDriftMs + t.clockSkewMs + t.maxDelayMs;
    // 20015 km at 900 km/h, the farthest two points on Earth can be.
    expect(warmupMs(DEFAULT_RULES)).toBeGreaterThan(22 * H + drift);
    expect(warmupMs(DEFAULT_RULES)).toBeLessThan(22.5 * H + drift);
    expect(warmupMs(buildRules({ impossibleTravel: { enabled: false } }))).toBe(H + drift); // card velocity's hour
    expect(settleMs(DEFAULT_RULES)).toBe(24 * H + drift);
    expect(settleMs(buildRules({ debits: { resolutionHorizonMs: 1000, reversalGraceMs: 2 * H } }))).toBe(2 * H + drift);
  });

  it('takes the wider margin of the two rule sets, and reaches back to the UTC day start (pattern ids are per day)', () => {
    const from = Date.UTC(2026, 10, 10, 23, 0);
    const to = Date.UTC(2026, 10, 11, 1, 0);
    const slow = buildRules({ impossibleTravel: { maxSpeedKmh: 450 } });
    const p = readRange(from, to, [DEFAULT_RULES, slow]);
    expect(p.readFromMs).toBe(Date.UTC(2026, 10, 9)); // from − ~45 h falls on the 9th
    expect(p.readToMs).toBe(to + settleMs(DEFAULT_RULES));
    expect(readRange(from, to, [DEFAULT_RULES], { warmupMs: H, settleMs: 0 })).toEqual({ fromMs: from, toMs: to, readFromMs: from - H, readToMs: to });
    expect(() => readRange(to, from, [DEFAULT_RULES])).toThrow(/must be before --to/);
  });
});
