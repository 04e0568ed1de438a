/** The Kafka run's one lifecycle state: forward-only transitions, a second stop or close shares the first. */
import { describe, expect, it } from 'vitest';
import { RunState } from '../../../src/runtime/kafka/run-state.js';

describe('RunState', () => {
  it('start, stop, close: created → starting → running → draining → closing → closed', () => {
    const s = new RunState();
    expect(s.state).toBe('created');
    s.starting();
    expect([s.state, s.draining]).toEqual(['starting', false]);
    s.running();
    expect(s.state).toBe('running');
    expect(s.drain('stop')).toBe(true);
    expect([s.state, s.cause, s.draining, s.halted, s.finishingInput, s.closed]).toEqual(['draining', 'stop', true, true, false, false]);
    expect(s.drain('stop')).toBe(false);
    expect(s.drain('end-of-input')).toBe(false);
    expect(s.cause).toBe('stop');
    expect(s.close(false)).toBe(true);
    expect([s.state, s.closed]).toEqual(['closing', true]);
    expect(s.close(false)).toBe(false);
    s.closedDone();
    expect(s.state).toBe('closed');
  });

  it('the end of input drains without halting: waits and rebuilds go on, the periodic pump does not', () => {
    const s = new RunState();
    s.starting();
    s.running();
    expect(s.drain('end-of-input')).toBe(true);
    expect([s.draining, s.halted, s.finishingInput]).toEqual([true, false, true]);
    // A signal during the final decisions joins the drain already running.
    expect(s.drain('stop')).toBe(false);
    expect(s.close(false)).toBe(true);
    expect(s.finishingInput).toBe(false);
  });

  it('an error closes from any state, once; a stop asked after it changes nothing', () => {
    const s = new RunState();
    s.starting();
    expect(s.close(true)).toBe(true);
    expect([s.state, s.cause, s.halted, s.draining]).toEqual(['closing', 'error', true, true]);
    expect(s.close(true)).toBe(false);
    expect(s.drain('stop')).toBe(false);
    // The connect finishing late does not move the state back to running.
    s.running();
    expect(s.state).toBe('closing');
  });

  it('an error during a drain is recorded as the cause', () => {
    const s = new RunState();
    s.starting();
    s.running();
    s.drain('end-of-input');
    expect(s.close(true)).toBe(true);
    expect([s.cause, s.halted]).toEqual(['error', true]);
  });
});
