/**
 * The issuer outage the end-to-end alert test injects (src/sim/scenarios/
 * issuer-outage.ts) is labelled exactly: the engine finds every outage orphan
 * with the labelled cause and status, and no anomaly without a label. Off, it
 * changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import { parseLine } from '../../src/ingest/jsonl.js';
import { ISSUER_OUTAGE_SCENARIO, simulate, SIM_DEFAULTS, type SimOptions } from '../../src/sim/index.js';

const START = SIM_DEFAULTS.startMs;
const OUTAGE = { issuerId: '100120', fromMs: START + 5 * 60_000, toMs: START + 15 * 60_000, rate: 0.1 };

/** The anomaly's key as docs/semantics.md "Identity" defines it (and the labels carry it). */
function keyOf(a: Anomaly): string {
  const day = new Date(a.event_time).toISOString().slice(0, 10);
  const key = a.kind === 'TERMINAL_FAULT_SPIKE' ? `${a.terminal_id}|${day}`
    : ['CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL'].includes(a.kind) ? `${a.card_token}|${day}` : a.rrn;
  return `${a.kind}|${key}`;
}

function runOnce(o: SimOptions) {
  const finals = new Map<string, Anomaly>();
  const { engine } = createPipeline(() => DEFAULT_RULES, { anomaly: (a) => finals.set(a.anomaly_id, a) });
  const sim = simulate(o);
  let n = 0;
  const lines: string[] = [];
  for (const r of sim.records) {
    lines.push(r.line);
    const p = parseLine(r.stream, 'sim', ++n, r.line);
    if (p.ok) engine.push(r.stream, p.event);
  }
  engine.end();
  const got = new Map([...finals.values()].filter((a) => a.status !== 'RETRACTED').map((a) => [keyOf(a), a]));
  return { got, labels: sim.labels, lines };
}

describe('issuer outage scenario', () => {
  const base: SimOptions = { seed: 9, minutes: 30, tps: 5, startMs: START };

  it('every outage attempt is an ISSUER_LATE_APPROVAL orphan of that issuer, and every anomaly has a label', () => {
    const { got, labels } = runOnce({ ...base, issuerOutage: OUTAGE });
    const outage = labels.filter((l) => l.scenario === ISSUER_OUTAGE_SCENARIO);
    expect(outage.length).toBeGreaterThan(100);
    for (const l of outage) {
      const e = l.expected[0];
      const a = got.get(`ORPHAN_DEBIT|${e.key}`);
      expect(a, e.key).toBeDefined();
      expect(a).toMatchObject({ cause: 'ISSUER_LATE_APPROVAL', status: e.status, issuer_id: OUTAGE.issuerId });
      expect(a!.event_time).toBeGreaterThanOrEqual(OUTAGE.fromMs);
      expect(a!.event_time).toBeLessThan(OUTAGE.toMs + 60_000);
    }
    const expected = new Set(labels.flatMap((l) => (l.expected ?? []).map((e) => `${e.kind}|${e.key}`)));
    for (const k of got.keys()) expect(expected.has(k), k).toBe(true);
    expect(got.size).toBe(expected.size);
  });

  it('without the option the output is byte-for-byte what it was', () => {
    const off = runOnce(base);
    const again = runOnce({ ...base, issuerOutage: undefined });
    expect(again.lines).toEqual(off.lines);
    expect(off.labels.some((l) => l.scenario === ISSUER_OUTAGE_SCENARIO)).toBe(false);
  });

  it('refuses a bad window or rate', () => {
    expect(() => simulate({ ...base, issuerOutage: { ...OUTAGE, toMs: OUTAGE.fromMs } })).toThrow(/fromMs must be before toMs/);
    expect(() => simulate({ ...base, issuerOutage: { ...OUTAGE, rate: 0 } })).toThrow(/rate must be in/);
  });
});
