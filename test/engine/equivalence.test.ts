/**
 * The streaming engine's final anomalies equal the batch reference's
 * (docs/semantics.md), whatever the arrival order: realistic delays, any
 * interleaving of the streams, and fully shuffled input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, buildRules, type Rules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import { compareAnomalies, formatReport } from '../../src/eval/compare.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import { randomScenario, rng, type Arrival } from '../support/scenarios.js';

const DEBIT_RULES: Rules = buildRules({
  cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false },
});
/** Fully shuffled input is hours late by design: keep decided state long enough to re-evaluate it. */
const PATIENT_RULES: Rules = buildRules({
  time: { allowedLatenessMs: 3 * 3_600_000 },
  cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false },
});

/** Under Stryker (npm run test:mutation) each mutant reruns these: a quarter of the seeds keeps it affordable. */
const MUTATING = process.env.STRYKER_MUTATOR_WORKER !== undefined;
const SEEDS = MUTATING ? 15 : 60;
const RUNS = MUTATING ? 15 : 60;

function runEngine(arrivals: readonly Arrival[], rules: Rules): { versions: Anomaly[]; engine: Engine } {
  const versions: Anomaly[] = [];
  const engine = new Engine({ rules: () => rules, output: { anomaly: (a) => versions.push(a) } });
  for (const a of arrivals) engine.push(a.stream, a.event);
  engine.end();
  return { versions, engine };
}

function expectAgreement(arrivals: readonly Arrival[], ref: Anomaly[], rules: Rules): void {
  const { versions, engine } = runEngine(arrivals, rules);
  const report = compareAnomalies(versions, ref);
  if (!report.agree) throw new Error(formatReport(report));
  expect(engine.openAttempts()).toBe(0);
}

describe('engine equals the batch reference', () => {
  it('on realistic arrival (delays up to max_delay, drift, redeliveries) over many seeds', () => {
    let anomalies = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { builder, arrivals } = randomScenario(seed);
      const ref = referenceAnomalies(builder.streams(), DEBIT_RULES);
      anomalies += ref.length;
      expectAgreement(arrivals, ref, DEBIT_RULES);
    }
    // The scenarios must actually exercise the definitions.
    expect(anomalies).toBeGreaterThan(5 * SEEDS);
  });

  it('with a share of events exactly on every debit window edge and 1 ms either side', () => {
    let anomalies = 0;
    const onEdge = { dupWindow: 0, dupEqualTime: 0, failedAtResponse: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { builder, arrivals } = randomScenario(seed, 40, { boundaryShare: 0.3, rules: DEBIT_RULES });
      const ref = referenceAnomalies(builder.streams(), DEBIT_RULES);
      anomalies += ref.length;
      expectAgreement(arrivals, ref, DEBIT_RULES);
      for (const a of ref) {
        if (a.kind === 'ORPHAN_DEBIT' && a.cause === 'TERMINAL_FAILED_AFTER_APPROVAL') onEdge.failedAtResponse++;
        if (a.kind !== 'DUPLICATE_DEBIT') continue;
        const t1s = a.evidence.bank.filter((e) => e.event_type === 'AUTH_APPROVED' && e.event_time !== a.event_time).map((e) => a.event_time - e.event_time);
        if (t1s.includes(DEBIT_RULES.duplicateDebit.windowMs)) onEdge.dupWindow++;
        if (a.evidence.bank.filter((e) => e.event_type === 'AUTH_APPROVED' && e.event_time === a.event_time).length > 1) onEdge.dupEqualTime++;
      }
    }
    expect(anomalies).toBeGreaterThan(5 * SEEDS);
    // The edges are met, not just aimed at: duplicates exactly one window apart and at equal times exist.
    expect(onEdge.dupWindow).toBeGreaterThan(0);
    expect(onEdge.dupEqualTime).toBeGreaterThan(0);
    expect(onEdge.failedAtResponse).toBeGreaterThan(0);
  });

  it('with edges, whatever the arrival order (fully shuffled)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 2 ** 31 }), (seed, mix) => {
        const { builder, arrivals } = randomScenario(seed, 25, { boundaryShare: 0.3, rules: PATIENT_RULES });
        const ref = referenceAnomalies(builder.streams(), PATIENT_RULES);
        const r = rng(mix);
        const shuffled = [...arrivals];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        expectAgreement(shuffled, ref, PATIENT_RULES);
      }),
      { numRuns: RUNS },
    );
  });

  it('whatever the interleaving of the three streams (each stream keeps its order)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 2 ** 31 }), (seed, mix) => {
        const { builder, arrivals } = randomScenario(seed, 25);
        const ref = referenceAnomalies(builder.streams(), DEBIT_RULES);
        const r = rng(mix);
        const queues = ['terminal', 'gateway', 'bank'].map((s) => arrivals.filter((a) => a.stream === s));
        const merged: Arrival[] = [];
        while (queues.some((q) => q.length > 0)) {
          const live = queues.filter((q) => q.length > 0);
          merged.push(live[Math.floor(r() * live.length)].shift()!);
        }
        expectAgreement(merged, ref, DEBIT_RULES);
      }),
      { numRuns: RUNS },
    );
  });

  it('with one whole stream read after another', () => {
    const { builder, arrivals } = randomScenario(7);
    const ref = referenceAnomalies(builder.streams(), DEBIT_RULES);
    for (const order of [['bank', 'gateway', 'terminal'], ['terminal', 'bank', 'gateway']]) {
      expectAgreement(order.flatMap((s) => arrivals.filter((a) => a.stream === s)), ref, DEBIT_RULES);
    }
  });

  it('with fully shuffled arrival (late evidence re-evaluates decisions; RETRACTED drops out)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 2 ** 31 }), (seed, mix) => {
        const { builder, arrivals } = randomScenario(seed, 25);
        const ref = referenceAnomalies(builder.streams(), PATIENT_RULES);
        const shuffled = [...arrivals];
        const r = rng(mix);
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        expectAgreement(shuffled, ref, PATIENT_RULES);
      }),
      { numRuns: RUNS },
    );
  });

  it('is deterministic: same input, same anomaly ids and versions', () => {
    const { arrivals } = randomScenario(3);
    const strip = (v: Anomaly[]) => v.map((a) => ({ ...a, detected_at: 0 }));
    expect(strip(runEngine(arrivals, DEFAULT_RULES).versions)).toEqual(strip(runEngine(arrivals, DEFAULT_RULES).versions));
  });
});
