/**
 * The small bounded structures of issue 11 (docs/semantics.md, "Memory
 * bounds"): the LRU map behind the registry caches, and the state census
 * behind posguard_state_entries / posguard_state_cap_hits_total.
 */
import { describe, expect, it } from 'vitest';
import { LruMap } from '../../src/util/lru.js';
import { STATE_STRUCTURES, StateCensus } from '../../src/util/state-census.js';

describe('LruMap', () => {
  it('evicts the least recently used past its capacity, a read counting as a use, and reports each eviction', () => {
    const evicted: string[] = [];
    const m = new LruMap<string, number>(2, (k) => evicted.push(k));
    m.set('a', 1);
    m.set('b', 2);
    expect(m.get('a')).toBe(1); // a is now the most recent
    m.set('c', 3);
    expect(evicted).toEqual(['b']);
    expect([m.get('a'), m.get('b'), m.get('c'), m.size]).toEqual([1, undefined, 3, 2]);
    m.set('a', 10); // overwriting is not growing
    expect([m.size, evicted.length, m.get('a')]).toEqual([2, 1, 10]);
    expect(m.delete('a')).toBe(true);
    expect(m.size).toBe(1);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new LruMap(0)).toThrow(/positive integer, got 0/);
    expect(() => new LruMap(1.5)).toThrow(RangeError);
  });
});

describe('StateCensus', () => {
  it('sums the live owners per structure, lists every structure, forgets an untracked owner', () => {
    const c = new StateCensus();
    const a = { n: 3 };
    const b = { n: 4 };
    c.track('attempts', a, (o) => o.n);
    c.track('attempts', b, (o) => o.n);
    c.track('cards', a, () => 7);
    const entries = new Map(c.entries());
    expect([...entries.keys()]).toEqual([...STATE_STRUCTURES]);
    expect([entries.get('attempts'), entries.get('cards'), entries.get('dead_letter_queue')]).toEqual([7, 7, 0]);
    a.n = 10;
    c.untrack(b);
    expect(new Map(c.entries()).get('attempts')).toBe(10);
  });

  it('counts cap hits per structure', () => {
    const c = new StateCensus();
    c.capHit('replay_line');
    c.capHit('replay_line', 2);
    const hits = new Map(c.capHits());
    expect([hits.get('replay_line'), hits.get('dead_letter_queue')]).toEqual([3, 0]);
  });
});
