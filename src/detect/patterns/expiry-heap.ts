/**
 * Min-heap of (expiry, item) in two parallel arrays, so scheduling a key for
 * release allocates nothing per entry. Each key is in the heap at most once
 * (`scheduled`); its entry may be stale (too early) because pushes only move
 * expiry later: the owner re-checks on pop and re-schedules (lazy update), so
 * a busy key costs one heap operation per expiry, not one per event.
 */
export interface Schedulable {
  scheduled: boolean;
}

export class ExpiryHeap<T extends Schedulable> {
  private keys: number[] = [];
  private items: T[] = [];

  get size(): number {
    return this.keys.length;
  }

  peekKey(): number {
    return this.keys.length === 0 ? Infinity : this.keys[0];
  }

  push(item: T, key: number): void {
    item.scheduled = true;
    const keys = this.keys;
    const items = this.items;
    let i = keys.length;
    keys.push(key);
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] <= key) break;
      keys[i] = keys[p];
      items[i] = items[p];
      i = p;
    }
    keys[i] = key;
    items[i] = item;
  }

  pop(): T {
    const keys = this.keys;
    const items = this.items;
    const top = items[0];
    const lastK = keys.pop()!;
    const lastI = items.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && keys[r] < keys[l] ? r : l;
        if (keys[c] >= lastK) break;
        keys[i] = keys[c];
        items[i] = items[c];
        i = c;
      }
      keys[i] = lastK;
      items[i] = lastI;
    }
    top.scheduled = false;
    return top;
  }

  clear(): void {
    for (const it of this.items) it.scheduled = false;
    this.keys = [];
    this.items = [];
  }
}
