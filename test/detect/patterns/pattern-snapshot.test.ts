/**
 * Checkpoints of the pattern state (issue 13): snapshot a detector at a cut,
 * send the state through JSON, restore it into a fresh detector and go on.
 * The anomalies emitted (every field, versions included: Date.now is pinned
 * so detected_at compares too) and the final state must be exactly those of
 * the run that was never interrupted, at every cut: seeded random ones, right
 * after a decision, right after a late fact, on both sides of UTC midnight,
 * and several cuts in one run.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Rules } from '../../../src/config/rules.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import { TerminalFaultSpikes } from '../../../src/detect/patterns/fault-spike.js';
import { GONE_FLOOR } from '../../../src/detect/patterns/change-tracker.js';
import { PATTERN_STATE_VERSION } from '../../../src/detect/patterns/state/codec.js';
import type { CardPatternsState } from '../../../src/detect/patterns/state/card-patterns-state.js';
import type { FaultSpikeState } from '../../../src/detect/patterns/state/fault-spike-state.js';
import type { CardFact, HardwareSignal } from '../../../src/detect/patterns/types.js';
import { DAY_MS, dayOf } from '../../../src/detect/patterns/window.js';
import { PosguardError } from '../../../src/errors.js';
import type { JsonText } from '../../../src/util/item-delta.js';
import { rng } from '../../support/scenarios.js';
import { fact, MIN, rules, SEC, signal } from './helpers.js';
import { driveDeltas, expectRealDeltas } from './delta-helpers.js';
import { applyCard, applySignal, drive, expectSameRun, randomCuts, roundTrip, type CardOp, type Run, type SignalOp } from './snapshot-helpers.js';

const WALL = Date.UTC(2030, 0, 1);
beforeEach(() => void vi.spyOn(Date, 'now').mockReturnValue(WALL));
afterEach(() => void vi.restoreAllMocks());

/** Low thresholds, so random data fires every card kind often. */
const R = rules({ cardTesting: { minAttempts: 4, minDeclined: 2, minMerchants: 2 }, cardVelocity: { minDebits: 5 } });
const GRACE = R.time.allowedLatenessMs;
/** Starts 90 minutes before a UTC midnight: windows and fired days cross it. */
const START = Date.UTC(2024, 2, 10, 22, 30);
const CITIES = [[52.52, 13.405], [52.52, 13.405], [48.137, 11.575], [40.4168, -3.7038], [40.7128, -74.006], null] as const;

// ---------------------------------------------------------------- card patterns

/** Random facts for a few cards over ~a day and a half, in order; then an arrival script with redeliveries, late and very late facts. */
function cardScript(seed: number, n = 450, cardCount = 5): CardOp[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  let t = START;
  const cards = Array.from({ length: cardCount }, (_, k) => `c${k + 1}`);
  const facts: CardFact[] = [];
  for (let i = 0; i < n; i++) {
    t += Math.floor(r() * r() * 5 * MIN);
    if (r() < 0.01) t += 4 * 3_600_000;
    const loc = pick(CITIES);
    facts.push(fact({
      t, card: pick(cards), merchant: pick(['M00000000000001', 'M00000000000002', 'M00000000000003']),
      amount: pick([300, 900, 1500, 2001, 250_000, 2_600_000]), currency: r() < 0.85 ? 'EUR' : 'USD', approved: r() < 0.45,
      txn_type: pick(['SALE', 'SALE', 'PREAUTH', 'REFUND']), lat: loc === null ? null : loc[0], lon: loc === null ? null : loc[1],
    }));
  }
  const ops: CardOp[] = [];
  const waiting: { f: CardFact; dueMs: number }[] = [];
  for (const f of facts) {
    for (let k = 0; k < waiting.length; k++) {
      if (waiting[k].dueMs > f.event_time) continue;
      ops.push({ push: { ...waiting[k].f, late: true } });
      waiting.splice(k--, 1);
    }
    const x = r();
    // Held back: late within the allowed lateness (exact), or far beyond it (best effort, never a false id).
    if (x < 0.1) waiting.push({ f, dueMs: f.event_time + Math.floor((0.2 + r() * 0.6) * GRACE) });
    else if (x < 0.115) waiting.push({ f, dueMs: f.event_time + 3 * GRACE + Math.floor(r() * 6 * 3_600_000) });
    else {
      ops.push({ advance: f.event_time }, { push: f });
      if (r() < 0.03) ops.push({ push: f }); // redelivered
    }
  }
  for (const w of waiting) ops.push({ push: { ...w.f, late: true } });
  ops.push({ advance: Infinity });
  return ops;
}

const newCards = (emit: (a: Anomaly) => void, r: Rules = R): CardPatterns => new CardPatterns(() => r, emit);

/** The ops that emitted a version > 1. */
function beforeRevisions(base: Run<unknown>): number[] {
  return base.emitted.flatMap((k, i) => (k > (base.emitted[i - 1] ?? 0) && base.out[k - 1].version > 1 ? [i] : []));
}

/** Cuts worth having besides random ones: right after a decision, after a revision, after a late fact, around midnight. */
function interestingCardCuts(ops: readonly CardOp[], base: Run<CardPatternsState>): number[] {
  const cuts = new Set<number>();
  const firstAt = (p: (i: number) => boolean): void => {
    const i = ops.findIndex((_, k) => p(k));
    if (i >= 0 && i + 1 < ops.length) cuts.add(i + 1);
  };
  firstAt((i) => base.emitted[i] > (base.emitted[i - 1] ?? 0));
  firstAt((i) => base.emitted[i] > (base.emitted[i - 1] ?? 0) && base.out[base.emitted[i] - 1].version > 1);
  // Right before a revision (the first, a middle and the last): the fired day's version must carry over.
  const revisions = beforeRevisions(base);
  if (revisions.length > 0) for (const k of [0, revisions.length >> 1, revisions.length - 1]) cuts.add(revisions[k]);
  firstAt((i) => { const op = ops[i]; return 'push' in op && op.push.late; });
  // The last op before the first advance past a UTC midnight, and the one after it.
  const firstDay = dayOf(START);
  const m = ops.findIndex((op) => 'advance' in op && op.advance !== Infinity && dayOf(op.advance) > firstDay);
  if (m > 0) cuts.add(m).add(m + 1);
  return [...cuts];
}

describe('CardPatterns snapshot/restore', () => {
  it('continues exactly as the uninterrupted run, at random and chosen cuts, across seeds', () => {
    const seen = { kinds: new Set<string>(), revised: 0, late: 0, duplicates: 0, cutsWithOldFiredDay: 0, cutsWithTravelCircle: 0, cuts: 0 };
    for (let seed = 1; seed <= 6; seed++) {
      const ops = cardScript(seed);
      const base = drive(newCards, ops, applyCard, []);
      for (const a of base.out) seen.kinds.add(a.kind);
      seen.revised += base.out.filter((a) => a.version > 1).length;
      seen.late += base.final.skeleton.counters.late;
      seen.duplicates += base.final.skeleton.counters.duplicates;
      const cuts = [...randomCuts(seed * 7919, ops.length, 6), ...interestingCardCuts(ops, base), ops.length];
      for (const c of cuts) {
        const run = drive(newCards, ops, applyCard, [c]);
        expectSameRun(run, base, `seed ${seed}, cut at op ${c} of ${ops.length}`);
        const s = run.states.get(c)!;
        seen.cuts++;
        const wmDay = typeof s.skeleton.frame.wm === 'number' ? dayOf(s.skeleton.frame.wm) : Infinity;
        const windows = s.cards.flatMap(([, card]) => [card.testing, card.velocity, card.travel]);
        if (windows.some((w) => w !== null && w.fired.some(([day]) => day < wmDay))) seen.cutsWithOldFiredDay++;
        if (s.cards.some(([, card]) => card.travel !== null && card.travel.radiusKm !== 0)) seen.cutsWithTravelCircle++;
      }
      // Several cuts in one run: a chain of restores.
      const chain = drive(newCards, ops, applyCard, randomCuts(seed, ops.length, 5));
      expectSameRun(chain, base, `seed ${seed}, several cuts`);
    }
    // The scenarios reach what the checkpoint must carry.
    expect([...seen.kinds].sort()).toEqual(['CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL']);
    expect(seen.revised).toBeGreaterThan(0);
    expect(seen.late).toBeGreaterThan(50);
    expect(seen.duplicates).toBeGreaterThan(0);
    expect(seen.cutsWithOldFiredDay).toBeGreaterThan(0);
    expect(seen.cutsWithTravelCircle).toBeGreaterThan(0);
    expect(seen.cuts).toBeGreaterThan(60);
  });

  it('delta captures: base + deltas equal a full capture at every cut, and a restore from them continues exactly', () => {
    const seen = { restores: 0, textRestores: 0, undecoded: 0, deltas: 0, upserted: 0, tableItems: 0, crossedMidnight: 0, lateBeforeCut: 0 };
    for (let seed = 1; seed <= 6; seed++) {
      for (const [n, cardCount] of [[450, 5], [900, 30]]) {
        const ops = cardScript(seed, n, cardCount);
        const full = drive(newCards, ops, applyCard, []);
        const base = driveDeltas(newCards, ops, applyCard, [], () => false);
        expect(base.out).toEqual(full.out);
        const cuts = [...new Set([...randomCuts(seed * 104_729 + n, ops.length, 30), ...interestingCardCuts(ops, full), ops.length])].sort((a, b) => a - b);
        const firstDay = dayOf(START);
        seen.crossedMidnight += cuts.some((c) => ops.slice(0, c).some((op) => 'advance' in op && op.advance !== Infinity && dayOf(op.advance) > firstDay)) ? 1 : 0;
        seen.lateBeforeCut += cuts.some((c) => 'push' in ops[c - 1] && (ops[c - 1] as { push: CardFact }).push.late) ? 1 : 0;
        for (const [what, restoreAt] of [['every cut', () => true], ['every third cut', (k: number) => k % 3 === 2]] as const) {
          const run = driveDeltas(newCards, ops, applyCard, cuts, restoreAt);
          expectSameRun(run, base, `seed ${seed}, ${cardCount} cards, restore at ${what}`);
          expectRealDeltas(run.stats, cardCount >= 30);
          seen.restores += run.stats.restores;
          seen.textRestores += run.stats.textRestores;
          seen.undecoded += run.stats.undecoded;
          seen.deltas += run.stats.deltas;
          seen.upserted += run.stats.upserted;
          seen.tableItems += run.stats.tableItems;
        }
      }
    }
    expect(seen.restores).toBeGreaterThan(400);
    // Half the restores from the segment's bytes: their cards stayed text until touched, across later captures and probes.
    expect(seen.textRestores).toBeGreaterThan(200);
    expect(seen.undecoded).toBeGreaterThan(1000);
    expect(seen.crossedMidnight).toBe(12);
    expect(seen.lateBeforeCut).toBeGreaterThan(6);
    // With 30 cards, a delta is well under the table.
    expect(seen.upserted).toBeLessThan(seen.tableItems * 0.7);
  });

  it('a captured card is written as its JSON text directly: the same text as the plain item (snapshot) gives, at every 20th op', () => {
    let compared = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const cp = newCards(() => undefined);
      cardScript(seed).forEach((op, i) => {
        applyCard(cp, op);
        if (i % 20 !== 0) return;
        const texts = new Map([...cp.captureCards(true).upserts].map(([k, v]) => [k, (v as JsonText).json]));
        const plain = new Map(cp.snapshot().cards.map(([k, item]) => [k, JSON.stringify(item)]));
        expect(texts, `seed ${seed}, op ${i}`).toEqual(plain);
        compared += plain.size;
      });
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('a capture right after another is empty; a first capture is a base', () => {
    const cp = newCards(() => undefined);
    cp.push(fact({ t: START, card: 'cz', amount: 500 }));
    const first = cp.captureCards(false);
    expect(first.full).toBe(true);
    expect([...first.upserts].map(([k]) => k)).toEqual(['cz']);
    const again = cp.captureCards(false);
    expect(again.full).toBe(false);
    expect([...again.upserts]).toEqual([]);
    expect(again.removes).toEqual([]);
  });

  it('the tracker is bounded: past max(GONE_FLOOR, live cards) cards released since the capture it gives up and the next capture is a base', () => {
    const cp = newCards(() => undefined);
    const t = Date.UTC(2024, 2, 10, 12);
    const n = GONE_FLOOR + 10;
    const push = (from: number, to: number): void => {
      for (let i = from; i < to; i++) cp.push(fact({ t: t + i, card: `b${i}`, amount: 500 }));
    };
    push(0, 5);
    expect(cp.captureCards(false).full).toBe(true);
    push(5, n);
    cp.push(fact({ t: t + 2 * DAY_MS - MIN, card: 'keep', amount: 500 })); // changed, and live after the release
    cp.advance(t + 2 * DAY_MS); // releases every other card: n gone, 1 live
    expect(cp.activeCards()).toBe(1);
    const after = cp.captureCards(false);
    expect(after.full).toBe(true);
    expect([...after.upserts].map(([k]) => k)).toEqual(['keep']);
    // Tracking is back on and forgot what it held when it gave up: a change to the card is in the next delta.
    cp.push(fact({ t: t + 2 * DAY_MS, card: 'keep', amount: 500 }));
    const next = cp.captureCards(false);
    expect(next.full).toBe(false);
    expect([...next.upserts].map(([k]) => k)).toEqual(['keep']);
    // Just at the bound the tracker still holds every token released: with as many cards live as released
    // (l*, pushed late enough to stay), the delta is no larger than the table and names them all.
    push(n, n + GONE_FLOOR - 1);
    for (let i = 0; i < GONE_FLOOR; i++) cp.push(fact({ t: t + 4 * DAY_MS - 10 * MIN + i, card: `l${i}`, amount: 500 }));
    expect(cp.captureCards(false).full).toBe(false);
    cp.advance(t + 4 * DAY_MS); // releases the GONE_FLOOR - 1 cards b* and keep
    expect(cp.activeCards()).toBe(GONE_FLOOR);
    const delta = cp.captureCards(false);
    expect(delta.full).toBe(false);
    expect(delta.removes).toHaveLength(GONE_FLOOR);
    expect([...delta.upserts]).toEqual([]);
  });

  it('a delta that would hold more items than the card table comes whole', () => {
    const cp = newCards(() => undefined);
    const t = Date.UTC(2024, 2, 10, 12);
    cp.push(fact({ t, card: 'a', amount: 500 }));
    for (const c of ['e', 'f']) cp.push(fact({ t: t + 2 * DAY_MS - 30 * MIN, card: c, amount: 500 }));
    expect(cp.captureCards(false).full).toBe(true);
    // a released, e and f unchanged: a delta of 1 item for a table of 2.
    cp.advance(t + 2 * DAY_MS);
    const small = cp.captureCards(false);
    expect([small.full, small.removes, [...small.upserts], cp.activeCards()]).toEqual([false, ['a'], [], 2]);
    // e and f released, g new: 2 removes + 1 upsert for a table of 1: whole.
    cp.push(fact({ t: t + 2 * DAY_MS + 170 * MIN, card: 'g', amount: 500 }));
    cp.advance(t + 2 * DAY_MS + 180 * MIN);
    expect(cp.activeCards()).toBe(1);
    const whole = cp.captureCards(false);
    expect(whole.full).toBe(true);
    expect([...whole.upserts].map(([k]) => k)).toEqual(['g']);
    expect(whole.removes).toEqual([]);
  });

  it('restoreFrom refuses a card table that is not the skeleton\'s', () => {
    const cp = newCards(() => undefined);
    for (const card of ['ca', 'cb']) cp.push(fact({ t: START, card, amount: 500 }));
    const { skeleton, cards } = roundTrip(cp.snapshot());
    expect(() => newCards(() => undefined).restoreFrom(skeleton, new Map(cards.slice(1)))).toThrow(/names 2 cards, the card table holds 1/);
    expect(() => newCards(() => undefined).restoreFrom(skeleton, new Map<string, unknown>([cards[0], ['cb', { bogus: 1 }]]))).toThrow(PosguardError);
    expect(() => newCards(() => undefined).restoreFrom({ ...skeleton, v: 1 }, new Map(cards))).toThrow(/version 1/);
    newCards(() => undefined).restoreFrom(skeleton, new Map(cards));
  });

  it('a window mid-way: the restored detector fires at the same later fact, with the earlier facts as evidence', () => {
    // CARD_TESTING needs 4 small attempts, 2 declined, 2 merchants: cut after 3.
    const t = Date.UTC(2024, 2, 10, 12);
    const ops: CardOp[] = [0, 1, 2, 3].map((i) => ({
      push: fact({ t: t + i * MIN, card: 'cx', amount: 500, approved: i % 2 === 0, merchant: `M0000000000000${i % 2 + 1}` }),
    }));
    const base = drive(newCards, ops, applyCard, []);
    expect(base.out).toHaveLength(1);
    const run = drive(newCards, ops, applyCard, [3]);
    expect(run.states.get(3)!.cards[0][1].testing!.events).toHaveLength(3);
    expect(run.out).toEqual(base.out);
  });

  it('a fired day stays known across the restore: the same card and day does not fire a second version 1', () => {
    const t = Date.UTC(2024, 2, 10, 23, 50);
    const burst = (t0: number): CardOp[] => [0, 1, 2, 3, 4].map((i) => ({ push: fact({ t: t0 + i * SEC, card: 'cy', amount: 400_000 }) }));
    // Velocity fires at 23:50; another spree at 23:55 the same UTC day must stay silent; the next day fires anew.
    const ops = [...burst(t), { advance: t + 5 * MIN }, ...burst(t + 5 * MIN), ...burst(t + 20 * MIN)];
    const base = drive(newCards, ops, applyCard, []);
    expect(base.out.map((a) => [a.kind, dayOf(a.event_time) - dayOf(t), a.version])).toEqual([['CARD_VELOCITY', 0, 1], ['CARD_VELOCITY', 1, 1]]);
    for (let c = 1; c < ops.length; c++) expect(drive(newCards, ops, applyCard, [c]).out).toEqual(base.out);
  });

  it('refuses another version and a detector that already took input', () => {
    const cp = newCards(() => undefined);
    cp.push(fact({ t: START, card: 'cz', amount: 500 }));
    const s = cp.snapshot();
    expect(s.skeleton.v).toBe(PATTERN_STATE_VERSION);
    expect(() => newCards(() => undefined).restore({ ...s, skeleton: { ...s.skeleton, v: 1 } } as unknown as CardPatternsState)).toThrow(PosguardError);
    expect(() => cp.restore(s)).toThrow(/fresh instance/);
  });
});

// ---------------------------------------------------------------- terminal fault spikes

/** Hardware signals of a few terminals over two days; each arrives after a delay (a few beyond max_delay + drift: late, some very late). */
function signalScript(seed: number, n = 260): SignalOp[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  let t = START;
  const arrivals: { s: HardwareSignal; at: number }[] = [];
  for (let i = 0; i < n; i++) {
    t += Math.floor(r() * r() * 12 * MIN);
    if (r() < 0.02) t += 5 * 3_600_000;
    const failed = r() < 0.5;
    const s = signal({
      t, terminal: pick(['T0000001', 'T0000002', 'T0000003']), type: failed ? 'TXN_FAILED' : 'DEVICE_FAULT',
      reason: failed ? pick(['CARD_READ_ERROR', 'PRINTER_ERROR']) : null,
      ...(failed ? { amount: 100 + Math.floor(r() * 5000), currency: 'EUR' } : {}),
    });
    const x = r();
    const delay = x < 0.06 ? R.time.maxDelayMs + R.time.terminalMaxDriftMs + Math.floor(r() * GRACE)
      : x < 0.07 ? 4 * GRACE + Math.floor(r() * 8 * 3_600_000) : Math.floor(r() * R.time.maxDelayMs);
    arrivals.push({ s, at: t + delay });
    if (r() < 0.03) arrivals.push({ s, at: t + delay + Math.floor(r() * 20 * MIN) }); // redelivered
  }
  arrivals.sort((a, b) => a.at - b.at);
  const ops: SignalOp[] = [];
  let latest = -Infinity;
  for (const a of arrivals) {
    latest = Math.max(latest, a.s.event_time);
    ops.push({ push: a.s }, { advance: latest - R.time.maxDelayMs });
  }
  ops.push({ end: true });
  return ops;
}

const newSpikes = (emit: (a: Anomaly) => void): TerminalFaultSpikes => new TerminalFaultSpikes(() => R, emit);

describe('TerminalFaultSpikes snapshot/restore', () => {
  it('continues exactly as the uninterrupted run, with signals pending, late ones and fired days across midnight', () => {
    const seen = { revised: 0, late: 0, duplicates: 0, days: new Set<number>(), cutsWithPending: 0, cutsWithWindows: 0 };
    for (let seed = 1; seed <= 8; seed++) {
      const ops = signalScript(seed);
      const base = drive(newSpikes, ops, applySignal, []);
      seen.revised += base.out.filter((a) => a.version > 1).length;
      seen.late += base.final.counters.late;
      seen.duplicates += base.final.counters.duplicates;
      for (const a of base.out) seen.days.add(dayOf(a.event_time));
      const afterFire = base.emitted.findIndex((k) => k > 0) + 1;
      for (const c of [...randomCuts(seed * 31, ops.length, 8), afterFire, ...beforeRevisions(base).slice(0, 3), ops.length]) {
        const run = drive(newSpikes, ops, applySignal, [c]);
        expectSameRun(run, base, `seed ${seed}, cut at op ${c} of ${ops.length}`);
        const s: FaultSpikeState = run.states.get(c)!;
        if (s.pending.length > 0) seen.cutsWithPending++;
        if (s.terminals.some((x) => x.events.length > 1)) seen.cutsWithWindows++;
      }
      const chain = drive(newSpikes, ops, applySignal, randomCuts(seed, ops.length, 6));
      expectSameRun(chain, base, `seed ${seed}, several cuts`);
    }
    expect(seen.revised).toBeGreaterThan(0);
    expect(seen.late).toBeGreaterThan(10);
    expect(seen.duplicates).toBeGreaterThan(0);
    expect(seen.days.size).toBeGreaterThan(1);
    expect(seen.cutsWithPending).toBeGreaterThan(20);
    expect(seen.cutsWithWindows).toBeGreaterThan(20);
  });

  it('keeps a DEVICE_FAULT without amount keys as it was, and a TXN_FAILED\'s amount', () => {
    const t = Date.UTC(2024, 2, 10, 12);
    const ops: SignalOp[] = [
      { push: signal({ t }) }, { push: signal({ t: t + MIN, type: 'TXN_FAILED', amount: 777, currency: 'PLN' }) },
      { push: signal({ t: t + 2 * MIN }) }, { push: signal({ t: t + 3 * MIN, type: 'TXN_FAILED', amount: 999, currency: 'EUR' }) },
      { advance: t + DAY_MS }, { end: true },
    ];
    const base = drive(newSpikes, ops, applySignal, []);
    expect(base.out).toHaveLength(1);
    expect(base.out[0]).toMatchObject({ amount_minor: null, currency: null });
    for (let c = 1; c < ops.length; c++) expect(drive(newSpikes, ops, applySignal, [c]).out).toEqual(base.out);
    const fs = newSpikes(() => undefined);
    for (const op of ops.slice(0, 2)) applySignal(fs, op);
    const restored = newSpikes(() => undefined);
    restored.restore(roundTrip(fs.snapshot()));
    expect(restored.pendingSignals()).toBe(2);
    expect(restored.snapshot().pending.map((x) => x.length).sort()).toEqual([10, 8]);
  });

  it('refuses another version and a detector that already took input', () => {
    const fs = newSpikes(() => undefined);
    fs.push(signal({ t: START }));
    expect(() => newSpikes(() => undefined).restore({ ...fs.snapshot(), v: 0 } as unknown as FaultSpikeState)).toThrow(/version 0/);
    expect(() => fs.restore(fs.snapshot())).toThrow(/fresh instance/);
  });
});
