/**
 * DEVICE_FAULT ids (docs/semantics.md, "Memory bounds"): a DEVICE_FAULT belongs
 * to no attempt, so the engine remembers its id to count a redelivery as a
 * duplicate, and forgets it "the terminal drift + R after its time" (R =
 * reversal grace + duplicate window + allowed lateness): kept while the
 * watermark W is at most t + drift + R, gone once W passes it. Expectations by
 * hand from that row; W is set exactly with events of another terminal on
 * every stream (issue 17: the id expiry loop of engine.ts was unpinned).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { Engine } from '../../src/engine/engine.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { stateCensus } from '../../src/util/state-census.js';
import { EventBuilder, T0 } from '../eval/builders.js';
import { watermarkClock } from '../support/watermark-clock.js';

type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');
const t = DEFAULT_RULES.time;
const R = DEFAULT_RULES.debits.reversalGraceMs + DEFAULT_RULES.duplicateDebit.windowMs + t.allowedLatenessMs;
/** The last W at which the fault's id is still held. */
const KEPT_UNTIL = T0 + t.terminalMaxDriftMs + R;

function harness() {
  const engine = new Engine({ rules: () => DEFAULT_RULES, output: { anomaly: () => undefined } });
  const push = (...events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
  const clock = watermarkClock(t, push);
  /** Moves W to exactly `w`. */
  const watermarkTo = (w: number) => {
    clock(w);
    expect(engine.watermark).toBe(w);
  };
  const heldIds = () => stateCensus.entries().filter(([s]) => s === 'device_fault_ids').reduce((n, [, v]) => n + v, 0);
  return { engine, push, watermarkTo, heldIds };
}

describe('a DEVICE_FAULT id is remembered the terminal drift + R after its time', () => {
  const fault = new EventBuilder().terminal('DEVICE_FAULT', { event_time: T0 });

  it('at W = t + drift + R a redelivery is still a duplicate; past it the id is gone', () => {
    const h = harness();
    const before = h.heldIds();
    h.push(fault);
    expect(h.heldIds() - before).toBe(1);
    h.watermarkTo(KEPT_UNTIL);
    expect(h.heldIds() - before).toBe(1);
    h.push({ ...fault });
    expect(h.engine.counters.duplicates.terminal).toBe(1);
    h.watermarkTo(KEPT_UNTIL + 1);
    expect(h.heldIds() - before).toBe(0);
    // Forgotten: a redelivery now is late data (counted late), not a duplicate.
    h.push({ ...fault });
    expect(h.engine.counters.duplicates.terminal).toBe(1);
    expect(h.engine.counters.late.terminal).toBe(1);
  });
});
