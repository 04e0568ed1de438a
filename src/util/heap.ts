/**
 * The project's two binary min-heaps. TimeHeap: (time, item) in two parallel arrays: no per-entry
 * object, so a million pending timers cost ~16 bytes each. Stale entries are
 * skipped by the owner (lazy deletion) instead of being removed in place.
 */
export class TimeHeap<T> {
  private times: number[] = [];
  private items: T[] = [];

  get size(): number {
    return this.times.length;
  }

  push(time: number, item: T): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (times[p] <= time) break;
      times[i] = times[p];
      items[i] = items[p];
      i = p;
    }
    times[i] = time;
    items[i] = item;
  }

  clear(): void {
    this.times = [];
    this.items = [];
  }

  /** The items, in no particular order. */
  values(): readonly T[] {
    return this.items;
  }

  peekTime(): number {
    return this.times.length === 0 ? Infinity : this.times[0];
  }

  /** Removes and returns the earliest item (caller checks peekTime first). */
  pop(): T {
    const times = this.times;
    const items = this.items;
    const top = items[0];
    const lastT = times.pop()!;
    const lastI = items.pop()!;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r] < times[l] ? r : l;
        if (times[c] >= lastT) break;
        times[i] = times[c];
        items[i] = items[c];
        i = c;
      }
      times[i] = lastT;
      items[i] = lastI;
    }
    return top;
  }

  /** @internal state: the heap's arrays in heap order (a snapshot keeps the pop order of equal times). */
  entries(): { readonly times: readonly number[]; readonly items: readonly T[] } {
    return { times: this.times, items: this.items };
  }

  /** @internal state: replaces the contents with arrays taken by entries() (already in heap order). */
  load(times: number[], items: T[]): void {
    this.times = times;
    this.items = items;
  }

  /** The times, parallel to values() (checkpoints: pushing the pairs in this order into an empty heap rebuilds it exactly). */
  keys(): readonly number[] {
    return this.times;
  }
}

/** A binary min-heap by comparator; `less` must be a strict total order for deterministic output. */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const a = this.items;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(x, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = x;
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop() as T;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.less(a[r], a[l]) ? r : l;
        if (!this.less(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }

  /** The items in heap order (checkpoints: pushing them in this order into an empty heap rebuilds it exactly). */
  values(): readonly T[] {
    return this.items;
  }
}
