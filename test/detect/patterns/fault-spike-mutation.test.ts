/**
 * TERMINAL_FAULT_SPIKE cases the first Stryker run of fault-spike.ts showed
 * unpinned (docs/testing.md, "The pattern files"). Every expectation is
 * derived by hand from ../shared/spec/detection.md (at least 3 hardware
 * signals within any 900 s of the terminal's clock, one per terminal and UTC
 * day), docs/semantics.md (streaming: processed once W >= stamp + drift; late
 * signals exact within time.allowedLatenessMs, never a new anomaly on a closed
 * day) and docs/rules.md ("Reloading": a disabled kind drops its window state
 * at the next clean-up, a re-enabled kind starts from empty windows).
 *
 * `frontier(fs, t)` moves the detector's terminal-clock frontier to t: the
 * engine's watermark is then t + terminalMaxDriftMs (the detector processes
 * signals stamped <= W - drift).
 */
import { describe, expect, it } from 'vitest';
import { anomalyId, utcDay, type Anomaly } from '../../../src/events/anomaly.js';
import { isHardwareSignal, TerminalFaultSpikes } from '../../../src/detect/patterns/fault-spike.js';
import type { HardwareSignal } from '../../../src/detect/patterns/types.js';
import type { Rules } from '../../../src/config/rules.js';
import { stateCensus } from '../../../src/util/state-census.js';
import { collector, HOUR, MIN, rules, signal, T0 } from './helpers.js';

const R = rules();
const GRACE = R.time.allowedLatenessMs; // 10 min
/** 2024-03-11T00:00:00Z: the midnight after T0 (T0 is 2024-03-10 12:00Z). */
const MIDNIGHT = Date.UTC(2024, 2, 11);

function detector(r: () => Rules = () => R) {
  const { out, emit } = collector();
  const fs = new TerminalFaultSpikes(r, emit);
  const frontier = (t: number): void => fs.advance(t + r().time.terminalMaxDriftMs);
  const push = (...xs: HardwareSignal[]): void => { for (const x of xs) fs.push(x); };
  return { out, fs, frontier, push };
}

const ids = (xs: readonly { event_id: string }[]): string[] => xs.map((x) => x.event_id);
const spikeId = (t: number, terminal = 'T0000001'): string => anomalyId('TERMINAL_FAULT_SPIKE', `${terminal}|${utcDay(t)}`);

/** Exactly one anomaly, triggered by `trigger`, with `window` (trigger last) as its evidence. */
function expectOneSpike(out: readonly Anomaly[], trigger: HardwareSignal, window: readonly HardwareSignal[]): void {
  expect(out.map((a) => [a.stan, a.version])).toEqual([[trigger.stan, 1]]);
  expect(ids(out[0].evidence.terminal)).toEqual(ids(window));
}

describe('isHardwareSignal follows the definition: the failure reason counts only on a TXN_FAILED', () => {
  it('a CARD_READ_ERROR / PRINTER_ERROR reason on another event type is not a signal', () => {
    expect(isHardwareSignal({ event_type: 'TXN_STARTED', failure_reason: 'CARD_READ_ERROR' })).toBe(false);
    expect(isHardwareSignal({ event_type: 'TXN_COMPLETED', failure_reason: 'PRINTER_ERROR' })).toBe(false);
  });
});

describe('TERMINAL_FAULT_SPIKE bookkeeping', () => {
  it('counts every signal pushed; a redelivery while the first copy is pending is held once', () => {
    const { fs, push } = detector();
    const a = signal({ t: T0 });
    push(a, a, signal({ t: T0 + MIN }));
    expect(fs.counters.signals).toBe(3);
    expect(fs.counters.duplicates).toBe(1);
    expect(fs.pendingSignals()).toBe(2);
  });

  it('reports the terminals it holds to the state census (fault_terminals)', () => {
    const held = (): number => stateCensus.entries().find(([s]) => s === 'fault_terminals')![1];
    const { push, frontier } = detector();
    const before = held();
    push(signal({ t: T0, terminal: 'T0000011' }), signal({ t: T0, terminal: 'T0000012' }), signal({ t: T0, terminal: 'T0000013' }));
    frontier(T0);
    expect(held() - before).toBe(3);
  });

  it('a terminal is released once, however many signals it had', () => {
    const { fs, push, frontier } = detector();
    push(signal({ t: T0 }), signal({ t: T0 + MIN }));
    frontier(T0 + MIN);
    expect(fs.activeTerminals()).toBe(1);
    frontier(T0 + HOUR);
    expect(fs.activeTerminals()).toBe(0);
    expect(fs.counters.released).toBe(1);
  });

  it('a terminal still needed at an early clean-up is kept, then released once its last window and the lateness have passed', () => {
    const { fs, push, frontier } = detector();
    const s2 = signal({ t: T0 + 20 * MIN });
    push(signal({ t: T0 }), s2);
    frontier(T0 + 20 * MIN);
    // T0's window and lateness are over at T0 + 25 min; s2 (T0 + 20 min) is needed until T0 + 45 min.
    frontier(T0 + 26 * MIN);
    expect(fs.activeTerminals()).toBe(1);
    frontier(s2.event_time + 15 * MIN + GRACE + 1);
    expect(fs.activeTerminals()).toBe(0);
    expect(fs.counters.released).toBe(1);
  });
});

describe('TERMINAL_FAULT_SPIKE: equal stamps and event_id order', () => {
  it('three signals at the same terminal instant fire once, at the greatest event_id; none is late or a duplicate', () => {
    const { out, fs, push } = detector();
    const s = [signal({ t: T0 }), signal({ t: T0 }), signal({ t: T0 })]; // ids increase in creation order
    push(s[2], s[0], s[1]);
    fs.end();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ anomaly_id: spikeId(T0), event_time: T0, stan: s[2].stan, version: 1 });
    expect(ids(out[0].evidence.terminal)).toEqual(ids(s));
    expect(fs.counters).toMatchObject({ late: 0, duplicates: 0 });
  });

  /** s1 and s3 processed (frontier T0 + 5 min), then s2 late (frontier T0 + 6 min): in (time, id) order s1, s2, s3, the count reaches 3 at s3. */
  function lateBetween(s1: HardwareSignal, s2: HardwareSignal, s3: HardwareSignal): void {
    const { out, fs, push, frontier } = detector();
    push(s1, s3);
    frontier(T0 + 5 * MIN);
    expect(out).toHaveLength(0);
    push(s2);
    frontier(T0 + 6 * MIN);
    expectOneSpike(out, s3, [s1, s2, s3]);
    expect(fs.counters).toMatchObject({ late: 1, duplicates: 0 });
  }

  it('a late signal with an earlier stamp but a greater event_id than the last is inserted at its time', () => {
    const s1 = signal({ t: T0 });
    const s3 = signal({ t: T0 + 4 * MIN });
    const s2 = signal({ t: T0 + 2 * MIN }); // created last: greatest event_id
    lateBetween(s1, s2, s3);
  });

  it('a late signal at the same instant as the last, with a smaller event_id, is a new signal, not a duplicate', () => {
    const s1 = signal({ t: T0 });
    const s2 = signal({ t: T0 + 4 * MIN });
    const s3 = signal({ t: T0 + 4 * MIN }); // same stamp as s2, greater id
    lateBetween(s1, s2, s3);
  });

  it('a redelivered copy of the last signal, after the window let it go, is a duplicate (the terminal is still known for its fired day)', () => {
    const { out, fs, push, frontier } = detector();
    const s = [signal({ t: T0 }), signal({ t: T0 + MIN }), signal({ t: T0 + 2 * MIN })];
    push(...s);
    frontier(T0 + 2 * MIN);
    expect(out).toHaveLength(1);
    frontier(T0 + HOUR); // the signals are long out of the window and the lateness
    expect(fs.activeTerminals()).toBe(1);
    push(s[2]);
    frontier(T0 + HOUR + MIN);
    expect(out).toHaveLength(1);
    expect(fs.counters).toMatchObject({ duplicates: 1, late: 0 });
    // The fired day is remembered until it closes: midnight plus the allowed lateness.
    frontier(MIDNIGHT + GRACE - 1);
    expect(fs.activeTerminals()).toBe(1);
    frontier(MIDNIGHT + GRACE);
    expect(fs.activeTerminals()).toBe(0);
  });
});

describe('TERMINAL_FAULT_SPIKE: one per terminal and UTC day, whatever the clean-ups', () => {
  it('a second burst the same day, after the first burst was cleaned up, fires nothing', () => {
    const { out, push, frontier } = detector();
    push(signal({ t: MIDNIGHT - 40 * MIN }), signal({ t: MIDNIGHT - 39 * MIN }), signal({ t: MIDNIGHT - 38 * MIN }));
    frontier(MIDNIGHT - 38 * MIN);
    expect(out).toHaveLength(1);
    frontier(MIDNIGHT - 5 * MIN); // the first burst's window and lateness are over, its day is not
    push(signal({ t: MIDNIGHT - 4 * MIN }), signal({ t: MIDNIGHT - 3 * MIN }), signal({ t: MIDNIGHT - 2 * MIN }));
    frontier(MIDNIGHT - MIN);
    expect(out).toHaveLength(1);
  });

  it('a clean-up in the middle of a burst keeps the signals the next window needs', () => {
    const { out, push, frontier } = detector();
    const s2 = signal({ t: T0 + 20 * MIN });
    const s3 = signal({ t: T0 + 21 * MIN });
    const s4 = signal({ t: T0 + 27 * MIN });
    push(signal({ t: T0 }), s2, s3);
    frontier(T0 + 21 * MIN);
    frontier(T0 + 26 * MIN); // T0's window and lateness are over
    push(s4);
    frontier(T0 + 27 * MIN);
    // s2, s3, s4 lie within 900 s (7 min): fires at s4.
    expectOneSpike(out, s4, [s2, s3, s4]);
  });

  it('disabled by a reload: the state is dropped at the next clean-up, and re-enabled the kind starts from an empty window', () => {
    const off = rules({ terminalFaultSpike: { enabled: false } });
    let r = R;
    const { out, fs, push, frontier } = detector(() => r);
    push(signal({ t: T0 }), signal({ t: T0 + 20 * MIN }));
    frontier(T0 + 20 * MIN);
    r = off;
    frontier(T0 + 26 * MIN); // clean-up of the terminal (T0's window and lateness are over)
    expect(fs.activeTerminals()).toBe(0);
    r = R;
    push(signal({ t: T0 + 27 * MIN }), signal({ t: T0 + 28 * MIN }));
    frontier(T0 + 28 * MIN);
    expect(out).toEqual([]);
  });
});

describe('TERMINAL_FAULT_SPIKE: late signals', () => {
  it('advance with an older watermark does not move the frontier back: signals of a closed day still create nothing', () => {
    const { out, push, frontier } = detector();
    frontier(MIDNIGHT + GRACE + MIN); // the day before MIDNIGHT is closed
    frontier(T0);
    push(signal({ t: MIDNIGHT - 3 * MIN }), signal({ t: MIDNIGHT - 2 * MIN }), signal({ t: MIDNIGHT - MIN }));
    frontier(MIDNIGHT - MIN);
    expect(out).toEqual([]);
  });

  it('signals of a new terminal arriving after the frontier passed them (within the lateness) fire as in batch', () => {
    const { out, fs, push, frontier } = detector();
    frontier(T0 + 5 * MIN);
    const s = [signal({ t: T0 }), signal({ t: T0 + MIN }), signal({ t: T0 + 2 * MIN })];
    push(...s);
    frontier(T0 + 6 * MIN);
    expect(out.map((a) => [a.anomaly_id, a.stan])).toEqual([[spikeId(T0), s[2].stan]]);
    expect(fs.counters.late).toBe(0); // in order for their terminal
  });

  it('late within the lateness, just after midnight: the previous day is still open', () => {
    const { out, fs, push, frontier } = detector();
    const s1 = signal({ t: MIDNIGHT - 6 * MIN });
    const s2 = signal({ t: MIDNIGHT - 4 * MIN });
    const s3 = signal({ t: MIDNIGHT - 2 * MIN });
    push(s1, s3);
    frontier(MIDNIGHT + MIN);
    push(s2); // 5 min behind the frontier
    frontier(MIDNIGHT + 2 * MIN);
    expect(out.map((a) => [a.anomaly_id, a.stan, a.version])).toEqual([[spikeId(s3.event_time), s3.stan, 1]]);
    expect(fs.counters.late).toBe(1);
  });

  it('a signal after the terminal\'s last, on a day closed since, creates nothing', () => {
    const { out, push, frontier } = detector();
    push(signal({ t: MIDNIGHT - 3 * MIN }), signal({ t: MIDNIGHT - 2 * MIN }));
    frontier(MIDNIGHT - 2 * MIN);
    frontier(MIDNIGHT + GRACE + MIN); // the previous day is closed
    push(signal({ t: MIDNIGHT - MIN }));
    frontier(MIDNIGHT + GRACE + 2 * MIN);
    expect(out).toEqual([]);
  });

  it('a signal inserted before the terminal\'s last, on a day closed since, creates nothing', () => {
    const { out, fs, push, frontier } = detector();
    push(signal({ t: MIDNIGHT - 3 * MIN }), signal({ t: MIDNIGHT - MIN }));
    frontier(MIDNIGHT - MIN);
    frontier(MIDNIGHT + GRACE + MIN);
    push(signal({ t: MIDNIGHT - 2 * MIN }));
    frontier(MIDNIGHT + GRACE + 2 * MIN);
    expect(out).toEqual([]);
    expect(fs.counters.late).toBe(1);
  });

  it('a late signal counts only the signals within 900 s before each re-evaluated one, not older held ones', () => {
    const { out, push, frontier } = detector();
    const old = signal({ t: T0 - 20 * MIN });
    const s1 = signal({ t: T0 });
    const s2 = signal({ t: T0 + 2 * MIN });
    const s3 = signal({ t: T0 + 4 * MIN });
    push(old, s1, s3);
    frontier(T0 + 5 * MIN);
    push(s2);
    frontier(T0 + 6 * MIN);
    // At s2: s1, s2 (old is 22 min before); at s3: s1, s2, s3.
    expectOneSpike(out, s3, [s1, s2, s3]);
  });

  it('a late signal completes the window of a held signal exactly 900 s after it', () => {
    const r = rules({ time: { allowedLatenessMs: 20 * MIN } });
    const { out, push, frontier } = detector(() => r);
    const s0 = signal({ t: T0 });
    const s1 = signal({ t: T0 + 5 * MIN });
    const s2 = signal({ t: T0 + 15 * MIN });
    push(s1, s2);
    frontier(T0 + 15 * MIN);
    push(s0); // 15 min behind the frontier, within the 20 min lateness
    frontier(T0 + 16 * MIN);
    expectOneSpike(out, s2, [s0, s1, s2]);
  });

  it('a late signal outside every held window changes nothing: no new version', () => {
    const r = rules({ time: { allowedLatenessMs: 30 * MIN } });
    const { out, push, frontier } = detector(() => r);
    const s = [signal({ t: T0 }), signal({ t: T0 + MIN }), signal({ t: T0 + 2 * MIN })];
    push(...s);
    frontier(T0 + 3 * MIN);
    expect(out).toHaveLength(1);
    push(signal({ t: T0 - 20 * MIN })); // 20 min before s[0]: in none of their 900 s windows
    frontier(T0 + 4 * MIN);
    expect(out).toHaveLength(1);
  });

  it('a late signal that makes the count reach 3 earlier emits version 2 with the earlier trigger, and nothing for later signals', () => {
    const { out, push, frontier } = detector();
    const s0 = signal({ t: T0 });
    const s = [1, 2, 3, 4].map((m) => signal({ t: T0 + m * MIN }));
    push(...s);
    frontier(T0 + 5 * MIN);
    expect(out.map((a) => [a.stan, a.version])).toEqual([[s[2].stan, 1]]);
    push(s0); // 5 min behind the frontier
    frontier(T0 + 6 * MIN);
    // In order s0, s[0], s[1], s[2], s[3]: the count reaches 3 at s[1].
    expect(out.map((a) => [a.stan, a.version])).toEqual([[s[2].stan, 1], [s[1].stan, 2]]);
    expect(out[1].anomaly_id).toBe(out[0].anomaly_id);
    expect(ids(out[1].evidence.terminal)).toEqual(ids([s0, s[0], s[1]]));
  });
});
