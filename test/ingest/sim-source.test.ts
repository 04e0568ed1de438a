/** Simulated records as a Source: parsed like file lines, numbered from 1, paced onto the wall clock when asked. */
import { describe, expect, it } from 'vitest';
import type { SourceTarget } from '../../src/ingest/source.js';
import { SimSource, type ArrivingLine } from '../../src/ingest/sim-source.js';
import { simulate } from '../../src/sim/index.js';

const START = Date.UTC(2026, 2, 2, 8);

interface Collected {
  readonly target: SourceTarget;
  readonly lines: number[];
  readonly bad: { line: number | null; source: string; reason: string }[];
  readies: number;
}

function collect(): Collected {
  const c: Collected = {
    lines: [],
    bad: [],
    readies: 0,
    target: {
      event: (_s, _e, ref) => void c.lines.push(ref.line!),
      bad: (b) => void c.bad.push({ line: b.line, source: b.source, reason: b.reason }),
      ready: () => void c.readies++,
    },
  };
  return c;
}

describe('SimSource', () => {
  it('pushes every record in arrival order as fast as possible when wallMs is 0: lines 1..n, broken lines as bad records', async () => {
    const records = [...simulate({ seed: 4, minutes: 3, tps: 5, startMs: START, badRecordRate: 0.01 }).records];
    const c = collect();
    const slept: number[] = [];
    await new SimSource(records, { spanMs: 3 * 60_000, wallMs: 0, sleep: async (ms) => void slept.push(ms) }).run(c.target);
    expect(slept).toEqual([]);
    const all = [...c.lines, ...c.bad.map((b) => b.line!)].sort((a, b) => a - b);
    expect(all).toEqual(records.map((_, i) => i + 1));
    expect(c.bad.length).toBeGreaterThan(0);
    expect(c.bad.every((b) => b.source === 'simulator' && b.reason.length > 0)).toBe(true);
    expect(c.readies).toBe(Math.floor(records.length / 1024));
  });

  it('paces arrival time onto the wall clock: the record at 3/4 of the span waits until 3/4 of wallMs', async () => {
    // 1,024 valid-looking lines whose arrival times spread evenly over a 60 s span; every line is "bad" JSON, which does not matter to pacing.
    const records: ArrivingLine[] = Array.from({ length: 1024 }, (_, i) => ({ stream: 'terminal', line: '{', arrivalMs: START + Math.round((i * 60_000) / 1023) }));
    let now = 1_000_000;
    const waits: number[] = [];
    const source = new SimSource(records, { spanMs: 60_000, wallMs: 6_000, now: () => now, sleep: async (ms) => {
      waits.push(Math.round(ms));
      now += ms;
    } });
    await source.run(collect().target);
    // Checked every 256 records: record k arrived at (k-1)/1023 of the span, so it is due at that share of 6 s.
    const dueAt = [256, 512, 768, 1024].map((k) => ((k - 1) / 1023) * 6_000);
    const waitedUntil = waits.map((_, i) => waits.slice(0, i + 1).reduce((x, y) => x + y, 0));
    expect(waitedUntil).toHaveLength(4);
    waitedUntil.forEach((t, i) => expect(Math.abs(t - dueAt[i])).toBeLessThanOrEqual(2));
  });

  it('stop() ends run() before the next record', async () => {
    const records: ArrivingLine[] = Array.from({ length: 5000 }, (_, i) => ({ stream: 'bank', line: 'x', arrivalMs: START + i }));
    const source = new SimSource(records, { spanMs: 5000, wallMs: 0 });
    let seen = 0;
    await source.run({ event: () => undefined, bad: () => void (++seen === 10 && source.stop()), ready: () => undefined });
    expect(seen).toBe(10);
  });
});
