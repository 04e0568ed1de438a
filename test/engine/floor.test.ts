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
import { SharedDuplicates } from '../../src/engine/shared-duplicates.js';
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

  it('an idle engine with floors at F no longer keeps the shared duplicate index from pruning', () => {
    const dups = new SharedDuplicates();
    const busy = new Engine({ rules: () => DEFAULT_RULES, output: { anomaly: () => undefined }, duplicateGroups: dups });
    const idle = new Engine({ rules: () => DEFAULT_RULES, output: { anomaly: () => undefined }, duplicateGroups: dups });
    const push = (...events: Ev[]) => events.forEach((e) => busy.push(streamOf(e), e));
    for (let i = 0; i < 20; i++) {
      const b = new EventBuilder({ terminal_id: `TERM${String(i).padStart(4, '0')}`, rrn: `RRN${String(i).padStart(9, '0')}`, stan: String(i + 1).padStart(6, '0') }, { firstId: 1_000 + i * 20 });
      push(...Object.values(b.attempt({ t: T0 + i * SEC })));
    }
    const groupsAtStart = dups.groups.size;
    expect(groupsAtStart).toBeGreaterThan(0);
    // The busy partition's input moves 26 hours on (past the resolution horizon of any duplicate among them): its debits are long released by it.
    const later = new EventBuilder({ terminal_id: 'CLOCK001', rrn: 'CLOCK0000001', stan: '999999' }, { firstId: 9_000_000 });
    push(later.terminal('DEVICE_FAULT', { event_time: T0 + 26 * 60 * MIN }), later.gateway('REQUEST_RECEIVED', { event_time: T0 + 26 * 60 * MIN }), later.bank('AUTH_DECLINED', { event_time: T0 + 26 * 60 * MIN }));
    expect(busy.watermark).toBeGreaterThan(T0 + 25 * 60 * MIN);
    // The idle engine (no event at all) sits at −∞: nothing leaves the shared index.
    expect(dups.groups.size).toBe(groupsAtStart);
    // F (the busy partition's gateway/bank time − max_delay) is at or above the busy engine's own watermark.
    const F = T0 + 26 * 60 * MIN - DEFAULT_RULES.time.maxDelayMs;
    expect(F).toBeGreaterThanOrEqual(busy.watermark);
    for (const s of STREAMS) idle.raiseFloor(s, busy.watermark - 1);
    expect(dups.groups.size).toBe(groupsAtStart); // not yet past where the busy engine released them
    for (const s of STREAMS) idle.raiseFloor(s, F);
    expect(dups.groups.size).toBe(0);
  });

  it('after end() a floor changes nothing', () => {
    const h = harness();
    h.engine.end();
    h.engine.raiseFloor('bank', T0);
    expect(h.engine.watermark).toBe(Infinity);
  });
});
