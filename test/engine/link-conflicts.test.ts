/**
 * One rrn per attempt (docs/semantics.md, "Known limits"): a bank approval whose
 * echoed (terminal_id, stan) is already another rrn's attempt is counted as a
 * link conflict (docs/metrics.md, posguard_link_conflicts_total: one per event
 * whose rrn and (terminal_id, stan) name different attempts) and evaluated
 * alone, its anomaly still naming the echoed terminal and stan. The engine's
 * result must not depend on arrival order (detection.md), so the same holds
 * when a reversal of that rrn arrived before its approval (the attempt then
 * exists, known by rrn only, when the approval comes: issue 17, the forBank
 * path that counted nothing). Expectations by hand.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, MIN, T0 } from '../eval/builders.js';

type Ev = TerminalEvent | GatewayEvent | BankEvent;
const streamOf = (e: Ev): Stream => ('account_ref' in e ? 'bank' : 'network' in e ? 'gateway' : 'terminal');

function replay(order: readonly Ev[]) {
  const versions: Anomaly[] = [];
  const engine = new Engine({ rules: () => DEFAULT_RULES, output: { anomaly: (a) => versions.push(a) } });
  for (const e of order) engine.push(streamOf(e), e);
  engine.end();
  const final = [...new Map(versions.map((a) => [a.anomaly_id, a])).values()];
  return { conflicts: engine.counters.linkConflicts, open: engine.openAttempts(), final };
}

describe('a bank approval echoing another rrn\'s attempt, its reversal before or after it', () => {
  // R1: a complete sale at (TERM0001, 000001). R2 (another card): the gateway never saw it; its AUTH_APPROVED at
  // T0 + 1 min echoes (TERM0001, 000001); its REVERSAL_APPLIED at T0 + 11 min is past the 5 min grace and inside
  // the 24 h horizon, so R2 is an orphan with NO_GATEWAY_RECORD, AUTO_RESOLVED (detection.md).
  const b = new EventBuilder();
  const r1 = Object.values(b.attempt({ t: T0 }));
  const z = new EventBuilder({ rrn: 'RRN000000002', card_token: 'tok_card_Z' }, { firstId: 500 });
  const approval = z.bank('AUTH_APPROVED', { event_time: T0 + MIN });
  const reversal = z.bank('REVERSAL_APPLIED', { event_time: T0 + 11 * MIN });
  const expected = [['ORPHAN_DEBIT', 'NO_GATEWAY_RECORD', 'AUTO_RESOLVED', 'RRN000000002', 'TERM0001', '000001', T0 + MIN]];
  // (An approval arriving before R1's terminal events would link them to R2 instead: the known limit, not this case.)
  const summary = (out: Anomaly[]) => out.map((a) => [a.kind, a.cause, a.status, a.rrn, a.terminal_id, a.stan, a.event_time]);

  for (const [name, order] of [
    ['approval, then reversal', [...r1, approval, reversal]],
    ['reversal, then approval', [...r1, reversal, approval]],
    ['reversal before R1, approval after it', [reversal, ...r1, approval]],
  ] as const) {
    it(`${name}: one link conflict, and the orphan names the echoed terminal and stan`, () => {
      const out = replay(order);
      expect(out.conflicts).toBe(1);
      expect(out.open).toBe(0);
      expect(summary(out.final)).toEqual(expected);
    });
  }
});

describe('a bank approval echoing a (terminal_id, stan) not held yet, its reversal before or after it', () => {
  // R1's terminal events at (TERM0001, 000001) and its AUTH_APPROVED; the gateway never saw R1. The approval's
  // echo links R1 to (TERM0001, 000001) (docs/semantics.md: the bank's own terminal_id and stan stand in where the
  // gateway never linked the rrn), so the terminal's events, arriving after, join R1's attempt, whether or not a
  // reversal of R1 came first. No TXN_COMPLETED; the reversal, past the grace, resolves the orphan.
  const ev = new EventBuilder().attempt({ t: T0, omit: ['TXN_COMPLETED'] });
  const terminal = Object.values(ev).filter((e) => streamOf(e) === 'terminal');
  const approval = ev.AUTH_APPROVED!;
  const reversal = new EventBuilder({}, { firstId: 900 }).bank('REVERSAL_APPLIED', { event_time: T0 + 11 * MIN });
  const terminalIds = terminal.map((e) => e.event_id).sort();

  for (const [name, order] of [
    ['approval, then reversal', [approval, reversal, ...terminal]],
    ['reversal, then approval', [reversal, approval, ...terminal]],
  ] as const) {
    it(`${name}: the orphan names TERM0001 / 000001 and cites the terminal's events`, () => {
      const out = replay(order);
      expect(out.conflicts).toBe(0);
      expect(out.open).toBe(0);
      expect(out.final.map((a) => [a.kind, a.status, a.rrn, a.terminal_id, a.stan])).toEqual([['ORPHAN_DEBIT', 'AUTO_RESOLVED', 'RRN000000001', 'TERM0001', '000001']]);
      expect(out.final[0]!.evidence.terminal.map((e) => e.event_id).sort()).toEqual(terminalIds);
    });
  }
});
