/**
 * Issue 13, acceptance for the stage-1 engine: snapshot at a cut, JSON round
 * trip, restore into fresh objects, continue — the output (every anomaly
 * version with all its fields, every golden record, every late event, every
 * card fact and fault signal handed on, the counters) is exactly the
 * uninterrupted run's. One engine with its own duplicate index (replay), and
 * several engines sharing one index with events routed by terminal as
 * `posguard run` routes them (one engine per partition; a merchant's
 * terminals in different partitions). The card patterns and fault spikes are
 * recording fakes here: their own state is ck-pat's (src/detect/patterns);
 * what the engine hands them, and when, is what this file checks.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, buildRules, type Rules } from '../../src/config/rules.js';
import type { CardFact, CardPatternDetector, FaultSpikeDetector, HardwareSignal } from '../../src/detect/patterns/types.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import { SharedDuplicates } from '../../src/engine/shared-duplicates.js';
import { AttemptRefs, type EngineState, type SharedDuplicatesState } from '../../src/engine/state/index.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { BANK_EVENT_TYPES, TERMINAL_EVENT_TYPES } from '../../src/events/generated.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import type { TransactionRecord } from '../../src/events/transaction.js';
import { DAY, EventBuilder, HOUR, MIN, SEC, T0 } from '../eval/builders.js';
import { randomScenario, rng } from '../support/scenarios.js';

const NOW = 1_765_000_000_000;
const STREAMS: readonly Stream[] = ['terminal', 'gateway', 'bank'];
const RULES_BY_NAME: Record<string, Rules> = {
  default: DEFAULT_RULES,
  patient: buildRules({ time: { allowedLatenessMs: 3 * 3_600_000 } }),
};

const streamOf = (e: TerminalEvent | GatewayEvent | BankEvent): Stream =>
  (TERMINAL_EVENT_TYPES as readonly string[]).includes(e.event_type) ? 'terminal' : (BANK_EVENT_TYPES as readonly string[]).includes(e.event_type) ? 'bank' : 'gateway';

type Action =
  | { kind: 'push'; p: number; stream: Stream; event: TerminalEvent | GatewayEvent | BankEvent }
  | { kind: 'floor'; p: number; stream: Stream; t: number };

/** Everything the engines hand out, in order. */
interface Recording {
  anomalies: Anomaly[];
  transactions: TransactionRecord[];
  late: [number, Stream, string][];
  facts: [number, CardFact][];
  cardAdvances: [number, number][];
  signals: [number, HardwareSignal][];
  faultCalls: [number, number | 'end'][];
}

const emptyRecording = (): Recording => ({ anomalies: [], transactions: [], late: [], facts: [], cardAdvances: [], signals: [], faultCalls: [] });

interface World {
  engines: Engine[];
  dups: SharedDuplicates | undefined;
}

function options(p: number, rules: Rules, rec: Recording, dups: SharedDuplicates | undefined): EngineOptions {
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

function fresh(n: number, shared: boolean, rules: Rules, rec: Recording): World {
  const dups = shared ? new SharedDuplicates() : undefined;
  return { engines: Array.from({ length: n }, (_, p) => new Engine(options(p, rules, rec, dups))), dups };
}

interface Snapshot {
  engines: EngineState[];
  shared: SharedDuplicatesState | null;
}

function snapshot(w: World): string {
  const refs = new AttemptRefs();
  const engines = w.engines.map((e, p) => e.snapshot(refs, p));
  const shared = w.dups === undefined ? null : w.dups.snapshot(refs);
  return JSON.stringify({ engines, shared } satisfies Snapshot);
}

function restore(json: string, rules: Rules, rec: Recording): World {
  const s = JSON.parse(json) as Snapshot;
  const refs = new AttemptRefs();
  const dups = s.shared === null ? undefined : new SharedDuplicates();
  const engines = s.engines.map((es, p) => Engine.restore(options(p, rules, rec, dups), es, refs, p));
  if (dups !== undefined) dups.restore(s.shared!, refs);
  return { engines, dups };
}

function apply(w: World, a: Action): void {
  if (a.kind === 'push') w.engines[a.p].push(a.stream, a.event);
  else w.engines[a.p].raiseFloor(a.stream, a.t);
}

function finish(w: World, rec: Recording): { rec: Recording; counters: unknown[]; open: number[]; sharedEntries: number | null } {
  for (const e of w.engines) e.end();
  return {
    rec, counters: w.engines.map((e) => structuredClone(e.counters)), open: w.engines.map((e) => e.openAttempts()),
    // Debits the shared index still holds after the end (its removals continue from the restored heap).
    sharedEntries: w.dups?.entries ?? null,
  };
}

/** A random scenario as actions: routed by terminal, with DEVICE_FAULTs (some redelivered a little later) and floors raised now and then. */
function actions(seed: number, engines: number, rules: Rules): Action[] {
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

/** What a snapshot holds, to show the cuts reach the cases that matter. */
function features(json: string): string[] {
  const s = JSON.parse(json) as Snapshot;
  const attempts = [...s.engines.map((e) => e.attempts), s.shared?.attempts ?? []];
  const all = attempts.flat();
  const out: string[] = [];
  if (all.some((a) => a.info?.mergedInto)) out.push('merged attempt');
  if (all.some((a) => a.info?.dupFirsts)) out.push('emitted duplicate');
  if (all.some((a) => a.info?.emitted)) out.push('emitted anomaly');
  if (s.engines.some((e) => (e.cardFacts?.facts.items.length ?? 0) > 0)) out.push('held card facts');
  if (s.engines.some((e) => e.timers.items.includes(null))) out.push('released attempt in timers');
  if (s.engines.some((e) => e.faultIds.length > 0)) out.push('fault ids');
  if ((s.shared?.attempts.length ?? 0) > 0) out.push('attempt held by the shared index only');
  if ((s.shared?.index.removals.items.length ?? 0) > 0) out.push('deferred removals');
  const owner = ([h, i]: [number, number]) => (h < 0 ? s.shared!.attempts : s.engines[h].attempts)[i].info?.owner;
  if (s.shared?.index.groups.some(([, g]) => new Set(g.members.map((m) => owner(m[0]))).size > 1)) out.push('group spanning engines');
  return out;
}

interface CaseResult {
  cuts: number;
  seen: Map<string, number>;
}

/** Runs a random scenario whole, then from each cut through a snapshot; every run must equal the whole one. */
function checkScenario(seed: number, engines: number, rules: Rules, seen: Map<string, number>): number {
  const acts = actions(seed, engines, rules);
  // The cuts: seeded random ones, the first right after a decision past the middle, the first after a floor.
  const r = rng(seed ^ 0xc0ffee);
  const cuts = new Set<number>(Array.from({ length: 4 }, () => 1 + Math.floor(r() * (acts.length - 1))));
  const afterFloor = acts.findIndex((a) => a.kind === 'floor');
  if (afterFloor >= 0) cuts.add(afterFloor + 1);
  return checkActions(`seed ${seed}`, acts, engines, rules, seen, cuts);
}

function checkActions(name: string, acts: readonly Action[], engines: number, rules: Rules, seen: Map<string, number>, cuts: ReadonlySet<number>): number {
  const shared = engines > 1;
  const whole = emptyRecording();
  const ref = fresh(engines, shared, rules, whole);
  for (const a of acts) apply(ref, a);
  const expected = finish(ref, whole);

  // One run takes the snapshots on the way (snapshots must not change it either).
  const rec = emptyRecording();
  const run = fresh(engines, shared, rules, rec);
  const taken: { at: number; json: string; rec: Recording; reason: string[] }[] = [];
  let decisionCut = false;
  for (let i = 0; i < acts.length; i++) {
    const before = run.engines.reduce((n, e) => n + e.counters.decisions, 0);
    apply(run, acts[i]);
    const decided = run.engines.reduce((n, e) => n + e.counters.decisions, 0) > before;
    const at = i + 1;
    const atDecision = decided && !decisionCut && at > acts.length / 2;
    if (!cuts.has(at) && !atDecision) continue;
    if (atDecision) decisionCut = true;
    const reason = [...(atDecision ? ['right after a decision'] : []), ...(acts[i].kind === 'floor' ? ['right after raiseFloor'] : [])];
    taken.push({ at, json: snapshot(run), rec: structuredClone(rec), reason });
  }
  expect(finish(run, rec)).toStrictEqual(expected);

  for (const cut of taken) {
    const restored = restore(cut.json, rules, cut.rec);
    // What was restored snapshots to the same bytes: nothing was dropped or changed on the way.
    expect(snapshot(restored)).toBe(cut.json);
    for (const a of acts.slice(cut.at)) apply(restored, a);
    const got = finish(restored, cut.rec);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      throw new Error(`${name}, ${engines} engine(s), cut after action ${cut.at} of ${acts.length}: the restored run differs`);
    }
    expect(got).toStrictEqual(expected);
    for (const f of [...features(cut.json), ...cut.reason]) seen.set(f, (seen.get(f) ?? 0) + 1);
  }
  return taken.length;
}

function checkMany(engines: number, seeds: number, rulesName: string): CaseResult {
  const seen = new Map<string, number>();
  let cuts = 0;
  for (let seed = 1; seed <= seeds; seed++) cuts += checkScenario(seed, engines, RULES_BY_NAME[rulesName], seen);
  return { cuts, seen };
}

const SEEDS = Number(process.env.PG_SNAPSHOT_SEEDS ?? 25);

describe('engine snapshot → JSON → restore → continue equals the uninterrupted run', () => {
  it('one engine with its own duplicate index (replay), default rules', () => {
    const { cuts, seen } = checkMany(1, SEEDS, 'default');
    expect(cuts).toBeGreaterThan(4 * SEEDS);
    for (const f of ['emitted duplicate', 'emitted anomaly', 'held card facts', 'released attempt in timers', 'fault ids', 'right after a decision', 'right after raiseFloor']) {
      expect(seen.get(f) ?? 0, f).toBeGreaterThan(0);
    }
  });

  it('one engine, long lateness (decided attempts re-evaluated after the cut)', () => {
    const { cuts } = checkMany(1, Math.ceil(SEEDS / 2), 'patient');
    expect(cuts).toBeGreaterThan(0);
  });

  it('two engines sharing one duplicate index, events routed by terminal', () => {
    const { cuts, seen } = checkMany(2, SEEDS, 'default');
    expect(cuts).toBeGreaterThan(4 * SEEDS);
    for (const f of ['group spanning engines', 'deferred removals', 'attempt held by the shared index only', 'held card facts', 'right after a decision', 'right after raiseFloor']) {
      expect(seen.get(f) ?? 0, f).toBeGreaterThan(0);
    }
  });

  it('three engines sharing one duplicate index', () => {
    const { cuts, seen } = checkMany(3, Math.ceil(SEEDS / 2), 'default');
    expect(cuts).toBeGreaterThan(0);
    expect(seen.get('group spanning engines') ?? 0).toBeGreaterThan(0);
  });

  it('a card fact held on an attempt that is merged away (the bank echoed another stan than the gateway names), cut everywhere', () => {
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
    const acts: Action[] = events.map(([stream, event]) => ({ kind: 'push', p: 0, stream, event }));
    const seen = new Map<string, number>();
    const probe = emptyRecording();
    const w = fresh(1, false, DEFAULT_RULES, probe);
    for (const a of acts) apply(w, a);
    const lateFacts = finish(w, probe).rec.facts.filter(([, f]) => f.late).length;
    for (const engines of [1, 2]) {
      const cuts = checkActions('merge case', acts, engines, DEFAULT_RULES, seen, new Set(acts.map((_, i) => i + 1)));
      expect(cuts).toBe(acts.length);
    }
    expect(seen.get('merged attempt') ?? 0).toBeGreaterThan(0);
    expect(seen.get('held card facts') ?? 0).toBeGreaterThan(0);
    expect(lateFacts).toBeGreaterThan(0);
  });

  it('a duplicate re-decided after its first charge left the group (dupFirsts), cut everywhere', () => {
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
    const acts: Action[] = arrivals.map(([stream, event]) => ({ kind: 'push', p: 0, stream, event }));
    const seen = new Map<string, number>();
    for (const engines of [1, 2]) checkActions('dupFirsts case', acts, engines, DEFAULT_RULES, seen, new Set(acts.map((_, i) => i + 1)));
    expect(seen.get('emitted duplicate') ?? 0).toBeGreaterThan(0);
  });
});
