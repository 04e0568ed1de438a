/**
 * Issue 13, acceptance for the stage-1 engine: snapshot at a cut, JSON round
 * trip, restore into fresh objects, continue — the output (every anomaly
 * version with all its fields, every golden record, every late event, every
 * card fact and fault signal handed on, the counters) is exactly the
 * uninterrupted run's. One engine with its own duplicate index (replay), and
 * several engines sharing one index with events routed by terminal as
 * `posguard run` routes them (one engine per partition; a merchant's
 * terminals in different partitions). The card patterns and fault spikes are
 * recording fakes here: their own state is the card patterns' (src/detect/patterns);
 * what the engine hands them, and when, is what this file checks.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, type Rules } from '../../src/config/rules.js';
import { Engine } from '../../src/engine/engine.js';
import { SharedDuplicates } from '../../src/engine/shared-duplicates.js';
import { AttemptRefs, type EngineState, type SharedDuplicatesState } from '../../src/engine/state/index.js';
import { A_INFO, I_DUP_FIRSTS, I_EMITTED, I_MERGED_INTO, I_OWNER } from '../../src/engine/state/attempt-state.js';
import {
  RULES_BY_NAME, actions, apply, dupFirstsCaseActions, emptyRecording, finish, fresh, mergeCaseActions, options, type Action, type Recording, type World,
} from '../support/engine-runs.js';
import { rng } from '../support/scenarios.js';

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

/** What a snapshot holds, to show the cuts reach the cases that matter. */
function features(json: string): string[] {
  const s = JSON.parse(json) as Snapshot;
  const attempts = [...s.engines.map((e) => e.attempts), s.shared?.attempts ?? []];
  const all = attempts.flat();
  const out: string[] = [];
  if (all.some((a) => a[A_INFO]?.[I_MERGED_INTO])) out.push('merged attempt');
  if (all.some((a) => a[A_INFO]?.[I_DUP_FIRSTS])) out.push('emitted duplicate');
  if (all.some((a) => a[A_INFO]?.[I_EMITTED])) out.push('emitted anomaly');
  if (s.engines.some((e) => (e.cardFacts?.facts.items.length ?? 0) > 0)) out.push('held card facts');
  if (s.engines.some((e) => e.timers.items.includes(null))) out.push('released attempt in timers');
  if (s.engines.some((e) => e.faultIds.length > 0)) out.push('fault ids');
  if ((s.shared?.attempts.length ?? 0) > 0) out.push('attempt held by the shared index only');
  if ((s.shared?.index.removals.items.length ?? 0) > 0) out.push('deferred removals');
  const owner = ([h, i]: [number, number]) => (h < 0 ? s.shared!.attempts : s.engines[h].attempts)[i][A_INFO]?.[I_OWNER];
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
    const acts = mergeCaseActions();
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
    const acts = dupFirstsCaseActions();
    const seen = new Map<string, number>();
    for (const engines of [1, 2]) checkActions('dupFirsts case', acts, engines, DEFAULT_RULES, seen, new Set(acts.map((_, i) => i + 1)));
    expect(seen.get('emitted duplicate') ?? 0).toBeGreaterThan(0);
  });
});

describe('engine restore refuses a state it cannot use whole (the caller falls back to a rebuild)', () => {
  const acts = actions(3, 2, DEFAULT_RULES);
  const rec = emptyRecording();
  const w = fresh(2, true, DEFAULT_RULES, rec);
  for (const a of acts.slice(0, Math.floor(acts.length / 2))) apply(w, a);
  const json = snapshot(w);

  it('another state version', () => {
    const s = JSON.parse(json) as Snapshot;
    (s.engines[0] as { v: number }).v = 2;
    expect(() => Engine.restore(options(0, DEFAULT_RULES, rec, new SharedDuplicates()), s.engines[0], new AttemptRefs(), 0)).toThrow(/version 2/);
  });

  it('an engine missing from the process record', () => {
    const s = JSON.parse(json) as Snapshot;
    const refs = new AttemptRefs();
    const dups = new SharedDuplicates();
    Engine.restore(options(0, DEFAULT_RULES, rec, dups), s.engines[0], refs, 0);
    expect(() => dups.restore(s.shared!, refs)).toThrow(/not (present|restored)/);
  });

  it('a shared-index state restored without one, and one id used twice', () => {
    const s = JSON.parse(json) as Snapshot;
    expect(() => Engine.restore(options(0, DEFAULT_RULES, rec, undefined), s.engines[0], new AttemptRefs(), 0)).toThrow(/shared/);
    expect(() => Engine.restore(options(0, DEFAULT_RULES, rec, new SharedDuplicates()), s.engines[0], new AttemptRefs(), 1)).toThrow(/engine 0 restored as engine 1/);
    const refs = new AttemptRefs();
    w.engines[0].snapshot(refs, 0);
    expect(() => w.engines[1].snapshot(refs, 0)).toThrow(/two engines/);
  });
});
