/**
 * Min-heap of (expiry, item) where each item is in the heap at most once
 * (`scheduled`); its entry may be stale (too early) because pushes only move
 * expiry later: the owner re-checks on pop and re-schedules (lazy update), so
 * a busy key costs one heap operation per expiry, not one per event.
 */
import { TimeHeap } from '../../util/heap.js';

export interface Schedulable {
  scheduled: boolean;
}

export class ExpiryHeap<T extends Schedulable> {
  private readonly heap = new TimeHeap<T>();

  get size(): number {
    return this.heap.size;
  }

  peekKey(): number {
    return this.heap.peekTime();
  }

  push(item: T, key: number): void {
    item.scheduled = true;
    this.heap.push(key, item);
  }

  pop(): T {
    const top = this.heap.pop();
    top.scheduled = false;
    return top;
  }

  clear(): void {
    for (const it of this.heap.values()) it.scheduled = false;
    this.heap.clear();
  }

  /** (key, item) in heap order, for a checkpoint (state/): pushing them in this order into an empty heap rebuilds it exactly. */
  entries(): [number, T][] {
    const keys = this.heap.keys();
    return this.heap.values().map((item, i) => [keys[i], item]);
  }
}
