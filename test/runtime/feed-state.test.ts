/**
 * The live-feed state machine (src/runtime/kafka/feed-state.ts) on a fake
 * clock: quiet exactly at quietAfterMs of no record (caught up), stalled while
 * another stream of the partition is not quiet, released exactly at
 * stallReleaseMs of stall, idle partitions, the input frontier F, the outage.
 */
import { describe, expect, it } from 'vitest';
import { FeedStates, type FeedTimes } from '../../src/runtime/kafka/feed-state.js';
import { STREAMS, type Stream } from '../../src/events/index.js';

const Q = 1_000; // quietAfterMs
const R = 5_000; // stallReleaseMs
const A = 2_000; // stallAlertAfterMs
const DELAY = 300; // time.maxDelayMs
const T0 = 1_000_000; // wall clock at which the partitions are taken
const E = 1_700_000_000_000; // event time, historical

function feeds(partitions: number[] = [0], times: FeedTimes = { quietAfterMs: Q, stallReleaseMs: R, stallAlertAfterMs: A }): FeedStates {
  const f = new FeedStates(() => times, () => DELAY);
  for (const p of partitions) {
    f.take(p, T0);
    for (const s of STREAMS) f.position(p, s, 10, 10);
  }
  return f;
}

const state = (f: FeedStates, now: number, p = 0, s: Stream = 'terminal') => f.evaluate(now).states.get(p)![s];

describe('FeedStates: quiet', () => {
  it('is quiet exactly quietAfterMs after the last record, not 1 ms before', () => {
    const f = feeds();
    f.record(0, 'terminal', T0 + 500);
    f.record(0, 'gateway', T0 + 500);
    f.record(0, 'bank', T0 + 500);
    expect(state(f, T0 + 500 + Q - 1)).toBe('active');
    expect(state(f, T0 + 500 + Q)).toBe('quiet');
    expect(state(f, T0 + 500 + Q + 1)).toBe('quiet');
  });

  it('a stream-partition taken but never read counts from when it was taken', () => {
    const f = feeds();
    expect(state(f, T0 + Q - 1)).toBe('active');
    expect(state(f, T0 + Q)).toBe('quiet');
  });

  it('is never quiet while behind its log-end offset, however long without a record', () => {
    const f = feeds();
    f.position(0, 'terminal', 9, 10);
    expect(state(f, T0 + 100 * Q)).toBe('active');
    f.position(0, 'terminal', 10, 10);
    expect(state(f, T0 + 100 * Q)).toBe('quiet');
  });

  it('a record makes it active again', () => {
    const f = feeds();
    expect(state(f, T0 + Q)).toBe('quiet');
    f.record(0, 'terminal', T0 + Q + 10);
    expect(state(f, T0 + Q + 10)).toBe('active');
  });
});

describe('FeedStates: stalled and released', () => {
  /** Terminal silent from T0; gateway and bank read a record every 100 ms up to `until`. */
  function stallTerminal(f: FeedStates, until: number, from = T0): void {
    for (let t = from; t <= until; t += 100) {
      f.record(0, 'gateway', t);
      f.record(0, 'bank', t);
    }
  }

  it('stalled exactly when quiet while the others are not; released exactly stallReleaseMs later, not 1 ms before', () => {
    const f = feeds();
    stallTerminal(f, T0 + Q + R + 1_000);
    expect(state(f, T0 + Q - 1)).toBe('active');
    expect(state(f, T0 + Q)).toBe('stalled');
    expect(f.evaluate(T0 + Q).idle.size).toBe(0);
    expect(state(f, T0 + Q + R - 1)).toBe('stalled');
    expect(f.evaluate(T0 + Q + R - 1).released.size).toBe(0);
    expect(state(f, T0 + Q + R)).toBe('released');
    expect(f.evaluate(T0 + Q + R).released.get(0)).toEqual(['terminal']);
    // The others are not quiet: quiet only applies to the silent one.
    expect(state(f, T0 + Q + R, 0, 'gateway')).toBe('active');
  });

  it('released stays released when the rest of the partition goes quiet too (idle), until the stream reads again', () => {
    const f = feeds();
    stallTerminal(f, T0 + Q + R);
    expect(state(f, T0 + Q)).toBe('stalled');
    expect(state(f, T0 + Q + R)).toBe('released');
    const later = T0 + Q + R + 10 * Q;
    const snap = f.evaluate(later);
    expect(snap.idle.has(0)).toBe(true);
    expect(snap.states.get(0)).toEqual({ terminal: 'released', gateway: 'quiet', bank: 'quiet' });
    expect(snap.released.get(0)).toEqual(['terminal']);
    f.record(0, 'terminal', later + 1);
    const back = f.evaluate(later + 1);
    expect(back.states.get(0)!.terminal).toBe('active');
    expect(back.released.size).toBe(0);
  });

  it('a stall that ends before stallReleaseMs (the partition goes idle) restarts its clock', () => {
    const f = feeds();
    stallTerminal(f, T0 + Q + R / 2);
    expect(state(f, T0 + Q)).toBe('stalled');
    // At T0 + 2Q + R/2 the gateway and bank are quiet too: idle, not stalled.
    expect(state(f, T0 + 2 * Q + R / 2)).toBe('quiet');
    // Traffic again: a new stall starts now, not at T0 + Q.
    stallTerminal(f, T0 + 3 * Q + 2 * R, T0 + 2 * Q + R / 2 + 100);
    expect(state(f, T0 + 2 * Q + R / 2 + 100)).toBe('stalled');
    expect(state(f, T0 + 2 * Q + R / 2 + 100 + R - 1)).toBe('stalled');
    expect(state(f, T0 + 2 * Q + R / 2 + 100 + R)).toBe('released');
  });
});

describe('FeedStates: idle partitions and the input frontier', () => {
  it('F is the max gateway/bank event time − maxDelay (terminal clocks are not trusted)', () => {
    const f = feeds();
    f.eventTime('terminal', E + 60_000);
    expect(f.evaluate(T0).frontier).toBe(-Infinity);
    f.eventTime('gateway', E);
    f.eventTime('bank', E - 5_000);
    expect(f.evaluate(T0).frontier).toBe(E - DELAY);
  });

  it('while everything is quiet F advances with the wall clock from when the last stream-partition went quiet', () => {
    const f = feeds([0, 1]);
    f.eventTime('bank', E);
    for (const s of STREAMS) f.record(0, s, T0 + 200);
    for (const s of STREAMS) f.record(1, s, T0 + 700); // the last to go quiet: at T0 + 700 + Q
    expect(f.evaluate(T0 + 200 + Q).idle).toEqual(new Set([0]));
    expect(f.evaluate(T0 + 200 + Q).frontier).toBe(E - DELAY);
    const quietSince = T0 + 700 + Q;
    const s1 = f.evaluate(quietSince + 4_000);
    expect(s1.allQuiet).toBe(true);
    expect(s1.idle).toEqual(new Set([0, 1]));
    expect(s1.frontier).toBe(E - DELAY + 4_000);
    expect(f.evaluate(quietSince + 9_000).frontier).toBe(E - DELAY + 9_000);
  });

  it('F never moves back when traffic resumes with older event times; it stops following the wall clock, then resumes from where it was', () => {
    const f = feeds();
    f.eventTime('gateway', E);
    expect(f.evaluate(T0 + Q + 10_000).frontier).toBe(E - DELAY + 10_000);
    const back = T0 + Q + 10_001;
    f.record(0, 'gateway', back);
    f.eventTime('gateway', E + 1_000);
    expect(f.evaluate(back).frontier).toBe(E - DELAY + 10_000);
    expect(f.evaluate(back + Q - 1).frontier).toBe(E - DELAY + 10_000);
    // Quiet again at back + Q: from the frontier reached, not from the older event time.
    expect(f.evaluate(back + Q + 3_000).frontier).toBe(E - DELAY + 10_000 + 3_000);
  });

  it('one busy stream-partition anywhere stops F from following the wall clock', () => {
    const f = feeds([0, 1]);
    f.eventTime('bank', E);
    for (let t = T0; t <= T0 + 20_000; t += 100) f.record(1, 'terminal', t);
    expect(f.evaluate(T0 + 20_000).frontier).toBe(E - DELAY);
  });
});

describe('FeedStates: outage (PosguardFeedStalled)', () => {
  /** 4 partitions; terminal carried traffic in all; gateway/bank busy everywhere; terminal silent in `silent`. */
  function fleet(silent: number[]): FeedStates {
    const f = feeds([0, 1, 2, 3]);
    for (let t = T0; t <= T0 + Q + A + 1_000; t += 100) {
      for (const p of [0, 1, 2, 3]) {
        f.record(p, 'gateway', t);
        f.record(p, 'bank', t);
        if (!silent.includes(p) || t === T0) f.record(p, 'terminal', t);
      }
    }
    return f;
  }

  it('1 exactly stallAlertAfterMs after more than half of the traffic-carrying partitions stalled, not 1 ms before', () => {
    const f = fleet([0, 1, 2]);
    const stalledAt = T0 + Q;
    expect(f.outage(f.evaluate(stalledAt - 1)).terminal).toBe(0);
    expect(f.outage(f.evaluate(stalledAt)).terminal).toBe(0);
    expect(f.outage(f.evaluate(stalledAt + A - 1)).terminal).toBe(0);
    expect(f.outage(f.evaluate(stalledAt + A))).toEqual({ terminal: 1, gateway: 0, bank: 0 });
  });

  it('exactly half is not an outage (one quiet lane is not a feed outage)', () => {
    const f = fleet([0, 1]);
    expect(f.outage(f.evaluate(T0 + Q)).terminal).toBe(0);
    expect(f.outage(f.evaluate(T0 + Q + A + 500)).terminal).toBe(0);
  });

  it('counts traffic-carrying partitions only', () => {
    const f = fleet([0, 1, 2]);
    expect(f.traffic()).toEqual({ terminal: 4, gateway: 4, bank: 4 });
    f.drop(3);
    expect(f.traffic()).toEqual({ terminal: 3, gateway: 3, bank: 3 });
    expect(f.held()).toEqual(new Set([0, 1, 2]));
  });
});
