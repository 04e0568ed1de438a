/**
 * Engine runs for the checkpoint tests (issue 13): random scenarios as
 * actions routed to 1..n engines by terminal (as `posguard run` routes
 * partitions), with DEVICE_FAULTs (some redelivered) and floors raised now and
 * then; engines whose card patterns and fault spikes are recording fakes; and
 * everything they hand out, recorded in order.
 */
import { DEFAULT_RULES, buildRules, type Rules } from '../../src/config/rules.js';
import type { CardFact, CardPatternDetector, FaultSpikeDetector, HardwareSignal } from '../../src/detect/patterns/types.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import { SharedDuplicates } from '../../src/engine/shared-duplicates.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { BANK_EVENT_TYPES, TERMINAL_EVENT_TYPES } from '../../src/events/generated.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import type { TransactionRecord } from '../../src/events/transaction.js';
import { DAY, EventBuilder, HOUR, MIN, SEC, T0 } from '../eval/builders.js';
import { randomScenario, rng } from './scenarios.js';

export const NOW = 1_765_000_000_000;
export const STREAMS: readonly Stream[] = ['terminal', 'gateway', 'bank'];
export const RULES_BY_NAME: Record<string, Rules> = {
  default: DEFAULT_RULES,
  patient: buildRules({ time: { allowedLatenessMs: 3 * 3_600_000 } }),
};

export const streamOf = (e: TerminalEvent | GatewayEvent | BankEvent): Stream =>
  (TERMINAL_EVENT_TYPES as readonly string[]).includes(e.event_type) ? 'terminal' : (BANK_EVENT_TYPES as readonly string[]).includes(e.event_type) ? 'bank' : 'gateway';

export type Action =
  | { kind: 'push'; p: number; stream: Stream; event: TerminalEvent | GatewayEvent | BankEvent }
  | { kind: 'floor'; p: number; stream: Stream; t: number };

/** Everything the engines hand out, in order. */
export interface Recording {
  anomalies: Anomaly[];
  transactions: TransactionRecord[];
  late: [number, Stream, string][];
  facts: [number, CardFact][];
  cardAdvances: [number, number][];
  signals: [number, HardwareSignal][];
  faultCalls: [number, number | 'end'][];
}

export const emptyRecording = (): Recording => ({ anomalies: [], transactions: [], late: [], facts: [], cardAdvances: [], signals: [], faultCalls: [] });

export interface World {
  engines: Engine[];
  dups: SharedDuplicates | undefined;
}

export function options(p: number, rules: Rules, rec: Recording, dups: SharedDuplicates | undefined): EngineOptions {
  const cards: CardPatternDetector = {
    push: (f) => rec.facts.push([p, structuredClone(f)]),
    advance: (w) => rec.cardAdvances.push([p, w]),
    activeCards: () => 0,
  };
  const faults: FaultSpikeDetector = {
    push: (s) => rec.signals.push([p, structuredClone(s)]),
    advance: (w) => rec.faultCalls.push([p, w]),
    end: () => rec.faultCalls.push([p, 'end']),
  };
  return {
    rules: () => rules, now: () => NOW, cardPatterns: cards, faultSpikes: faults, duplicateGroups: dups,
    output: {
      anomaly: (a) => rec.anomalies.push(structuredClone(a)),
      transaction: (t) => rec.transactions.push(structuredClone(t)),
      late: (stream, e) => rec.late.push([p, stream, e.event_id]),
    },
  };
}

export function fresh(n: number, shared: boolean, rules: Rules, rec: Recording): World {
  const dups = shared ? new SharedDuplicates() : undefined;
  return { engines: Array.from({ length: n }, (_, p) => new Engine(options(p, rules, rec, dups))), dups };
}

export function apply(w: World, a: Action): void {
  if (a.kind === 'push') w.engines[a.p].push(a.stream, a.event);
  else w.engines[a.p].raiseFloor(a.stream, a.t);
}

export function finish(w: World, rec: Recording): { rec: Recording; counters: unknown[]; open: number[]; sharedEntries: number | null } {
  for (const e of w.engines) e.end();
  return {
    rec, counters: w.engines.map((e) => structuredClone(e.counters)), open: w.engines.map((e) => e.openAttempts()),
    // Debits the shared index still holds after the end (its removals continue from the restored heap).
    sharedEntries: w.dups?.entries ?? null,
  };
}

/** A random scenario as actions: routed by terminal, with DEVICE_FAULTs (some redelivered a little later) and floors raised now and then. */
export function actions(seed: number, engines: number, rules: Rules): Action[] {
  const { builder, arrivals } = randomScenario(seed, 30, { boundaryShare: seed % 2 === 0 ? 0.3 : 0, rules });
  const partition = (tid: string) => (engines === 1 ? 0 : (Number(tid.slice(-1)) - 1) % engines);
  const r = rng(seed * 7919);
  const out: Action[] = [];
  const redeliveries: { at: number; action: Action }[] = [];
  for (const a of arrivals) {
    out.push({ kind: 'push', p: partition(a.event.terminal_id), stream: a.stream, event: a.event });
    while (redeliveries.length > 0 && redeliveries[0].at <= out.length) out.push(redeliveries.shift()!.action);
    if (r() < 0.03) {
      const fault = builder.terminal('DEVICE_FAULT', { terminal_id: a.event.terminal_id, event_time: a.event.event_time - Math.floor(r() * 30 * SEC) });
      out.push({ kind: 'push', p: partition(fault.terminal_id), stream: 'terminal', event: fault });
      const again: Action = { kind: 'push', p: partition(fault.terminal_id), stream: 'terminal', event: { ...fault } };
      if (r() < 0.5) redeliveries.push({ at: out.length + 5 + Math.floor(r() * 30), action: again });
    }
    if (r() < 0.01) out.push({ kind: 'floor', p: Math.floor(r() * engines), stream: STREAMS[Math.floor(r() * 3)], t: a.event.event_time - Math.floor(r() * rules.time.maxDelayMs) });
  }
  return out;
}

/** A card fact held on an attempt that is merged away (the bank echoed another stan than the gateway names), one engine's actions. */
export function mergeCaseActions(): Action[] {
  const b = new EventBuilder({ terminal_id: 'TERM0001', stan: '000101', rrn: '400000000101' });
  const t = T0;
  const events: [Stream, TerminalEvent | GatewayEvent | BankEvent][] = [
    // The location reaches the card fact only through the merge.
    ['terminal', b.terminal('TXN_STARTED', { event_time: t, lat: 48.137, lon: 11.575 })],
    ['terminal', b.terminal('REQUEST_SENT', { event_time: t + 100 })],
    // The bank echoes stan 000999: a new attempt linked by the echo only, holding the card fact.
    ['bank', b.bank('AUTH_APPROVED', { event_time: t + 400, stan: '000999' })],
    // The gateway names (TERM0001, 000101): the echo-linked attempt merges into the terminal's.
    ['gateway', b.gateway('REQUEST_RECEIVED', { event_time: t + 200 })],
    ['gateway', b.gateway('FORWARDED_TO_ISSUER', { event_time: t + 300 })],
    ['gateway', b.gateway('ISSUER_RESPONSE', { event_time: t + 500 })],
    ['gateway', b.gateway('RESPONSE_SENT', { event_time: t + 600 })],
    ['terminal', b.terminal('TXN_FAILED', { event_time: t + 900, failure_reason: 'PRINTER_ERROR' })],
    // Traffic ten minutes on hands the first fact over; then a late authorization from before it: its fact is
    // late, which only the restored frontier (lastFactTime) can tell.
    ['terminal', b.terminal('TXN_STARTED', { event_time: t + 10 * MIN, stan: '000105' })],
    ['gateway', b.gateway('REQUEST_RECEIVED', { event_time: t + 10 * MIN, stan: '000105', rrn: '400000000105' })],
    ['bank', b.bank('AUTH_DECLINED', { event_time: t + 10 * MIN, stan: '000105', rrn: '400000000105' })],
    ['bank', b.bank('AUTH_APPROVED', { event_time: t + 300, stan: '000103', rrn: '400000000103' })],
    // Later traffic moves the watermark past every decision.
    ['terminal', b.terminal('TXN_STARTED', { event_time: t + 2 * HOUR, stan: '000102' })],
    ['gateway', b.gateway('REQUEST_RECEIVED', { event_time: t + 2 * HOUR, stan: '000102', rrn: '400000000102' })],
    ['bank', b.bank('AUTH_DECLINED', { event_time: t + 2 * HOUR, stan: '000102', rrn: '400000000102' })],
    ['terminal', b.terminal('TXN_STARTED', { event_time: t + 4 * HOUR, stan: '000104' })],
    ['gateway', b.gateway('REQUEST_RECEIVED', { event_time: t + 4 * HOUR, stan: '000104', rrn: '400000000104' })],
    ['bank', b.bank('AUTH_DECLINED', { event_time: t + 4 * HOUR, stan: '000104', rrn: '400000000104' })],
  ];
  return events.map(([stream, event]) => ({ kind: 'push', p: 0, stream, event }));
}

/** A duplicate re-decided after its first charge left the group (dupFirsts), one engine's actions. */
export function dupFirstsCaseActions(): Action[] {
  const b = new EventBuilder();
  const t1 = T0;
  const t2 = T0 + MIN;
  const arrivals: [Stream, TerminalEvent | GatewayEvent | BankEvent][] = [];
  const attempt = (t: number, stan: string, rrn: string, card_token = 'tok_card_A') => {
    const evs = Object.values(b.attempt({ t, stan, rrn, card_token })) as (TerminalEvent | GatewayEvent | BankEvent)[];
    for (const e of evs) arrivals.push([streamOf(e), e]);
  };
  // Two charges of one card, merchant and amount a minute apart: a DUPLICATE_DEBIT on the second.
  attempt(t1, '000001', 'RRN000000001');
  attempt(t2, '000002', 'RRN000000002');
  // Traffic of another card puts the watermark between the two debits' horizons: the first charge is released.
  attempt(t1 + DAY + 6.5 * MIN, '000003', 'RRN000000003', 'tok_card_B');
  // A late reversal of the second charge, within its horizon: it is re-decided against the released first charge.
  arrivals.push(['bank', b.bank('REVERSAL_APPLIED', { event_time: t2 + DAY - MIN, orig_rrn: 'RRN000000002', rrn: 'REV000000002' })]);
  attempt(t1 + 2 * DAY, '000004', 'RRN000000004', 'tok_card_B');
  return arrivals.map(([stream, event]) => ({ kind: 'push', p: 0, stream, event }));
}
