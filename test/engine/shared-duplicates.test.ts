/**
 * The duplicate index shared by engines (src/engine/shared-duplicates.ts): a
 * debit leaves its group only once every registered engine's watermark has
 * reached its release time; empty groups disappear.
 */
import { describe, expect, it } from 'vitest';
import { SharedDuplicates } from '../../src/engine/shared-duplicates.js';
import { H_DEBIT_AT, LiveAttempt } from '../../src/engine/live-attempt.js';

/** A debit as the index reads it: its group key, its debit time, not decided. */
const debit = (group: string | null, debitAt = 0): LiveAttempt => {
  const x = new LiveAttempt();
  x.n[H_DEBIT_AT] = debitAt;
  x.infoOrCreate().group = group;
  return x;
};
/** The debits filed under `key`, in join order; undefined when there is no such group. */
const members = (d: SharedDuplicates, key: string) => d.groups.get(key)?.members();

describe('SharedDuplicates', () => {
  it('minWatermark is the lowest registered watermark; +Infinity with none', () => {
    const d = new SharedDuplicates();
    expect(d.minWatermark()).toBe(Infinity);
    let a = 50;
    let b = 70;
    d.register({}, () => a);
    d.register({}, () => b);
    expect(d.minWatermark()).toBe(50);
    a = 90;
    expect(d.minWatermark()).toBe(70);
    b = -Infinity;
    expect(d.minWatermark()).toBe(-Infinity);
  });

  it('one engine registering twice counts once (the latest reader)', () => {
    const d = new SharedDuplicates();
    const e = {};
    d.register(e, () => 10);
    d.register(e, () => 20);
    expect(d.minWatermark()).toBe(20);
  });

  it('join groups debits by key; remove takes one out, drops an empty group and clears the key', () => {
    const d = new SharedDuplicates();
    const x = debit('k1');
    const y = debit('k1');
    const z = debit('k2');
    d.join(x, 'k1');
    d.join(y, 'k1');
    d.join(z, 'k2');
    expect(members(d, 'k1')).toEqual([x, y]);
    d.remove(x);
    expect(members(d, 'k1')).toEqual([y]);
    expect(x.info!.group).toBeNull();
    d.remove(y);
    expect(d.groups.has('k1')).toBe(false);
    expect(members(d, 'k2')).toEqual([z]);
    // Not in a group (key already cleared): nothing happens.
    d.remove(x);
    expect([...d.groups.keys()]).toEqual(['k2']);
  });

  it('a removal is deferred until every engine is at or past the release time', () => {
    const d = new SharedDuplicates();
    let slow = 99;
    d.register({}, () => 1_000);
    d.register({}, () => slow);
    const x = debit('k');
    const y = debit('k');
    d.join(x, 'k');
    d.join(y, 'k');
    d.deferRemoval(x, 100);
    d.deferRemoval(y, 101);
    d.prune();
    expect(members(d, 'k')).toEqual([x, y]);
    slow = 100; // exactly the release time: x may go
    d.prune();
    expect(members(d, 'k')).toEqual([y]);
    slow = 101;
    d.prune();
    expect(d.groups.has('k')).toBe(false);
    d.prune(); // nothing left to remove
    expect(d.groups.size).toBe(0);
  });

  it('removals come out in release-time order, whatever the order they were deferred in', () => {
    const d = new SharedDuplicates();
    let w = 0;
    d.register({}, () => w);
    const late = debit('k');
    const early = debit('k');
    d.join(late, 'k');
    d.join(early, 'k');
    d.deferRemoval(late, 200);
    d.deferRemoval(early, 100);
    w = 150;
    d.prune();
    expect(members(d, 'k')).toEqual([late]);
  });
});
