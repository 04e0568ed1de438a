/** ExpiryHeap: `scheduled` says whether an item is in the heap (the owners rely on it to push an item at most once). */
import { describe, expect, it } from 'vitest';
import { ExpiryHeap } from '../../../src/detect/patterns/expiry-heap.js';

const item = (name: string) => ({ name, scheduled: false });

describe('ExpiryHeap', () => {
  it('push marks an item scheduled, pop returns the earliest key and unmarks it', () => {
    const h = new ExpiryHeap<ReturnType<typeof item>>();
    const a = item('a'), b = item('b');
    h.push(b, 20);
    h.push(a, 10);
    expect([a.scheduled, b.scheduled, h.size, h.peekKey()]).toEqual([true, true, 2, 10]);
    expect(h.pop()).toBe(a);
    expect(a.scheduled).toBe(false);
    expect(b.scheduled).toBe(true);
    expect(h.peekKey()).toBe(20);
  });

  it('clear empties the heap and unmarks every item it held', () => {
    const h = new ExpiryHeap<ReturnType<typeof item>>();
    const a = item('a'), b = item('b');
    h.push(a, 1);
    h.push(b, 2);
    h.clear();
    expect(h.size).toBe(0);
    expect([a.scheduled, b.scheduled]).toEqual([false, false]);
  });
});
