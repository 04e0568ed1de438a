/**
 * Engine.raiseFloor: the live-feed rules' one hook into the engine. Raising
 * the floors of an idle partition takes its pending decisions; evidence that
 * arrives afterwards is late data and re-decides (an orphan decided for lack
 * of a terminal outcome is RETRACTED by the TXN_COMPLETED 00).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import { STREAMS, type BankEvent, type GatewayEvent, type Stream, type TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, MIN, SEC, T0 } from '../eval/builders.js';

type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');

function harness() {
  const versions: Anomaly[] = [];
  const engine = new Engine({ rules: () => DEFAULT_RULES, output: { anomaly: (a) => versions.push(a) } });
  const push = (...events: Ev[]) => events.forEach((e) => engine.push(streamOf(e), e));
  const orphans = () => versions.filter((a) => a.kind === 'ORPHAN_DEBIT').map((a) => [a.status, a.version]);
  return { engine, versions, push, orphans };
}

describe('Engine.raiseFloor', () => {
  it('an idle partition\'s pending orphan is decided once the floors pass its decision time, and a late TXN_COMPLETED retracts it', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, omit: ['TXN_COMPLETED'] })).filter((e) => e.event_type !== 'RESPONSE_RECEIVED'));
    // No later event on any stream: without a floor nothing is ever decided.
    expect(h.orphans()).toEqual([]);
    for (const s of STREAMS) h.engine.raiseFloor(s, T0 + 4 * MIN);
    expect(h.orphans()).toEqual([]); // before debit + reversal grace (5 min)
    for (const s of STREAMS) h.engine.raiseFloor(s, T0 + 6 * MIN);
    expect(h.orphans()).toEqual([['OPEN', 1]]);
    expect(h.engine.watermark).toBe(T0 + 6 * MIN);
    h.push(b.terminal('TXN_COMPLETED', { event_time: T0 + 2 * SEC }));
    expect(h.orphans()).toEqual([['OPEN', 1], ['RETRACTED', 2]]);
    expect(h.engine.counters.late.terminal).toBe(1);
  });

  it('one stream\'s floor alone decides nothing while another stream holds the watermark (a stalled stream keeps holding)', () => {
    const h = harness();
    const b = new EventBuilder();
    h.push(...Object.values(b.attempt({ t: T0, omit: ['TXN_COMPLETED'] })).filter((e) => e.event_type !== 'RESPONSE_RECEIVED'));
    h.engine.raiseFloor('terminal', T0 + 60 * MIN);
    h.engine.raiseFloor('gateway', T0 + 60 * MIN);
    expect(h.orphans()).toEqual([]);
    h.engine.raiseFloor('bank', T0 + 60 * MIN);
    expect(h.orphans()).toEqual([['OPEN', 1]]);
  });

  it('after end() a floor changes nothing', () => {
    const h = harness();
    h.engine.end();
    h.engine.raiseFloor('bank', T0);
    expect(h.engine.watermark).toBe(Infinity);
  });
});
