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
import type { LiveAttempt } from '../live-attempt.js';
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

export function writeDuplicateIndex(w: PackWriter, d: SharedDuplicates, sid: (x: LiveAttempt) => number): void {
  w.uint(d.groups.size);
  for (const [key, g] of d.groups) {
    const v = g.stateView();
    w.str(key);
    w.uint(v.members.length);
    for (const m of v.members) {
      w.uint(sid(m.x));
      w.num(m.t);
      w.uint(m.seq);
    }
    w.uint(v.open.length);
    for (const i of v.open) w.uint(i);
    w.uint(v.seq);
    w.num(v.openGraceMs);
    w.num(v.maxDecidedAt);
  }
  w.uint(d.entries);
  writeHeap(w, d.stateRemovals(), sid);
}

/** Fills a fresh, empty index (engines already registered their watermarks with it). */
export function readDuplicateIndex(r: PackReader, d: SharedDuplicates, get: (sid: number) => LiveAttempt): void {
  if (d.groups.size !== 0 || d.entries !== 0) throw new Error('restoring a duplicate index that is not empty');
  const groups = r.uint();
  for (let i = 0; i < groups; i++) {
    const key = r.str();
    const members: { x: LiveAttempt; t: number; seq: number }[] = [];
    for (let j = r.uint(); j > 0; j--) members.push({ x: get(r.uint()), t: r.num(), seq: r.uint() });
    const open: number[] = [];
    for (let j = r.uint(); j > 0; j--) {
      const at = r.uint();
      if (at >= members.length) throw new Error(`duplicate group ${key}: open position ${at} out of range`);
      open.push(at);
    }
    const g = new DuplicateGroup();
    g.loadState({ members, open, seq: r.uint(), openGraceMs: r.num(), maxDecidedAt: r.num() });
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
