/**
 * The checkpoint barrier's order and its failure path (runtime/kafka/checkpoint/
 * checkpointer.ts), with an in-memory store and fake run parts: snapshot, then
 * flush, then the segment, then every record, then the commit; a failed write
 * commits nothing; a fallback at restore is one warning and one count.
 */
import { describe, expect, it } from 'vitest';
import type { RebuildPlan } from '../../src/ingest/kafka/rebuild.js';
import { decodeState } from '../../src/runtime/kafka/checkpoint/state.js';
import { FIRST_HOLD_US_PER_ITEM } from '../../src/runtime/kafka/checkpoint/checkpointer.js';
import { harness, record, restartPlans } from './checkpoint-harness.js';
import { itemValue } from '../../src/util/item-delta.js';

describe('checkpoint barrier', () => {
  it('holds the input, snapshots, flushes, writes the segment then every partition, then commits', async () => {
    const t = harness();
    expect(await t.ck.take('interval')).toBe(true);
    expect(t.steps).toEqual(['hold', 'snapshot 1', 'flush', 'segment 1', 'write p0', 'write p1', 'commit']);
    const p1 = decodeState(t.store.records.get(1)!.payload);
    expect(p1).toEqual({ record: record(1, 1), chain: null });
    const p0 = decodeState(t.store.records.get(0)!.payload);
    expect(p0.chain?.map((s) => [s.partition, s.epoch, s.barrier])).toEqual([[0, 1, 1]]);
    expect(await t.ck.take('shutdown', false)).toBe(true);
    expect(t.steps.slice(7)).toEqual(['snapshot 2', 'flush', 'segment 2', 'write p0', 'write p1', 'commit']);
    expect(t.got.filter((l) => /checkpoint 2 \(shutdown\): 2 partitions, \d+ bytes, segment delta of 0 items \d+ bytes, chain of 2/.test(l.msg))).toHaveLength(1);
  });

  it('its log line says where the hold went: each step, and the event loop handed back apart', async () => {
    const t = harness();
    expect(await t.ck.take('interval')).toBe(true);
    const line = t.got.map((l) => l.msg).find((m) => m.startsWith('checkpoint 1 (interval)'));
    expect(line).toMatch(/captured in \d+ ms at a batch boundary: skeletons \d+ ms, attempts \d+ ms, cards \d+ ms, records \d+ ms, event loop handed back \d+ ms; written in \d+ ms/);
  });

  it('hold budget: an interval barrier waits while the last one held the input for more than 5 % of the time since it started; others never wait', async () => {
    const clock = { ms: 1_000_000, holdMs: 10_000 };
    const t = harness({ clock });
    expect(await t.ck.take('interval', true, true)).toBe(true); // held 10 s
    clock.ms += 60_000 - 10_000; // 60 s after it started: 10 s > 5 % of 60 s
    expect(await t.ck.take('interval', true, true)).toBe(false);
    expect(t.steps.filter((s) => s.startsWith('snapshot'))).toEqual(['snapshot 1']);
    clock.ms += 140_000 - 1; // 1 ms short of 200 s
    expect(await t.ck.take('interval', true, true)).toBe(false);
    clock.ms += 1; // exactly 200 s: 10 s is 5 %
    clock.holdMs = 500;
    expect(await t.ck.take('interval', true, true)).toBe(true);
    clock.ms += 10_000; // held 0.5 s: ≤ 5 % of 10.5 s
    expect(await t.ck.take('interval', true, true)).toBe(true);
    clock.holdMs = 10_000;
    expect(await t.ck.take('shutdown', false)).toBe(true); // not an interval barrier: no budget
    expect(t.steps.filter((s) => s.startsWith('snapshot'))).toHaveLength(4);
  });

  it('an interval barrier arriving during a slow one starts as that one commits; one more meanwhile is skipped, and none runs when another barrier got in first', async () => {
    const t = harness();
    let open!: () => void;
    t.store.gate = new Promise((r) => {
      open = r;
    });
    const slow = t.ck.take('caught up');
    await new Promise((r) => setTimeout(r, 20));
    expect(t.steps.slice(-2)).toEqual(['write p0', 'write p1']);
    const waiting = t.ck.take('interval', true, true);
    expect(await t.ck.take('interval', true, true)).toBe(false);
    t.store.gate = null;
    open();
    expect(await slow).toBe(true);
    expect(await waiting).toBe(true);
    expect(t.steps.filter((s) => s.startsWith('snapshot') || s === 'commit')).toEqual(['snapshot 1', 'commit', 'snapshot 2', 'commit']);
    // A shutdown queued behind the slow one as well: it runs, and the waiting interval barrier gives way.
    t.store.gate = new Promise((r) => {
      open = r;
    });
    const slow2 = t.ck.take('interval');
    await new Promise((r) => setTimeout(r, 20));
    const shutdown = t.ck.take('shutdown');
    const interval = t.ck.take('interval', true, true);
    t.store.gate = null;
    open();
    expect([await slow2, await shutdown, await interval]).toEqual([true, true, false]);
    expect(t.steps.filter((s) => s.startsWith('snapshot'))).toEqual(['snapshot 1', 'snapshot 2', 'snapshot 3', 'snapshot 4']);
  });

  it('hold budget: the first interval barrier waits until the hold estimated from the size of the state is within 5 % of the time since the run started', async () => {
    const clock = { ms: 1_000_000, holdMs: 2_000 };
    let backlogged = true;
    const items = 100_000; // × FIRST_HOLD_US_PER_ITEM = 3 s estimated: 5 % of 60 s
    const t = harness({ clock, backlogged: () => backlogged, stateItems: () => items });
    expect(FIRST_HOLD_US_PER_ITEM).toBe(30);
    clock.ms += 60_000 - 1;
    expect(await t.ck.take('interval', true, true)).toBe(false);
    backlogged = false; // on the live feed it would be taken
    expect(await t.ck.take('interval', true, true)).toBe(true);
    const u = harness({ clock, backlogged: () => true, stateItems: () => items });
    clock.ms += 60_000;
    expect(await u.ck.take('interval', true, true)).toBe(true); // exactly 5 %
    clock.ms += 10_000; // then the last hold (2 s) counts: ≤ 5 % of 12 s? no
    expect(await u.ck.take('interval', true, true)).toBe(false);
    const v = harness({ clock, backlogged: () => true, stateItems: () => items });
    clock.ms += 1;
    expect(await v.ck.take('caught up')).toBe(true); // not an interval barrier: no budget
    expect([t, u, v].map((h) => h.steps.filter((s) => s.startsWith('snapshot')).length)).toEqual([1, 1, 1]);
  });

  it('hold budget: applies only while the input is a backlog', async () => {
    const clock = { ms: 1_000_000, holdMs: 10_000 };
    let backlogged = true;
    const t = harness({ clock, backlogged: () => backlogged });
    expect(await t.ck.take('interval', true, true)).toBe(true); // held 10 s
    clock.ms += 60_000 - 10_000; // over budget, as above
    expect(await t.ck.take('interval', true, true)).toBe(false);
    backlogged = false; // the live feed: the interval barrier is taken
    expect(await t.ck.take('interval', true, true)).toBe(true);
    expect(t.steps.filter((s) => s.startsWith('snapshot'))).toEqual(['snapshot 1', 'snapshot 2']);
  });

  it('encodes a large item table in slices that hand the event loop back, reporting `capturing` meanwhile', async () => {
    const t = harness();
    const spin = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    // 400 items of 0.25 ms each: 100 ms of encoding, five times the 20 ms slice.
    for (let i = 0; i < 400; i++) t.attempts.set(`a${i}`, { toJSON: () => (spin(0.25), { n: i }) });
    const seen: boolean[] = [];
    let polling = true;
    const poll = () => {
      seen.push(t.ck.capturing);
      if (polling) setImmediate(poll);
    };
    setImmediate(poll);
    expect(await t.ck.take('interval')).toBe(true);
    polling = false;
    expect(t.ck.capturing).toBe(false);
    // Turns ran while the table was being encoded (the event loop was not held for 100 ms at once).
    expect(seen.filter((c) => c).length).toBeGreaterThanOrEqual(3);
    expect(t.segments).toEqual([expect.objectContaining({ kind: 'base', upserts: 400 })]);
    const again = harness({ store: t.store });
    const back = await again.ck.restore(restartPlans(), (d) => d.items.attempts);
    expect([...back!.built].map(([k, v]) => [k, (itemValue(v) as { n: number }).n])).toEqual([...Array(400).keys()].map((i) => [`a${i}`, i]));
  });

  it('commits nothing when a write fails, and says so once', async () => {
    const t = harness();
    t.store.failWrite = 1;
    expect(await t.ck.take('interval')).toBe(false);
    expect(t.commits).toHaveLength(0);
    expect(t.steps).not.toContain('commit');
    const warns = t.got.filter((l) => l.level === 'warn');
    expect(warns.map((w) => w.msg)).toEqual(['checkpoint 1 (interval) not written, offsets not committed (the previous checkpoint stays the latest): broker said no']);
    expect(t.ck.failures).toBe(1);
  });

  it('commits nothing when the segment write fails, and writes no record', async () => {
    const t = harness();
    t.store.failSegment = true;
    expect(await t.ck.take('interval')).toBe(false);
    expect(t.steps.filter((s) => s.startsWith('write') || s === 'commit')).toEqual([]);
    expect(t.ck.failures).toBe(1);
  });

  it('falls back at restore with one warning and one count, and numbers its next barrier above the committed one', async () => {
    const t = harness();
    const plan: RebuildPlan = { p: 0, epoch: 2, floor: 0, starts: { terminal: 0, gateway: 0, bank: 0 }, checkpoint: { epoch: 1, barrier: 41 }, committed: { terminal: 5, gateway: 6, bank: 7 }, logStart: { terminal: 0, gateway: 0, bank: 0 } };
    const d = await t.ck.restore([plan], () => 1);
    expect(d).toBeNull();
    expect(t.restores).toEqual(['missing']);
    expect(t.got.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['no checkpoint restored (missing: p0: nothing written): rebuilding 1 partition from the committed offsets']);
    await t.ck.take('interval');
    expect(t.steps).toContain('snapshot 42');
  });
});
