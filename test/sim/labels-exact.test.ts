/**
 * Harder runs than the default: many injected scenarios sharing a small world,
 * and a span across midnight UTC (day-keyed patterns). The anomalies in the
 * data must still be exactly the ones the labels announce.
 */
import { describe, expect, it } from 'vitest';
import { buildRules, DEFAULT_RULES, type Rules } from '../../src/config/rules.js';
import type { BankEvent, GatewayEvent, TerminalEvent } from '../../src/events/index.js';
import { validateEvent } from '../../src/ingest/validate.js';
import { SIM_DEFAULTS, type SimOptions, simulate } from '../../src/sim/index.js';
import { oracle } from './oracle.js';

function check(opts: SimOptions, rules: Rules = DEFAULT_RULES): { announced: number } {
  const sim = simulate({ ...opts, rules });
  const events = { terminal: [] as TerminalEvent[], gateway: [] as GatewayEvent[], bank: [] as BankEvent[] };
  for (const r of sim.records) {
    if (r.bad !== undefined) continue;
    const v = validateEvent(r.stream, JSON.parse(r.line));
    expect(v.ok, r.line).toBe(true);
    if (v.ok) (events[r.stream] as unknown[]).push(v.event);
  }
  const fmt = (a: { kind: string; key: string; cause?: string; status: string }) => `${a.kind}|${a.key}|${a.cause ?? ''}|${a.status}`;
  const announced = sim.labels.flatMap((l) => l.expected.map(fmt)).sort();
  const found = oracle(events, rules).map(fmt).sort();
  expect(found).toEqual(announced);
  return { announced: announced.length };
}

describe('simulate: labels stay exact under pressure', () => {
  it('with a third of all attempts injected, across midnight UTC', () => {
    const r = check({ ...SIM_DEFAULTS, seed: 9, minutes: 45, tps: 4, faultRate: 0.33, startMs: Date.UTC(2026, 2, 2, 23, 35) });
    expect(r.announced).toBeGreaterThan(200);
  });

  it('with other thresholds: scenarios aim at the defaults, labels follow the rules given', () => {
    const rules = buildRules({
      debits: { reversalGraceMs: 120_000 },
      duplicateDebit: { windowMs: 900_000 },
      cardVelocity: { minDebits: 6, minSumMinor: 2_000_000 },
      cardTesting: { minAttempts: 5, minDeclined: 3 },
      terminalFaultSpike: { windowMs: 1_200_000, minSignals: 4 },
      impossibleTravel: { minDistanceKm: 200, maxSpeedKmh: 500 },
    });
    const r = check({ ...SIM_DEFAULTS, seed: 21, minutes: 40, tps: 3, faultRate: 0.2 }, rules);
    expect(r.announced).toBeGreaterThan(200);
  });

  it('in a tiny world (few terminals and cards) over several hours', () => {
    const r = check({ ...SIM_DEFAULTS, seed: 7, minutes: 240, tps: 0.3, faultRate: 0.2 });
    expect(r.announced).toBeGreaterThan(50);
  });
});
