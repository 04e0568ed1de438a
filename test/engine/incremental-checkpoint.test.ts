/**
 * Issue 13, STATE_FORMAT 2, engine side: incremental checkpoints. 1, 2 and 3
 * engines (2 and 3 sharing one duplicate index, events routed by terminal)
 * run the random equivalence scenarios (25 seeds, even seeds with the
 * boundary-edge share) and the two hand-made cases; at many cuts a barrier
 * takes the skeletons and a DELTA of the attempt table, applied to a running
 * item map as the checkpoint chain does (upserts overwrite, removes delete).
 * At each cut:
 * - the merged map equals a FULL capture taken at the same cut (so no change
 *   of an attempt went unnoticed by the tracker, no gone attempt stayed);
 * - fresh engines restored from (skeletons + merged map + table state), JSON
 *   round-tripped, continue to exactly the uninterrupted run's output (every
 *   anomaly version with all its fields, golden records, late events, facts
 *   and signals handed on, counters), and their own later deltas keep the
 *   merged map equal to a full capture (the chain continues across a restore).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, type Rules } from '../../src/config/rules.js';
import { Engine } from '../../src/engine/engine.js';
import { SharedDuplicates } from '../../src/engine/shared-duplicates.js';
import { AttemptTable } from '../../src/engine/state/attempt-table.js';
import { attemptItem, type AttemptItem } from '../../src/engine/state/attempt-item.js';
import type { LiveAttempt } from '../../src/engine/live-attempt.js';
import { JsonText, type ItemDelta } from '../../src/util/item-delta.js';
import {
  RULES_BY_NAME, actions, apply, dupFirstsCaseActions, emptyRecording, finish, fresh, mergeCaseActions, options, type Action, type Recording, type World,
} from '../support/engine-runs.js';
import { rng } from '../support/scenarios.js';
import { HOUR } from '../eval/builders.js';

/** The checkpoint chain in miniature: the merged item map (items as their JSON text). */
class Chain {
  readonly items = new Map<string, string>();
  deltas = 0;
  skipped = 0;
  removed = 0;
  /** Deltas asked for that came whole: the delta would have held more items than the table. */
  whole = 0;

  apply(d: ItemDelta): void {
    if (d.full) this.items.clear();
    let upserts = 0;
    for (const [k, v] of d.upserts) {
      this.items.set(k, JSON.stringify(v));
      upserts++;
    }
    for (const k of d.removes) {
      if (!this.items.delete(k)) throw new Error(`delta removes ${k}, which the chain does not hold`);
    }
    if (!d.full) {
      this.deltas++;
      this.removed += d.removes.length;
      if (upserts < this.items.size) this.skipped++;
      if (upserts + d.removes.length > this.items.size) throw new Error(`a delta of ${upserts + d.removes.length} items for a table of ${this.items.size}: it should have come whole`);
    }
  }

  copy(): Chain {
    const c = new Chain();
    for (const [k, v] of this.items) c.items.set(k, v);
    return c;
  }
}

interface Skeletons {
  engines: unknown[];
  shared: unknown;
  table: unknown;
}

function skeletons(w: World, table: AttemptTable): Omit<Skeletons, 'table'> {
  return { engines: w.engines.map((e, p) => e.captureSkeleton(table, p)), shared: w.dups?.captureSkeleton(table) ?? null };
}

/** One barrier: skeletons + delta into the chain; then, at the same cut, skeletons + full capture, which must agree. */
function barrier(w: World, table: AttemptTable, chain: Chain, where: string): string {
  const sk = skeletons(w, table);
  const d = table.capture(false);
  if (d.full) chain.whole++;
  chain.apply(d);
  const json = JSON.stringify({ ...sk, table: table.toState() } satisfies Skeletons);
  const again = skeletons(w, table);
  const full = new Map<string, string>();
  for (const [k, v] of table.capture(true).upserts) {
    full.set(k, JSON.stringify(v));
    expectTupleText(table, k, v);
  }
  expect(JSON.stringify(again), `${where}: skeletons taken twice at one cut differ`).toBe(JSON.stringify(sk));
  const wrong = [...new Set([...full.keys(), ...chain.items.keys()])].filter((k) => full.get(k) !== chain.items.get(k));
  if (wrong.length > 0) {
    const k = wrong[0];
    throw new Error(`${where}: base + deltas differ from a full capture in ${wrong.length} item(s); sid ${k}:\n merged ${chain.items.get(k)}\n full   ${full.get(k)}`);
  }
  return json;
}

/** An attempt item comes as its JSON text (attemptJson), the very text of the tuple attemptItem builds. */
function expectTupleText(table: AttemptTable, sid: string, v: unknown): void {
  texts.checked++;
  const t = table as unknown as { known: Map<number, LiveAttempt>; engineIds: WeakMap<object, number> };
  const names = { ref: (y: LiveAttempt) => y.sid, owner: (o: object | null) => (o === null ? null : t.engineIds.get(o)!) };
  expect(v).toBeInstanceOf(JsonText);
  expect((v as JsonText).json, `sid ${sid}`).toBe(JSON.stringify(attemptItem(t.known.get(Number(sid))!, names)));
}

/** Items compared by expectTupleText (the test of it needs some). */
const texts = { checked: 0 };

function restore(json: string, items: ReadonlyMap<string, string>, rules: Rules, rec: Recording): { w: World; table: AttemptTable } {
  const s = JSON.parse(json) as Skeletons;
  const table = AttemptTable.restore(s.table, new Map([...items].map(([k, v]) => [k, JSON.parse(v) as unknown])));
  const dups = s.shared === null ? undefined : new SharedDuplicates();
  const engines = s.engines.map((es, p) => Engine.restoreFrom(options(p, rules, rec, dups), es, table, p));
  dups?.restoreFrom(s.shared, table);
  table.checkComplete();
  return { w: { engines, dups }, table };
}

/** What the merged map holds, to show the cuts reach the cases that matter. */
function features(chain: Chain, seen: Map<string, number>): void {
  const items = [...chain.items.values()].map((v) => JSON.parse(v) as AttemptItem);
  const note = (f: string, on: boolean) => { if (on) seen.set(f, (seen.get(f) ?? 0) + 1); };
  note('merged attempt', items.some((a) => a[7]?.[10] != null));
  note('emitted duplicate', items.some((a) => a[7]?.[12] != null));
  note('emitted anomaly', items.some((a) => a[7]?.[8] != null));
  const owners = new Map<string, Set<number | null>>();
  for (const a of items) if (a[7]?.[7]) (owners.get(a[7][7]) ?? owners.set(a[7][7], new Set()).get(a[7][7])!).add(a[7][11]);
  note('group spanning engines', [...owners.values()].some((o) => o.size > 1));
}

function checkActions(name: string, acts: readonly Action[], engines: number, rules: Rules, cuts: ReadonlySet<number>, seen: Map<string, number>): number {
  const shared = engines > 1;
  const whole = emptyRecording();
  const ref = fresh(engines, shared, rules, whole);
  for (const a of acts) apply(ref, a);
  const expected = JSON.stringify(finish(ref, whole));

  const rec = emptyRecording();
  const run = fresh(engines, shared, rules, rec);
  const table = new AttemptTable();
  const chain = new Chain();
  const taken: { at: number; json: string; chain: Chain; rec: Recording }[] = [];
  for (let i = 0; i < acts.length; i++) {
    apply(run, acts[i]);
    if (!cuts.has(i + 1)) continue;
    const json = barrier(run, table, chain, `${name}, ${engines} engine(s), cut ${i + 1}`);
    taken.push({ at: i + 1, json, chain: chain.copy(), rec: structuredClone(rec) });
    features(chain, seen);
  }
  // Barriers do not change the run.
  expect(JSON.stringify(finish(run, rec))).toBe(expected);
  for (const k of ['deltas', 'skipped', 'removed', 'whole'] as const) seen.set(k, (seen.get(k) ?? 0) + chain[k]);

  // Restored at every other cut (each restore replays the rest of the input); the chain continues from each.
  for (const cut of taken.filter((_, i) => i % 2 === 0 || taken.length < 8)) {
    const where = `${name}, ${engines} engine(s), restored at cut ${cut.at} of ${acts.length}`;
    const { w, table: t } = restore(cut.json, cut.chain.items, rules, cut.rec);
    // Nothing changed since the restore: an empty delta, then the same skeletons and items.
    const sk = skeletons(w, t);
    const d = t.capture(false);
    expect([...d.upserts].length + d.removes.length, `${where}: a delta right after the restore`).toBe(0);
    expect(JSON.stringify({ ...sk, table: t.toState() }), where).toBe(cut.json);
    let later = 0;
    for (let i = cut.at; i < acts.length; i++) {
      apply(w, acts[i]);
      if (cuts.has(i + 1) && later++ % 3 === 2) barrier(w, t, cut.chain, `${where}, continued to cut ${i + 1}`);
    }
    const got = JSON.stringify(finish(w, cut.rec));
    if (got !== expected) throw new Error(`${where}: the restored run differs`);
    barrier(w, t, cut.chain, `${where}, after the end`);
  }
  return taken.length;
}

/** Cuts: every few actions, some random ones, and right after each floor raise. */
function cutsFor(seed: number, acts: readonly Action[]): Set<number> {
  const every = Math.max(1, Math.ceil(acts.length / 12));
  const r = rng(seed ^ 0x5eed);
  const cuts = new Set<number>();
  for (let at = every; at <= acts.length; at += every) cuts.add(at);
  for (let i = 0; i < 4; i++) cuts.add(1 + Math.floor(r() * acts.length));
  acts.forEach((a, i) => { if (a.kind === 'floor') cuts.add(i + 1); });
  return cuts;
}

/**
 * Engine 1 idle, its floors following engine 0's events an hour behind: the shared index prunes a debit
 * engine 0 released only at a later action (the debit's state changes without an event of its own).
 */
function withIdlePeer(acts: readonly Action[]): Action[] {
  return acts.flatMap((a) => (a.kind === 'push'
    ? [a, ...(['terminal', 'gateway', 'bank'] as const).map((stream): Action => ({ kind: 'floor', p: 1, stream, t: a.event.event_time - HOUR }))]
    : [a]));
}

const SEEDS = Number(process.env.PG_SNAPSHOT_SEEDS ?? 25);

async function checkMany(engines: number, seeds: number, rules: Rules): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let seed = 1; seed <= seeds; seed++) {
    const acts = actions(seed, engines, rules);
    seen.set('cuts', (seen.get('cuts') ?? 0) + checkActions(`seed ${seed}`, acts, engines, rules, cutsFor(seed, acts), seen));
    // Lets the test worker answer its runner between seeds (a long synchronous test times its RPC out on a busy machine).
    await new Promise((resolve) => setImmediate(resolve));
  }
  return seen;
}

describe('incremental checkpoints: base + deltas equal a full capture, and restoring from them continues the uninterrupted run', () => {
  it('one engine with its own duplicate index', async () => {
    const seen = await checkMany(1, SEEDS, DEFAULT_RULES);
    expect(seen.get('cuts')).toBeGreaterThan(12 * SEEDS);
    for (const f of ['emitted anomaly', 'emitted duplicate', 'skipped', 'removed']) expect(seen.get(f) ?? 0, f).toBeGreaterThan(0);
  });

  it('one engine, long lateness (decided attempts re-evaluated after the cut)', async () => {
    expect((await checkMany(1, Math.ceil(SEEDS / 3), RULES_BY_NAME.patient)).get('cuts')).toBeGreaterThan(0);
  });

  it('two engines sharing one duplicate index', async () => {
    const seen = await checkMany(2, SEEDS, DEFAULT_RULES);
    for (const f of ['group spanning engines', 'emitted duplicate', 'skipped', 'removed']) expect(seen.get(f) ?? 0, f).toBeGreaterThan(0);
  });

  it('three engines sharing one duplicate index', async () => {
    const seen = await checkMany(3, SEEDS, DEFAULT_RULES);
    for (const f of ['group spanning engines', 'skipped', 'removed']) expect(seen.get(f) ?? 0, f).toBeGreaterThan(0);
  });

  it('barriers far apart: a delta with more items than the table comes whole, and the chain and restores go on from it', () => {
    const seen = new Map<string, number>();
    for (let seed = 1; seed <= 4; seed++) {
      const acts = actions(seed, 1, DEFAULT_RULES);
      checkActions(`seed ${seed}`, acts, 1, DEFAULT_RULES, new Set([Math.floor(acts.length * 0.1), Math.floor(acts.length * 0.9), acts.length]), seen);
    }
    expect(seen.get('whole') ?? 0).toBeGreaterThan(0);
  });

  it('a merged attempt and a duplicate whose first charge left the group, cut after every action', () => {
    const seen = new Map<string, number>();
    for (const [name, acts] of [['merge case', mergeCaseActions()], ['dupFirsts case', dupFirstsCaseActions()]] as const) {
      for (const engines of [1, 2]) {
        const routed = engines === 1 ? acts : withIdlePeer(acts);
        checkActions(name, routed, engines, DEFAULT_RULES, new Set(routed.map((_, i) => i + 1)), seen);
      }
    }
    for (const f of ['merged attempt', 'emitted duplicate', 'removed']) expect(seen.get(f) ?? 0, f).toBeGreaterThan(0);
  });

  it('compared every full capture\'s attempt items, as text, with the tuples they stand for', () => {
    expect(texts.checked).toBeGreaterThan(10_000);
  });
});

describe('a restore from an item map that does not fit the skeletons throws (a partial restore is never used)', () => {
  const acts = actions(3, 2, DEFAULT_RULES);
  const w = fresh(2, true, DEFAULT_RULES, emptyRecording());
  for (const a of acts.slice(0, Math.floor(acts.length / 2))) apply(w, a);
  const table = new AttemptTable();
  const chain = new Chain();
  const json = barrier(w, table, chain, 'setup');

  it('restoreYielding builds the table restore builds, from the items as their JSON text (as a restore reads them)', async () => {
    const s = JSON.parse(json) as Skeletons;
    const texts = () => new Map([...chain.items].map(([k, v]) => [k, new JsonText(v)] as const));
    const captured = (t: AttemptTable): string => {
      const dups = s.shared === null ? undefined : new SharedDuplicates();
      const engines = s.engines.map((es, p) => Engine.restoreFrom(options(p, DEFAULT_RULES, emptyRecording(), dups), es, t, p));
      dups?.restoreFrom(s.shared, t);
      t.checkComplete();
      return JSON.stringify([skeletons({ engines, dups }, t), [...t.capture(true).upserts]]);
    };
    const once = captured(AttemptTable.restore(s.table, texts()));
    expect(chain.items.size).toBeGreaterThan(10);
    expect(captured(await AttemptTable.restoreYielding(s.table, texts()))).toBe(once);
    await expect(AttemptTable.restoreYielding({ v: 1, nextSid: 1 }, texts())).rejects.toThrow(/not a sid below 1/);
  });

  it('an item missing', () => {
    const items = new Map(chain.items);
    items.delete([...items.keys()][0]);
    expect(() => restore(json, items, DEFAULT_RULES, emptyRecording())).toThrow(/not present/);
  });

  it('an item no skeleton reaches (a remove not applied)', () => {
    const items = new Map(chain.items);
    const [k, v] = [...items][0];
    items.set(String(Number(k) + 1_000), v);
    const s = JSON.parse(json) as Skeletons;
    s.table = { v: 1, nextSid: Number(k) + 2_000 };
    expect(() => restore(JSON.stringify(s), items, DEFAULT_RULES, emptyRecording())).toThrow(/stale/);
  });

  it('an engine missing', () => {
    const s = JSON.parse(json) as Skeletons;
    s.engines = s.engines.slice(0, 1);
    expect(() => restore(JSON.stringify(s), chain.items, DEFAULT_RULES, emptyRecording())).toThrow(/not restored|stale|not present/);
  });

  it('another skeleton version, another engine id', () => {
    const s = JSON.parse(json) as { engines: { v: number; engineId: number }[] };
    const t = () => AttemptTable.restore({ v: 1, nextSid: 1e9 }, new Map());
    expect(() => Engine.restoreFrom(options(0, DEFAULT_RULES, emptyRecording(), new SharedDuplicates()), { ...s.engines[0], v: 1 }, t(), 0)).toThrow(/version 1/);
    expect(() => Engine.restoreFrom(options(0, DEFAULT_RULES, emptyRecording(), new SharedDuplicates()), s.engines[0], t(), 1)).toThrow(/engine 0 restored as engine 1/);
  });

  it('a delta consumed after the next barrier began, an owner engine left out of the barrier', () => {
    const t = new AttemptTable();
    skeletons(w, t);
    const d = t.capture(true);
    skeletons(w, t);
    expect(() => [...d.upserts]).toThrow(/after the next barrier began/);
    t.discardRound();
    // Engine 1's debits sit in the shared index, owned by it: a barrier without engine 1 cannot name their owner.
    w.engines[0].captureSkeleton(t, 0);
    w.dups!.captureSkeleton(t);
    expect(() => t.capture(false)).toThrow(/not captured at this barrier/);
  });

  it('one engine captured twice, or under another id than before', () => {
    const t = new AttemptTable();
    w.engines[0].captureSkeleton(t, 0);
    expect(() => w.engines[0].captureSkeleton(t, 1)).toThrow(/twice/);
    expect(() => w.engines[1].captureSkeleton(t, 0)).toThrow(/two engines/);
    t.discardRound();
    expect(() => w.engines[0].captureSkeleton(t, 1)).toThrow(/earlier as 0/);
  });
});
