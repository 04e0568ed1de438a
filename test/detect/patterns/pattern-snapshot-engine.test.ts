/**
 * Checkpoints of the pattern state (issue 13), fed as in production: the
 * stage-1 engine runs the random debit scenarios of test/support (with their
 * boundary shares: events on the max_delay edge, equal-time terminal events,
 * redeliveries; one bank event in eight delivered late), and every call it makes on the card patterns and the fault
 * spikes is recorded. Those call sequences (the engine's frontiers, its late
 * flags, its signal order) are then replayed with cuts: snapshot, JSON,
 * restore into a fresh detector, go on. Output and state must equal the
 * uninterrupted replay's, which must equal what the engine's own detectors did.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Engine } from '../../../src/engine/engine.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import { TerminalFaultSpikes } from '../../../src/detect/patterns/fault-spike.js';
import { randomScenario, rng, type Arrival } from '../../support/scenarios.js';
import { rules } from './helpers.js';
import { driveDeltas, expectRealDeltas } from './delta-helpers.js';
import { applyCard, applySignal, drive, expectSameRun, randomCuts, type CardOp, type SignalOp } from './snapshot-helpers.js';

const WALL = Date.UTC(2030, 0, 1);
beforeEach(() => void vi.spyOn(Date, 'now').mockReturnValue(WALL));
afterEach(() => void vi.restoreAllMocks());

/** Low pattern thresholds: three cards and three terminals over 40 minutes fire every reachable kind. */
const R = rules({
  cardTesting: { minAttempts: 3, minDeclined: 1, minMerchants: 2, maxAmountMinor: 3000 },
  cardVelocity: { minDebits: 4 },
  terminalFaultSpike: { minSignals: 2 },
});

/** One bank event in eight arrives up to half the allowed lateness after max_delay: late facts reach the card patterns. */
function lateBankEvents(seed: number, arrivals: readonly Arrival[]): Arrival[] {
  const r = rng(seed ^ 0x2545f491);
  const spanMs = R.time.allowedLatenessMs / 2;
  return arrivals
    .map((a) => (a.stream === 'bank' && r() < 0.125 ? { ...a, arrivalMs: a.arrivalMs + R.time.maxDelayMs + Math.floor(r() * spanMs) } : a))
    .sort((x, y) => x.arrivalMs - y.arrivalMs);
}

/** The engine's calls on both pattern detectors for one scenario, and what real detectors given them emit. */
function recorded(seed: number): { cardOps: CardOp[]; signalOps: SignalOp[]; emitted: Anomaly[] } {
  const cardOps: CardOp[] = [];
  const signalOps: SignalOp[] = [];
  const emitted: Anomaly[] = [];
  const cp = new CardPatterns(() => R, (a) => void emitted.push(a));
  const fs = new TerminalFaultSpikes(() => R, (a) => void emitted.push(a));
  const engine = new Engine({
    rules: () => R,
    output: { anomaly: () => undefined },
    cardPatterns: {
      push: (f) => { cardOps.push({ push: f }); cp.push(f); },
      advance: (w) => { cardOps.push({ advance: w }); cp.advance(w); },
      activeCards: () => cp.activeCards(),
    },
    faultSpikes: {
      push: (s) => { signalOps.push({ push: s }); fs.push(s); },
      advance: (w) => { signalOps.push({ advance: w }); fs.advance(w); },
      end: () => { signalOps.push({ end: true }); fs.end(); },
    },
  });
  for (const a of lateBankEvents(seed, randomScenario(seed, 60, { boundaryShare: 0.3, rules: R }).arrivals)) engine.push(a.stream, a.event);
  engine.end();
  return { cardOps, signalOps, emitted };
}

describe('pattern snapshot/restore on the engine\'s own call sequences', () => {
  it('card patterns and fault spikes continue exactly, at random cuts, across seeds', () => {
    const kinds = new Set<string>();
    let lateFacts = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const { cardOps, signalOps, emitted } = recorded(seed);
      const cards = drive((emit) => new CardPatterns(() => R, emit), cardOps, applyCard, []);
      const faults = drive((emit) => new TerminalFaultSpikes(() => R, emit), signalOps, applySignal, []);
      // The replay is faithful: the same anomalies as the detectors the engine drove.
      expect([...cards.out, ...faults.out].sort((a, b) => (a.anomaly_id + a.version < b.anomaly_id + b.version ? -1 : 1)))
        .toEqual([...emitted].sort((a, b) => (a.anomaly_id + a.version < b.anomaly_id + b.version ? -1 : 1)));
      for (const a of emitted) kinds.add(a.kind);
      lateFacts += cardOps.filter((op) => 'push' in op && op.push.late).length;
      for (const c of [...randomCuts(seed * 17, cardOps.length, 6), cardOps.length]) {
        expectSameRun(drive((emit) => new CardPatterns(() => R, emit), cardOps, applyCard, [c]), cards, `seed ${seed}, card cut at ${c} of ${cardOps.length}`);
      }
      for (const c of [...randomCuts(seed * 19, signalOps.length, 6), signalOps.length]) {
        expectSameRun(drive((emit) => new TerminalFaultSpikes(() => R, emit), signalOps, applySignal, [c]), faults, `seed ${seed}, signal cut at ${c} of ${signalOps.length}`);
      }
    }
    expect([...kinds].sort()).toEqual(['CARD_TESTING', 'CARD_VELOCITY', 'TERMINAL_FAULT_SPIKE']);
    expect(lateFacts).toBeGreaterThan(0);
  });

  it('card patterns: base + delta captures equal a full capture at every cut, and restores from them continue exactly', () => {
    let restores = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const { cardOps } = recorded(seed);
      const make = (emit: (a: Anomaly) => void): CardPatterns => new CardPatterns(() => R, emit);
      const base = driveDeltas(make, cardOps, applyCard, [], () => false);
      const cuts = [...randomCuts(seed * 23, cardOps.length, 25), cardOps.length];
      const everyOp = cardOps.map((_, i) => i + 1);
      for (const [what, at, restoreAt] of [['every cut', cuts, () => true], ['every 7th of a capture at every op', everyOp, (k: number) => k % 7 === 6]] as const) {
        const run = driveDeltas(make, cardOps, applyCard, at, restoreAt);
        expectSameRun(run, base, `seed ${seed}, restore at ${what}`);
        // These tables hold a few cards: an advance that releases any outweighs the table, and the capture comes
        // whole. Deltas with removes are checked on the 30-card scripts of pattern-snapshot.test.ts.
        expectRealDeltas(run.stats, false);
        restores += run.stats.restores;
      }
    }
    expect(restores).toBeGreaterThan(200);
  });
});
