/**
 * The process-wide `attempts` item table of incremental checkpoints (issue 13,
 * STATE_FORMAT 2). Every LiveAttempt an engine or the shared duplicate index
 * reaches gets a stable id (`sid`, a process-wide counter, persisted by
 * toState() so a restored process continues it); skeletons name attempts by
 * sid, and capture() hands out the items that changed since the previous
 * capture plus the sids that are gone.
 *
 * Per barrier, synchronously:
 *   engine.captureSkeleton(table, engineId)   every engine of the process
 *   shared.captureSkeleton(table)             the shared duplicate index, if any
 *   table.capture(full) → ItemDelta           consume its upserts before the next event
 *   table.toState()                           after capture()
 * Restore, into fresh objects:
 *   table = AttemptTable.restore(state, items)   items: base + deltas merged (upserts overwrite, removes delete)
 *   Engine.restoreFrom(opts, skeleton, table, engineId)   every engine
 *   shared.restoreFrom(skeleton, table)        then table.checkComplete() (throws: the restore is not usable)
 *
 * Change detection: each attempt carries a `dirty` flag, set by touch() at
 * every place that changes an attempt (src/engine/*.ts) and by its
 * constructor, cleared when capture() hands it out. Removal: an attempt the
 * skeletons (and, through mergedInto / dupFirsts, the attempts they reach) no
 * longer reach is gone: capture() walks `known` for what this round did not mark.
 *
 * Memory bound: `known` holds one entry per attempt the last capture reached,
 * i.e. exactly the attempts the engines and the shared index hold (their own
 * bounds, docs/semantics.md); three small fields per LiveAttempt (sid, dirty,
 * seen); the round's `reached` list lives only until capture() returns.
 */
import { Interner } from '../../util/interner.js';
import { drain, drainYielding } from '../../util/yield.js';
import { itemValue, JsonText, type ItemDelta } from '../../util/item-delta.js';
import type { DebitOwner } from '../debit-groups.js';
import { LiveAttempt } from '../live-attempt.js';
import { attemptJson, loadItem, type AttemptItem, type InfoLookup } from './attempt-item.js';
import { RestoredOwners } from './owners.js';

export const ATTEMPT_TABLE_VERSION = 1;

export interface AttemptTableState {
  v: 1;
  /** The next sid to hand out. */
  nextSid: number;
}

export class AttemptTable {
  private nextSid = 1;
  /** Capture (or restore) round: an attempt with `seen === round` was reached in it. */
  private round = 0;
  private roundOpen = false;
  private sharedTaken = false;
  private reached: LiveAttempt[] = [];
  /** sid → attempt, as of the last capture: the items the checkpoint chain holds. */
  private readonly known = new Map<number, LiveAttempt>();
  /** Engine → id, across rounds: items name their owner by it, so an engine keeps its id. */
  private readonly engineIds = new WeakMap<object, number>();
  /** This round's engines: engine → id, and the ids taken. */
  private readonly roundEngines = new Map<object, number>();
  private readonly roundIds = new Set<number>();
  // ---- restore side ----
  private readonly owners = new RestoredOwners();

  /** Items the last capture (or the restore) handed over. */
  get size(): number {
    return this.known.size;
  }

  /** @internal skeletons: engine `engine` is captured as `id` in this round. */
  beginEngine(engine: object, id: number): void {
    if (!(Number.isInteger(id) && id >= 0)) throw new Error(`engine id must be a non-negative integer, got ${id}`);
    this.openRound();
    if (this.roundEngines.has(engine)) throw new Error(`engine captured twice in one barrier (as ${this.roundEngines.get(engine)} and ${id})`);
    if (this.roundIds.has(id)) throw new Error(`two engines captured as engine ${id}`);
    const before = this.engineIds.get(engine);
    if (before !== undefined && before !== id) throw new Error(`engine captured as ${id}, earlier as ${before}: an engine keeps its id`);
    this.engineIds.set(engine, id);
    this.roundEngines.set(engine, id);
    this.roundIds.add(id);
  }

  /** @internal skeletons: the shared duplicate index is captured in this round. */
  beginShared(): void {
    this.openRound();
    if (this.sharedTaken) throw new Error('shared duplicate index captured twice in one barrier');
    this.sharedTaken = true;
  }

  /** @internal skeletons: x's sid (handed out now if new); x is reached in this round. */
  sid(x: LiveAttempt): number {
    if (x.seen !== this.round) {
      x.seen = this.round;
      if (x.sid === 0) x.sid = this.nextSid++;
      this.reached.push(x);
    }
    return x.sid;
  }

  /** Forgets a round whose skeletons were taken but not captured (a failed barrier); the next capture starts over. */
  discardRound(): void {
    this.closeRound();
  }

  /**
   * The items after this round's skeletons: `full` every attempt reached, else those changed since the
   * previous capture (and those reached anew), with the sids no longer reached; whole anyway when that delta
   * would hold more items than the table. After a failed write ask
   * `full`: the flags of what was handed out are cleared here. Upserts are built lazily, one by one.
   */
  capture(full: boolean): ItemDelta {
    this.openRound();
    const reached = this.reachClosure();
    const ids = new Map(this.roundEngines);
    // Checked before anything changes: a capture that throws leaves the table as it was (then discardRound()).
    for (const x of reached) {
      const owner = x.info === null ? null : x.info.owner;
      if (owner !== null && !ids.has(owner)) throw new Error('an attempt belongs to an engine that was not captured at this barrier');
    }
    const round = this.round;
    // A delta with more items than the whole table (at catch-up speed most attempts are new or gone between two barriers) goes whole: less to write and to merge.
    const whole = full || this.deltaItems(reached, round) > reached.length;
    const removes: string[] = [];
    if (whole) this.known.clear();
    for (const [sid, x] of this.known) {
      if (x.seen === round) continue;
      removes.push(String(sid));
      this.known.delete(sid);
    }
    const out: LiveAttempt[] = [];
    for (const x of reached) {
      if (x.dirty || this.known.get(x.sid) !== x) {
        out.push(x);
        this.known.set(x.sid, x);
        x.dirty = false;
      }
    }
    this.closeRound();
    return { full: whole, upserts: this.items(out, ids, round), removes };
  }

  /** Items a delta of this round would hold: the attempts changed or reached anew, and the sids no longer reached. */
  private deltaItems(reached: readonly LiveAttempt[], round: number): number {
    let n = 0;
    for (const x of this.known.values()) if (x.seen !== round) n++;
    for (const x of reached) if (x.dirty || this.known.get(x.sid) !== x) n++;
    return n;
  }

  /** The table's own state (the sid counter), after capture(). */
  toState(): AttemptTableState {
    return { v: ATTEMPT_TABLE_VERSION, nextSid: this.nextSid };
  }

  /** A table holding `items` (base and deltas merged) as fresh attempts, to restore engines and the shared index from. */
  static restore(state: unknown, items: ReadonlyMap<string, unknown>): AttemptTable {
    return drain(AttemptTable.restoreSteps(state, items));
  }

  /** restore(), handing the event loop back every ~20 ms (util/yield.ts): a restore of a large table goes on heartbeating. */
  static restoreYielding(state: unknown, items: ReadonlyMap<string, unknown>, pause?: () => Promise<void>): Promise<AttemptTable> {
    return drainYielding(AttemptTable.restoreSteps(state, items), pause);
  }

  private static *restoreSteps(state: unknown, items: ReadonlyMap<string, unknown>): Generator<void, AttemptTable> {
    const s = state as AttemptTableState | null;
    if (s?.v !== ATTEMPT_TABLE_VERSION) throw new Error(`attempt table state version ${String(s?.v)}, this build reads ${ATTEMPT_TABLE_VERSION}`);
    if (!(Number.isInteger(s.nextSid) && s.nextSid >= 1)) throw new Error(`attempt table state: next sid ${String(s.nextSid)} is not valid`);
    const t = new AttemptTable();
    t.nextSid = s.nextSid;
    t.round = 1;
    for (const key of items.keys()) {
      const sid = Number(key);
      if (!(Number.isInteger(sid) && sid >= 1 && sid < s.nextSid && String(sid) === key)) throw new Error(`attempt item key ${key} is not a sid below ${s.nextSid}`);
      const x = new LiveAttempt();
      x.sid = sid;
      t.known.set(sid, x);
    }
    const strings = new Interner();
    const look: InfoLookup<number> = { attempt: (sid) => t.item(sid), setOwner: (x, id) => t.owners.set(x, id) };
    let n = 0;
    for (const [key, item] of items) {
      const x = t.known.get(Number(key))!;
      loadItem(x, itemValue(item) as AttemptItem, look, strings);
      x.dirty = false;
      if (++n % 256 === 0) yield;
    }
    return t;
  }

  /** @internal restore: the attempt a skeleton names (one object per sid); it is reached. */
  attempt(sid: number): LiveAttempt {
    const x = this.item(sid);
    if (x.seen !== this.round) {
      x.seen = this.round;
      this.reached.push(x);
    }
    return x;
  }

  /** @internal restore: engine `id` exists; attempts owned by it get their owner now or when restored. */
  registerEngine(id: number, engine: DebitOwner): void {
    this.owners.register(id, engine);
    this.engineIds.set(engine, id);
  }

  /** Restore: throws unless every item was reached by a restored skeleton and every owner engine restored. */
  checkComplete(): void {
    const reached = this.reachClosure();
    this.reached = [];
    this.owners.checkComplete();
    const stale = this.known.size - reached.length;
    if (stale !== 0) throw new Error(`${stale} attempt item(s) reached by no restored engine nor the shared index (a stale item table)`);
  }

  private item(sid: number): LiveAttempt {
    const x = this.known.get(sid);
    if (x === undefined) throw new Error(`attempt ${sid} referenced but not present in the restored item table`);
    return x;
  }

  /** This round's reached attempts plus those reached only through them (mergedInto, dupFirsts); on restore, sids are all set. */
  private reachClosure(): LiveAttempt[] {
    const reached = this.reached;
    for (let i = 0; i < reached.length; i++) {
      const info = reached[i].info;
      if (info === null) continue;
      if (info.mergedInto !== null) this.sid(info.mergedInto);
      if (info.dupFirsts !== null) for (const y of info.dupFirsts) this.sid(y);
    }
    return reached;
  }

  private *items(out: readonly LiveAttempt[], ids: ReadonlyMap<object, number>, round: number): Generator<readonly [string, unknown]> {
    const names = {
      ref: (y: LiveAttempt) => y.sid,
      owner: (o: object | null) => (o === null ? null : ids.get(o)!),
    };
    for (const x of out) {
      if (this.round !== round) throw new Error('attempt table: a capture consumed after the next barrier began');
      yield [String(x.sid), new JsonText(attemptJson(x, names))] as const;
    }
  }

  private openRound(): void {
    if (this.roundOpen) return;
    this.roundOpen = true;
    this.round++;
    this.reached = [];
  }

  private closeRound(): void {
    this.roundOpen = false;
    this.sharedTaken = false;
    this.reached = [];
    this.roundEngines.clear();
    this.roundIds.clear();
  }
}
