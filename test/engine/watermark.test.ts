/**
 * Watermarks by hand (docs/semantics.md, "Time, watermarks and lateness"):
 * gateway and bank: max event_time - max_delay - clock_skew; terminal: max
 * event_time - max_delay - terminal_max_drift; the engine's W is the minimum,
 * -Infinity until every stream has an event, +Infinity once the input ended.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, buildRules } from '../../src/config/rules.js';
import { Watermarks } from '../../src/engine/watermark.js';

const T = 1_700_000_000_000;
const DELAY = 60_000; // max_delay
const SKEW = 1_000; // clock_skew
const DRIFT = 300_000; // terminal_max_drift

describe('Watermarks', () => {
  it('stays -Infinity until all three streams have spoken, then is the minimum', () => {
    const w = new Watermarks(() => DEFAULT_RULES.time);
    expect(w.observe('bank', T)).toBe(false);
    expect(w.observe('gateway', T)).toBe(false);
    expect(w.value).toBe(-Infinity);
    expect(w.observe('terminal', T)).toBe(true);
    // The terminal allows for 5 minutes of drift: it is the lowest.
    expect(w.value).toBe(T - DELAY - DRIFT);
    expect(w.perStream()).toEqual({ terminal: T - DELAY - DRIFT, gateway: T - DELAY - SKEW, bank: T - DELAY - SKEW });
  });

  it('moves only when the lowest stream moves forward; an older or equal time changes nothing', () => {
    const w = new Watermarks(() => DEFAULT_RULES.time);
    w.observe('terminal', T + DRIFT);
    w.observe('gateway', T + 5_000);
    w.observe('bank', T);
    expect(w.value).toBe(T - DELAY - SKEW); // bank is the lowest
    expect(w.observe('bank', T)).toBe(false);
    expect(w.observe('bank', T - 1)).toBe(false);
    expect(w.perStream().bank).toBe(T - DELAY - SKEW);
    expect(w.observe('gateway', T + 9_000)).toBe(false); // not the lowest: W stays
    expect(w.value).toBe(T - DELAY - SKEW);
    expect(w.observe('bank', T + 1)).toBe(true);
    expect(w.value).toBe(T + 1 - DELAY - SKEW);
    expect(w.observe('bank', T + 10_000)).toBe(true);
    // Now the terminal (T + DRIFT - DELAY - DRIFT = T - DELAY) is the lowest.
    expect(w.value).toBe(T - DELAY);
    expect(w.observe('terminal', T + DRIFT - 1)).toBe(false);
    expect(w.observe('terminal', T + DRIFT + 1)).toBe(true);
    expect(w.value).toBe(T + 1 - DELAY);
    expect(w.observe('gateway', T + 9_000)).toBe(false);
  });

  it('each stream keeps its own maximum', () => {
    const w = new Watermarks(() => DEFAULT_RULES.time);
    w.observe('terminal', T);
    w.observe('gateway', T + 7);
    w.observe('bank', T + 11);
    w.observe('terminal', T - 50);
    w.observe('gateway', T - 50);
    w.observe('bank', T - 50);
    expect(w.perStream()).toEqual({ terminal: T - DELAY - DRIFT, gateway: T + 7 - DELAY - SKEW, bank: T + 11 - DELAY - SKEW });
  });

  it('reads the rules in force at each call (a reload changes the delays)', () => {
    let rules = DEFAULT_RULES;
    const w = new Watermarks(() => rules.time);
    rules = buildRules({ time: { maxDelayMs: 10, terminalMaxDriftMs: 20, clockSkewMs: 3 } });
    for (const s of ['terminal', 'gateway', 'bank'] as const) w.observe(s, T);
    expect(w.value).toBe(T - 10 - 20);
    expect(w.perStream()).toEqual({ terminal: T - 30, gateway: T - 13, bank: T - 13 });
  });

  it('close(): +Infinity, and later events move nothing', () => {
    const w = new Watermarks(() => DEFAULT_RULES.time);
    for (const s of ['terminal', 'gateway', 'bank'] as const) w.observe(s, T);
    w.close();
    expect(w.value).toBe(Infinity);
    expect(w.observe('terminal', T + DRIFT * 10)).toBe(false);
    expect(w.observe('bank', T + DRIFT * 10)).toBe(false);
    expect(w.value).toBe(Infinity);
  });
});

describe('Watermarks.raiseFloor (the live-feed rules)', () => {
  it('a floor lifts its stream to max(own, floor); the combined watermark is the minimum as before', () => {
    const w = new Watermarks(() => DEFAULT_RULES.time);
    w.observe('gateway', T);
    w.observe('bank', T);
    expect(w.value).toBe(-Infinity); // the terminal never spoke
    // A released terminal stream stops holding: its floor is the frontier.
    expect(w.raiseFloor('terminal', T - DELAY)).toBe(true);
    expect(w.perStream().terminal).toBe(T - DELAY);
    expect(w.value).toBe(T - DELAY - SKEW); // gateway and bank are lower
    // Its own progress beyond the floor counts; a floor below own progress changes nothing.
    w.observe('terminal', T + DRIFT + 10_000);
    expect(w.perStream().terminal).toBe(T + 10_000 - DELAY);
    expect(w.raiseFloor('terminal', T)).toBe(false);
  });

  it('floors only rise; an idle partition (all three floors at F) is at max(own, F)', () => {
    const w = new Watermarks(() => DEFAULT_RULES.time);
    for (const s of ['terminal', 'gateway', 'bank'] as const) w.observe(s, T);
    const own = w.value;
    const F = T + 3_600_000;
    for (const s of ['terminal', 'gateway', 'bank'] as const) w.raiseFloor(s, F);
    expect(w.value).toBe(Math.max(own, F));
    expect(w.raiseFloor('bank', F - 1)).toBe(false);
    expect(w.perStream().bank).toBe(F);
  });
});
