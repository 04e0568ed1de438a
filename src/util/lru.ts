/**
 * A Map with a capacity: reading an entry makes it the most recent, setting
 * one past the capacity evicts the least recently used (Map keeps insertion
 * order, so the oldest is the first key). Small enough not to need a library;
 * `onEvict` lets the owner count evictions (posguard_state_cap_hits_total).
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number, private readonly onEvict: (key: K) => void = () => {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LruMap capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
      this.onEvict(oldest);
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }
}
