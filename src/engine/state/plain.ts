/**
 * Plain-data helpers for engine snapshots (issue 13): numbers that JSON
 * cannot hold, and the binary heaps whose array layout fixes the order
 * equal times pop in.
 */
import { snapNum, unsnapNum, type SnapNum } from '../../util/snapshot-num.js';
import { TimeHeap } from '../../util/heap.js';

/** A value made of objects, arrays, strings, numbers, booleans and null. */
export type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

/**
 * A deep copy of an output-shaped value (an anomaly, a card fact) as plain
 * data: a non-finite number becomes `{ $num: 'NaN' | 'Inf' | '-Inf' }` (no
 * record of posguard has an object with that key), undefined fields are dropped.
 */
export function toPlain(v: unknown): Plain {
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $num: snapNum(v) as string };
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toPlain);
  if (typeof v === 'object') {
    const out: { [k: string]: Plain } = {};
    for (const [k, x] of Object.entries(v as object)) if (x !== undefined) out[k] = toPlain(x);
    return out;
  }
  throw new Error(`cannot snapshot a ${typeof v}`);
}

/** The inverse of toPlain. */
export function fromPlain<T>(v: Plain): T {
  return decode(v) as T;
}

function decode(v: Plain): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(decode);
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === '$num') return unsnapNum(v.$num as SnapNum);
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = decode(v[k]);
  return out;
}

/** A TimeHeap as plain data, in heap order. */
export interface HeapState<I> {
  times: SnapNum[];
  items: I[];
}

export function heapState<T, I>(h: TimeHeap<T>, item: (x: T) => I): HeapState<I> {
  const { times, items } = h.entries();
  return { times: times.map(snapNum), items: items.map(item) };
}

/** Fills a fresh heap with a heapState(), keeping its layout. */
export function loadHeap<T, I>(h: TimeHeap<T>, s: HeapState<I>, item: (x: I) => T): void {
  if (h.size !== 0) throw new Error('restoring into a heap that is not empty');
  if (s.times.length !== s.items.length) throw new Error('heap state: times and items differ in length');
  h.load(s.times.map(unsnapNum), s.items.map(item));
}
