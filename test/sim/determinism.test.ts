/** Same options, same bytes; the files are exactly the in-memory records, streamed with bounded memory. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { SIM_DEFAULTS, SIM_FILES, type SimOptions, simulate, writeSimulation } from '../../src/sim/index.js';
import { resolveSimOptions } from '../../src/sim/index.js';
import { Simulator } from '../../src/sim/simulator.js';

const small: SimOptions = { ...SIM_DEFAULTS, seed: 42, minutes: 6, tps: 20 };
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'posguard-sim-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function digest(dir: string): Record<string, string> {
  return Object.fromEntries(Object.values(SIM_FILES).map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

describe('simulate: determinism', () => {
  it('writes byte-identical files for the same seed, different ones for another seed', async () => {
    const a = tmp();
    const b = tmp();
    const c = tmp();
    await writeSimulation(a, small);
    await writeSimulation(b, small);
    await writeSimulation(c, { ...small, seed: 43 });
    expect(digest(a)).toEqual(digest(b));
    const da = digest(a);
    const dc = digest(c);
    for (const f of Object.values(SIM_FILES)) expect(dc[f], f).not.toBe(da[f]);
  });

  it('does not depend on the wall clock or Math.random', () => {
    const lines = () => [...simulate({ ...small, minutes: 2 }).records].map((r) => r.line).join('\n');
    const first = lines();
    const realRandom = Math.random;
    const realNow = Date.now;
    Math.random = () => 0.5;
    Date.now = () => 0;
    try {
      expect(lines()).toBe(first);
    } finally {
      Math.random = realRandom;
      Date.now = realNow;
    }
  });

  it('writes each file in arrival order, exactly the records simulate() yields, and counts them', async () => {
    const dir = tmp();
    const res = await writeSimulation(dir, small);
    const sim = simulate(small);
    const byStream: Record<string, string[]> = { terminal: [], gateway: [], bank: [] };
    let last = -Infinity;
    for (const r of sim.records) {
      expect(r.arrivalMs).toBeGreaterThanOrEqual(last);
      last = r.arrivalMs;
      byStream[r.stream].push(r.line);
    }
    for (const s of ['terminal', 'gateway', 'bank'] as const) {
      const text = readFileSync(join(dir, SIM_FILES[s]), 'utf8');
      expect(text).toBe(byStream[s].join('\n') + '\n');
      expect(res.counts[s]).toBe(byStream[s].length);
    }
    const labels = readFileSync(join(dir, SIM_FILES.labels), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { scenario: string });
    expect(labels.length).toBe(res.labels);
    expect(labels.length).toBe(sim.labels.length);
  });

  it('holds only the records still in flight (about max delay worth), not the whole run', () => {
    const tps = 100;
    const sim = new Simulator(resolveSimOptions({ ...SIM_DEFAULTS, minutes: 5, tps }), []);
    let n = 0;
    for (const _ of sim.records()) n++;
    // ~9 events per attempt, arriving up to max delay after the attempt's events.
    const bound = tps * 1.3 * 9 * ((DEFAULT_RULES.time.maxDelayMs + 35_000) / 1000);
    expect(sim.out.maxPending).toBeLessThan(bound);
    expect(sim.out.maxPending).toBeLessThan(n / 2);
  });

  it('writes clean traffic when every rate is zero', () => {
    const sim = simulate({ ...small, minutes: 3, faultRate: 0, badRecordRate: 0, redeliveryRate: 0, lateEventRate: 0 });
    const records = [...sim.records];
    expect(records.some((r) => r.bad !== undefined || r.redelivery || r.late)).toBe(false);
    expect(sim.labels).toEqual([]);
  });
});
