/**
 * The duplicate-debit index as part of a packed skeleton (issue 13,
 * STATE_FORMAT 2): every group with its members in list order (debit time,
 * then join order) by sid, its open list, join counter and decided frontier;
 * the entry count; the deferred removals in heap order. Inside an engine's
 * skeleton when the engine owns its index, else its own record
 * (SharedDuplicates.captureSkeleton).
 */
import { TimeHeap } from '../../util/heap.js';
import { DuplicateGroup } from '../duplicate-group.js';
import { H_DEBIT_AT, type LiveAttempt } from '../live-attempt.js';
import type { SharedDuplicates } from '../shared-duplicates.js';
import type { AttemptTable } from './attempt-table.js';
import { PackReader, PackWriter, type Packed } from './packed.js';

export const SKELETON_VERSION = 2;

/** The shared index's record. */
export interface SharedSkeleton {
  v: 2;
  index: Packed;
}

/** A heap's entries in heap order (equal times pop in the same order after a restore); items as uints. */
export function writeHeap<T>(w: PackWriter, h: TimeHeap<T>, item: (x: T) => number): void {
  const { times, items } = h.entries();
  w.uint(times.length);
  for (const t of times) w.num(t);
  for (const x of items) w.uint(item(x));
}

/** Fills a fresh heap written by writeHeap, keeping its layout. */
export function readHeap<T>(r: PackReader, h: TimeHeap<T>, item: (u: number) => T): void {
  if (h.size !== 0) throw new Error('restoring into a heap that is not empty');
  const n = r.uint();
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(r.num());
  const items: T[] = [];
  for (let i = 0; i < n; i++) items.push(item(r.uint()));
  h.load(times, items);
}

/**
 * Per group: a header (members × 4 + key written? + open list out of member order?), the key only when
 * the first member's info.group is not it, then per member (sid × 2 + time written?) [its time when not
 * its debit time now] (seq × 2 + open?), the open positions only when they are not in member order
 * (they are: both lists keep debit-time order), then the join counter and the two frontiers.
 */
export function writeDuplicateIndex(w: PackWriter, d: SharedDuplicates, sid: (x: LiveAttempt) => number): void {
  w.uint(d.groups.size);
  let graceMs = NaN;
  for (const [key, g] of d.groups) {
    const inOrder = g.stateMembers();
    const members = inOrder ?? g.stateView().members.map((m) => ({ ...m, open: false }));
    const ownKey = members.length > 0 && members[0].x.info?.group === key;
    w.uint(members.length * 4 + (inOrder ? 0 : 2) + (ownKey ? 0 : 1));
    if (!ownKey) w.str(key);
    for (const m of members) {
      const ownT = m.t === m.x.n[H_DEBIT_AT];
      w.uint(sid(m.x) * 2 + (ownT ? 0 : 1));
      if (!ownT) w.num(m.t);
      w.uint(m.seq * 2 + (m.open ? 1 : 0));
    }
    if (!inOrder) {
      const { open } = g.stateView();
      w.uint(open.length);
      for (const i of open) w.uint(i);
    }
    const c = g.stateCounters();
    w.uint(c.seq);
    // The grace is the same in (nearly) every group; the decided frontier is -Infinity or a member's time.
    const sameGrace = Object.is(c.openGraceMs, graceMs);
    w.uint(sameGrace ? 1 : 0);
    if (!sameGrace) w.num((graceMs = c.openGraceMs));
    const j = members.findIndex((m) => m.t === c.maxDecidedAt);
    const frontier = c.maxDecidedAt === -Infinity ? 1 : j >= 0 ? j + 2 : 0;
    w.uint(frontier);
    if (frontier === 0) w.num(c.maxDecidedAt);
  }
  w.uint(d.entries);
  writeHeap(w, d.stateRemovals(), sid);
}

/** Fills a fresh, empty index (engines already registered their watermarks with it). */
export function readDuplicateIndex(r: PackReader, d: SharedDuplicates, get: (sid: number) => LiveAttempt): void {
  if (d.groups.size !== 0 || d.entries !== 0) throw new Error('restoring a duplicate index that is not empty');
  const groups = r.uint();
  let graceMs = NaN;
  for (let i = 0; i < groups; i++) {
    const head = r.uint();
    const inOrder = (head & 2) === 0;
    let key = (head & 1) === 0 ? null : r.str();
    const members: { x: LiveAttempt; t: number; seq: number }[] = [];
    const open: number[] = [];
    for (let j = 0, n = Math.floor(head / 4); j < n; j++) {
      const ref = r.uint();
      const x = get(Math.floor(ref / 2));
      const t = ref % 2 === 0 ? x.n[H_DEBIT_AT] : r.num();
      const seq = r.uint();
      if (inOrder && seq % 2 === 1) open.push(j);
      members.push({ x, t, seq: Math.floor(seq / 2) });
    }
    key ??= members[0]?.x.info?.group ?? null;
    if (key === null) throw new Error('duplicate group: no key');
    for (let j = inOrder ? 0 : r.uint(); j > 0; j--) {
      const at = r.uint();
      if (at >= members.length) throw new Error(`duplicate group ${key}: open position ${at} out of range`);
      open.push(at);
    }
    const seq = r.uint();
    if (r.uint() === 0) graceMs = r.num();
    const at = r.uint();
    const maxDecidedAt = at === 0 ? r.num() : at === 1 ? -Infinity : members[at - 2]?.t;
    if (maxDecidedAt === undefined) throw new Error(`duplicate group ${key}: decided frontier names member ${at - 2} of ${members.length}`);
    const g = new DuplicateGroup();
    g.loadState({ members, open, seq, openGraceMs: graceMs, maxDecidedAt });
    d.groups.set(key, g);
  }
  d.entries = r.uint();
  readHeap(r, d.stateRemovals(), get);
}

export function captureSharedSkeleton(d: SharedDuplicates, table: AttemptTable): SharedSkeleton {
  table.beginShared();
  const w = new PackWriter();
  writeDuplicateIndex(w, d, (x) => table.sid(x));
  return { v: SKELETON_VERSION, index: w.done() };
}

/** After every engine sharing the index was restored from the same table; then table.checkComplete(). */
export function restoreSharedSkeleton(d: SharedDuplicates, s: SharedSkeleton, table: AttemptTable): void {
  if (s?.v !== SKELETON_VERSION) throw new Error(`shared duplicate index skeleton version ${String(s?.v)}, this build reads ${SKELETON_VERSION}`);
  const r = new PackReader(s.index);
  readDuplicateIndex(r, d, (sid) => table.attempt(sid));
  r.checkEnd();
}
