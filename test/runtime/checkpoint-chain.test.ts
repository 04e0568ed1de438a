/**
 * The checkpoint chain (STATE_FORMAT 2): when a barrier writes a base
 * (chain.ts), segments as written and read (segment.ts), and the checkpointer
 * with an in-memory store: a restore merges base + deltas into exactly the
 * live tables; a missing or corrupt segment falls back (corrupt); a torn
 * barrier leaves the previous chain; a rollover tombstones the old chain only
 * once the new base is durable.
 */
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { SegmentRef } from '../../src/ingest/checkpoint-store.js';
import { ChainPolicy, orphans } from '../../src/runtime/kafka/checkpoint/chain.js';
import { SegmentEncoder } from '../../src/runtime/kafka/checkpoint/segment.js';
import { applySegment, applySegmentYielding, emptyItems, type MergedItems } from '../../src/runtime/kafka/checkpoint/segment-read.js';
import { harness, restartPlans, type Harness } from './checkpoint-harness.js';
import { itemValue, JsonText } from '../../src/util/item-delta.js';

const seg = (barrier: number, bytes = 100, partition = 0): SegmentRef => ({ group: 'g', partition, epoch: 1, barrier, bytes, chunks: 1, sha256: 'f'.repeat(64) });

describe('chain policy', () => {
  it('a base at the first barrier of a generation, then deltas up to the length bound', () => {
    const c = new ChainPolicy(3);
    expect(c.decide(1)).toBe('generation');
    expect(c.durable(seg(1), true, [0])).toEqual([]);
    expect(c.decide(1)).toBeNull();
    c.durable(seg(2, 10), false, [0]);
    expect(c.decide(1)).toBeNull();
    c.durable(seg(3, 10), false, [0]);
    expect(c.decide(1)).toBe('length');
    expect(c.decide(2)).toBe('generation');
  });

  it('a base when the deltas weigh more than the base', () => {
    const c = new ChainPolicy();
    c.decide(1);
    c.durable(seg(1, 100), true, [0]);
    c.durable(seg(2, 60), false, [0]);
    expect(c.decide(1)).toBeNull();
    c.durable(seg(3, 41), false, [0]);
    expect(c.decide(1)).toBe('bytes');
  });

  it('after a failure: a base; the failed segment and the old chain go only once the new base is durable', () => {
    const c = new ChainPolicy();
    c.decide(1);
    c.durable(seg(1), true, [0]);
    c.durable(seg(2, 1), false, [0]);
    c.failed(seg(3, 1));
    expect(c.decide(1)).toBe('failed');
    expect(c.manifest(seg(4), true)).toEqual([seg(4)]);
    c.failed(seg(4));
    expect(c.decide(1)).toBe('failed');
    expect(c.current.map((s) => s.barrier)).toEqual([1, 2]);
    expect(c.durable(seg(5), true, [0]).map((s) => s.barrier).sort()).toEqual([1, 2, 3, 4]);
    expect(c.decide(1)).toBeNull();
    expect(c.manifest(seg(6, 1), false).map((s) => s.barrier)).toEqual([5, 6]);
  });

  it('keeps a chain whose partition is held elsewhere now; retries tombstones that failed; drops a restored chain after the first base', () => {
    const c = new ChainPolicy();
    c.restored([seg(7, 100, 2), seg(8, 1, 2)]);
    expect(c.decide(1)).toBe('generation');
    expect(c.durable(seg(9, 100, 2), true, [2, 3]).map((s) => s.barrier)).toEqual([7, 8]);
    // A rebalance: the new generation's lowest partition is 3; the chain of 2 is the new holder's.
    expect(c.decide(2)).toBe('generation');
    expect(c.durable(seg(10, 100, 3), true, [3])).toEqual([]);
    c.undeleted([seg(1)]);
    expect(c.durable(seg(11, 1, 3), false, [3])).toEqual([seg(1)]);
    expect(c.pending).toBe(0);
  });
});

describe('orphan sweep (pure)', () => {
  it('takes older epochs, and older barriers of this epoch, not named by the chain, of the writer partition only; never a newer epoch', () => {
    const l = (partition: number, epoch: number, barrier: number) => ({ group: 'g', partition, epoch, barrier, chunks: 2 });
    const listed = [l(0, 1, 50), l(0, 2, 3), l(0, 2, 4), l(0, 2, 5), l(0, 2, 6), l(0, 3, 1), l(1, 1, 1)];
    const chain = [{ ...seg(4), epoch: 2 }, { ...seg(5), epoch: 2 }];
    expect(orphans(listed, { partition: 0, epoch: 2 }, 4, chain).map((s) => `${s.epoch}/${s.barrier}`)).toEqual(['1/50', '2/3']);
  });
});

async function encodeAsync(barrier: number, full: boolean, attempts: Iterable<readonly [string, unknown]>, removes: string[] = [], cards: [string, unknown][] = []): Promise<Buffer> {
  const e = new SegmentEncoder(barrier);
  e.table('attempts', { full, upserts: attempts, removes });
  e.table('cards', { full, upserts: cards, removes: [] });
  const parts: Buffer[] = [];
  for await (const b of e.finish().frames()) parts.push(b);
  return Buffer.concat(parts);
}

/** Where each frame of a segment begins, and its deflated length. */
function framesOf(bytes: Buffer): { at: number; len: number }[] {
  const out: { at: number; len: number }[] = [];
  for (let at = 0; at < bytes.length; at += 4 + bytes.readUInt32BE(at)) out.push({ at, len: bytes.readUInt32BE(at) });
  return out;
}

/** A frame of these JSON lines, as the encoder frames them. */
function frame(json: string): Buffer {
  const body = deflateRawSync(Buffer.from(json));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

describe('segments', () => {
  it('round-trip many frames of items; a delta overwrites and removes; NaN-free JSON data as given', async () => {
    const big = 'x'.repeat(10_000);
    const items = Array.from({ length: 300 }, (_, i) => [`${i}`, { i, big, nested: [i, null, 'é'] }] as const);
    const base = await encodeAsync(1, true, items, [], [['tok1', { n: 1 }]]);
    const into = emptyItems();
    const f = applySegment(into, base, 1, true);
    expect(f).toMatchObject({ upserts: 301, removes: 0 });
    expect(f.jsonBytes).toBeGreaterThan(3_000_000);
    expect(into.attempts.size).toBe(300);
    expect(itemValue(into.attempts.get('299'))).toEqual({ i: 299, big, nested: [299, null, 'é'] });
    applySegment(into, await encodeAsync(2, false, [['5', 'five'], ['new', 1]], ['7', 'absent']), 2, false);
    expect([itemValue(into.attempts.get('5')), itemValue(into.attempts.get('new')), into.attempts.has('7'), into.attempts.size]).toEqual(['five', 1, false, 300]);
    expect(parsed(into).cards).toEqual(new Map([['tok1', { n: 1 }]]));
  });

  it('keeps each item as its own JSON text, keys with quotes, backslashes and non-ASCII included; removes by such keys', async () => {
    const keys = ['plain', 'q"uote', 'back\\slash', 'é-ü', '[]",'];
    const into = emptyItems();
    applySegment(into, await encodeAsync(1, true, keys.map((k, i) => [k, { i, k }] as const), [], keys.map((k): [string, unknown] => [k, [k]])), 1, true);
    expect([...into.attempts.keys()]).toEqual(keys);
    expect([...into.attempts.values()].map((v) => (v as JsonText).json)).toEqual(keys.map((k, i) => JSON.stringify({ i, k })));
    expect([...into.cards.values()].map((v) => (v as JsonText).json)).toEqual(keys.map((k) => JSON.stringify([k])));
    expect(parsed(into)).toEqual({ attempts: new Map(keys.map((k, i) => [k, { i, k }])), cards: new Map(keys.map((k) => [k, [k]])) });
    applySegment(into, await encodeAsync(2, false, [], keys.slice(1)), 2, false);
    expect([...into.attempts.keys()]).toEqual(['plain']);
  });

  it('a table captured full inside a delta segment replaces that table alone', async () => {
    const into = emptyItems();
    const base = new SegmentEncoder(1);
    base.table('attempts', { full: true, upserts: [['a', 1], ['b', 2]], removes: [] });
    base.table('cards', { full: true, upserts: [['x', 1], ['y', 2]], removes: [] });
    const frames = async (e: SegmentEncoder) => {
      const out: Buffer[] = [];
      for await (const b of e.finish().frames()) out.push(b);
      return Buffer.concat(out);
    };
    expect(applySegment(into, await frames(base), 1, true).base).toBe(true);
    const mixed = new SegmentEncoder(2);
    mixed.table('attempts', { full: false, upserts: [['c', 3]], removes: [] });
    mixed.table('cards', { full: true, upserts: [['z', 26]], removes: [] });
    const bytes = await frames(mixed);
    expect(applySegment(into, bytes, 2, false).base).toBe(false);
    expect(parsed(into)).toEqual({ attempts: new Map([['a', 1], ['b', 2], ['c', 3]]), cards: new Map([['z', 26]]) });
    expect(() => applySegment(emptyItems(), bytes, 2, true)).toThrow(/base holds a delta of attempts/);
  });

  it('frames deflated after the hold (within the budget) or inside it (past it) make the same segment, in order; taken once', async () => {
    const items = Array.from({ length: 2_500 }, (_, i) => [`${i}`, { i, pad: `${i}`.repeat(400 + (i % 7)) }] as const);
    const encode = async (deferredBudgetBytes: number) => {
      const e = new SegmentEncoder(5, deferredBudgetBytes);
      e.table('attempts', { full: true, upserts: items, removes: [] });
      e.table('cards', { full: true, upserts: [], removes: [] });
      const { figures, frames } = e.finish();
      const parts: Buffer[] = [];
      for await (const b of frames()) parts.push(b);
      expect(() => frames()).toThrow(/taken twice/);
      return { figures, bytes: Buffer.concat(parts), frames: parts.length / 2 };
    };
    const inline = await encode(0);
    const mixed = await encode(1.5 * (1 << 20));
    const deferred = await encode(64 << 20);
    expect(inline.figures.jsonBytes).toBeGreaterThan(3 << 20);
    expect(inline.frames).toBeGreaterThanOrEqual(4);
    expect(mixed.bytes.equals(inline.bytes)).toBe(true);
    expect(deferred.bytes.equals(inline.bytes)).toBe(true);
    const into = emptyItems();
    applySegment(into, deferred.bytes, 5, true);
    expect(parsed(into).attempts).toEqual(new Map(items));
  });

  it('a restore (frames inflated on the pool, ahead) reads the same tables, text for text, as applySegment, handing the loop back after every frame', async () => {
    const odd = ['é', 'ü\u00a0', '№ 🍕', 'q"uote', 'back\\slash', 'line\nbreak', '\u2028', '"]', '\\"', '日本語'];
    const items = Array.from({ length: 2_400 }, (_, i) => [`${odd[i % odd.length]}-${i}`, { i, text: odd[(i * 3) % odd.length].repeat(300 + (i % 13)) }] as const);
    const cards: [string, unknown][] = [['tok"é', new JsonText('{"n":"ü\\"\\\\ 🍕"}')], ['plain', [1, 'x']]];
    const base = await encodeAsync(1, true, items, [], cards);
    const delta = await encodeAsync(2, false, [[items[3][0], '🍕 again'], ['new "one"', { é: 1 }]], [items[5][0], 'absent']);
    expect(framesOf(base).length).toBeGreaterThanOrEqual(4);
    const sync = emptyItems();
    const figures = [applySegment(sync, base, 1, true), applySegment(sync, delta, 2, false)];
    const yielding = emptyItems();
    let pauses = 0;
    const pause = async () => {
      pauses++;
      await new Promise<void>((r) => setImmediate(r));
    };
    expect([await applySegmentYielding(yielding, base, 1, true, pause), await applySegmentYielding(yielding, delta, 2, false, pause)]).toEqual(figures);
    expect(pauses).toBe(framesOf(base).length + framesOf(delta).length);
    const texts = (m: MergedItems) => ({ attempts: [...m.attempts].map(([k, v]) => [k, (v as JsonText).json]), cards: [...m.cards].map(([k, v]) => [k, (v as JsonText).json]) });
    expect(texts(yielding)).toEqual(texts(sync));
    // The text is the JSON as written, not a re-encoding.
    const want = new Map<string, string>(items.map(([k, v]) => [k, JSON.stringify(v)]));
    want.delete(items[5][0]);
    want.set(items[3][0], JSON.stringify('🍕 again'));
    want.set('new "one"', JSON.stringify({ é: 1 }));
    expect(new Map(texts(yielding).attempts as [string, string][])).toEqual(want);
    expect(texts(yielding).cards).toEqual([['tok"é', '{"n":"ü\\"\\\\ 🍕"}'], ['plain', '[1,"x"]']]);
  });

  it('a broken frame in the middle fails a restore with the error applySegment gives, before anything after it', async () => {
    const items = Array.from({ length: 2_000 }, (_, i) => [`${i}`, { i, pad: `é${i}`.repeat(300) }] as const);
    const bytes = await encodeAsync(1, true, items);
    const at = framesOf(bytes);
    expect(at.length).toBeGreaterThanOrEqual(4);
    const midAt = Math.floor(at.length / 2);
    const mid = at[midAt];
    // Block type 3 (reserved): the body does not inflate.
    const noInflate = Buffer.from(bytes);
    noInflate[mid.at + 4] = 0x07;
    const tooLong = Buffer.from(bytes);
    tooLong.writeUInt32BE(bytes.length, mid.at);
    const badLine = Buffer.concat([bytes.subarray(0, mid.at), frame('["a","x",1]\nnot json\n'), bytes.subarray(mid.at)]);
    // The next frame broken too (read ahead while the first is reached): the first broken frame's error still comes first.
    const twice = Buffer.from(noInflate);
    twice.writeUInt32BE(bytes.length, at[midAt + 1].at);
    for (const broken of [noInflate, tooLong, badLine, twice]) {
      let syncError: Error | undefined;
      expect(() => {
        try {
          applySegment(emptyItems(), broken, 1, true);
        } catch (e) {
          syncError = e as Error;
          throw e;
        }
      }).toThrow();
      await expect(applySegmentYielding(emptyItems(), broken, 1, true, () => new Promise<void>((r) => setImmediate(r)))).rejects.toThrow(syncError!.message);
    }
  });

  it('refuses a cut segment, another barrier, a delta where a base is due, and a count that does not match', async () => {
    const bytes = await encodeAsync(3, false, [['a', 1], ['b', 2]], ['c']);
    expect(() => applySegment(emptyItems(), bytes.subarray(0, bytes.length - 3), 3, false)).toThrow(/runs past the end/);
    expect(() => applySegment(emptyItems(), bytes, 4, false)).toThrow(/header/);
    expect(() => applySegment(emptyItems(), bytes, 3, true)).toThrow(/a base/);
    expect(() => applySegment(emptyItems(), Buffer.concat([bytes, bytes]), 3, false)).toThrow(/after its end/);
    const twice = new SegmentEncoder(1);
    twice.table('cards', { full: false, upserts: [], removes: [] });
    expect(() => twice.table('cards', { full: false, upserts: [], removes: [] })).toThrow(/twice/);
  });
});

const snapshotOf = (h: Harness): MergedItems => ({ attempts: new Map(h.attempts.items), cards: new Map(h.cards.items) });

/** The merged tables with their items parsed (a restore keeps them as JSON bytes until the state is built). */
const parsed = (m: MergedItems): MergedItems => ({
  attempts: new Map([...m.attempts].map(([k, v]) => [k, itemValue(v)])),
  cards: new Map([...m.cards].map(([k, v]) => [k, itemValue(v)])),
});

async function restoreItems(h: Harness): Promise<MergedItems | null> {
  const r = await h.ck.restore(restartPlans(), (d) => d.items);
  return r === null ? null : parsed(r.built);
}

describe('checkpointer with a chain', () => {
  it('a restore merges the base and every delta into exactly the live tables (items over many chunks)', async () => {
    const h = harness({ chunkBytes: 50 });
    for (let i = 0; i < 40; i++) h.attempts.set(`${i}`, { i });
    h.cards.set('tokA', { seen: 1 });
    expect(await h.ck.take('interval')).toBe(true);
    h.attempts.set('3', { i: 3, changed: true });
    h.attempts.delete('4');
    h.cards.set('tokB', { seen: 2 });
    expect(await h.ck.take('interval')).toBe(true);
    h.attempts.delete('5');
    h.attempts.set('40', { i: 40 });
    h.cards.delete('tokA');
    expect(await h.ck.take('interval')).toBe(true);
    expect(h.segments.map((s) => [s.kind, s.upserts, s.removes])).toEqual([['base', 41, 0], ['delta', 2, 1], ['delta', 1, 2]]);
    const restarted = harness({ store: h.store });
    expect(await restoreItems(restarted)).toEqual(snapshotOf(h));
    expect(restarted.restores).toEqual(['restored']);
  });

  it('a missing segment, or a corrupt one, falls back to the rebuild (corrupt): one warning, one count', async () => {
    for (const damage of ['missing', 'flipped'] as const) {
      const h = harness();
      h.attempts.set('a', 1);
      await h.ck.take('interval');
      h.attempts.set('b', 2);
      await h.ck.take('interval');
      const chunks = h.store.segments.get('0/1/1')!;
      if (damage === 'missing') chunks.delete(1);
      else chunks.set(0, Buffer.from(chunks.get(0)!.map((b, i) => (i === 9 ? b ^ 1 : b))));
      const restarted = harness({ store: h.store });
      expect(await restoreItems(restarted)).toBeNull();
      expect(restarted.restores).toEqual(['corrupt']);
      const warns = restarted.got.filter((l) => l.level === 'warn').map((l) => l.msg);
      expect(warns).toHaveLength(1);
      expect(warns[0]).toMatch(damage === 'missing' ? /no checkpoint restored \(corrupt: p0: segment 1 \(0\/1\/1\): chunk 1 of \d+ is missing\)/ : /corrupt: p0: segment 1 \(0\/1\/1\): the sha256 of its chunks does not match/);
    }
  });

  it('a torn barrier (segment written, records not) leaves the previous chain; the next barrier is a base and drops all three', async () => {
    const h = harness();
    h.attempts.set('a', 1);
    await h.ck.take('interval');
    h.attempts.set('b', 2);
    await h.ck.take('interval');
    const atTwo = snapshotOf(h);
    h.attempts.set('c', 3);
    h.store.failWrite = 'all';
    expect(await h.ck.take('interval')).toBe(false);
    expect(h.store.segmentBarriers()).toEqual([1, 2, 3]);
    expect(await restoreItems(harness({ store: h.store }))).toEqual(atTwo);
    h.store.failWrite = null;
    expect(await h.ck.take('interval')).toBe(true);
    expect(h.segments.at(-1)).toMatchObject({ kind: 'base', upserts: 3 });
    expect(h.store.segmentBarriers()).toEqual([4]);
    expect(await restoreItems(harness({ store: h.store }))).toEqual(snapshotOf(h));
  });

  it('rolls the chain over at its length bound: the old segments are tombstoned after the new base is durable, not before', async () => {
    const h = harness({ maxSegments: 3 });
    // A base that outweighs two small deltas: the length bound, not the bytes rule, ends this chain.
    for (let i = 0; i < 50; i++) h.attempts.set(`base${i}`, { i });
    for (let b = 1; b <= 3; b++) {
      h.attempts.set(`k${b}`, b);
      await h.ck.take('interval');
    }
    expect(h.store.segmentBarriers()).toEqual([1, 2, 3]);
    h.attempts.set('k4', 4);
    await h.ck.take('interval');
    expect(h.steps.slice(-3)).toEqual(['write p1', 'commit', 'delete 1,2,3']);
    expect(h.store.segmentBarriers()).toEqual([4]);
    expect(h.segments.map((s) => s.kind)).toEqual(['base', 'delta', 'delta', 'base']);
    expect(await restoreItems(harness({ store: h.store }))).toEqual(snapshotOf(h));
    // A tombstone that fails is tried again after the next barrier.
    h.store.failDelete = true;
    for (let b = 5; b <= 7; b++) await h.ck.take('interval');
    expect(h.store.segmentBarriers()).toEqual([4, 5, 6, 7]);
    h.store.failDelete = false;
    await h.ck.take('interval');
    expect(h.store.segmentBarriers()).toEqual([7, 8]);
  });

  it('a new generation starts a base; a restored process writes a base first and drops the chain it restored', async () => {
    const h = harness();
    h.attempts.set('a', 1);
    await h.ck.take('interval');
    await h.ck.take('interval');
    h.newGeneration();
    h.attempts.set('z', 26);
    await h.ck.take('interval');
    expect(h.segments.map((s) => s.kind)).toEqual(['base', 'delta', 'base']);
    expect(h.store.segmentBarriers()).toEqual([3]);
    const restarted = harness({ store: h.store });
    restarted.attempts.set('z', 26);
    expect(await restoreItems(restarted)).toEqual(snapshotOf(h));
    await restarted.ck.take('interval');
    expect(restarted.segments.map((s) => s.kind)).toEqual(['base']);
    expect(h.store.segmentBarriers()).toEqual([4]);
    // The restored chain, tombstoned after the base, is not swept again as an orphan.
    expect(restarted.got.filter((l) => /orphan segment/.test(l.msg))).toEqual([]);
  });

  it('sweeps the orphans a crashed writer left (a torn barrier, a chain no restore took) after the next writer\'s first base; a zombie never sweeps a newer epoch', async () => {
    const a = harness({ epoch: 1 });
    a.attempts.set('a', 1);
    await a.ck.take('interval');
    await a.ck.take('interval');
    a.store.failWrite = 'all';
    await a.ck.take('interval');
    a.store.failWrite = null;
    expect(a.store.segmentNames()).toEqual(['1/1', '1/2', '1/3']);
    // The successor rebuilt (no restore): its own barriers from 1, under epoch 2.
    const b = harness({ store: a.store, epoch: 2 });
    b.attempts.set('b', 2);
    await b.ck.take('interval');
    expect(a.store.segmentNames()).toEqual(['2/1']);
    expect(b.got.filter((l) => /3 orphan segments of p0 deleted/.test(l.msg))).toHaveLength(1);
    // The sweep read only what lies below b's base (the orphans), not the base itself.
    expect(a.store.listedBefore.at(-1)).toBe(a.store.segmentOffsets.get('0/2/1'));
    expect(a.store.segmentOffsets.get('0/2/1')).toBeGreaterThan(0);
    // A zombie of epoch 1 writes on: its sweep leaves the newer owner's segments alone.
    const zombie = harness({ store: a.store, epoch: 1 });
    await zombie.ck.take('interval');
    expect(a.store.segmentNames()).toEqual(['1/1', '2/1']);
  });

  it('parts answering full where a delta was asked make a base (the old chain goes); a part answering a delta to a full capture fails the barrier', async () => {
    const h = harness();
    for (let i = 0; i < 20; i++) h.attempts.set(`k${i}`, i);
    await h.ck.take('interval');
    h.attempts.set('k1', 'one');
    await h.ck.take('interval');
    h.attempts.answer = 'full';
    h.cards.answer = 'full';
    expect(await h.ck.take('interval')).toBe(true);
    expect(h.segments.map((s) => s.kind)).toEqual(['base', 'delta', 'base']);
    expect(h.store.segmentBarriers()).toEqual([3]);
    expect(h.got.filter((l) => /segment base \(parts\) of 20 items/.test(l.msg))).toHaveLength(1);
    // Only cards answered full: a delta segment that resets the card table.
    h.cards.set('tok', 1);
    await h.ck.take('interval');
    h.cards.answer = 'full';
    h.cards.delete('tok');
    h.cards.set('tok2', 2);
    await h.ck.take('interval');
    expect(h.segments.map((s) => s.kind).slice(3)).toEqual(['delta', 'delta']);
    expect(await restoreItems(harness({ store: h.store }))).toEqual(snapshotOf(h));
    h.newGeneration();
    h.cards.answer = 'delta';
    // As any snapshot that throws: the barrier rejects (the run logs it and retries at the next interval), nothing written.
    await expect(h.ck.take('interval')).rejects.toThrow(/a full capture was asked for \(generation\) and a part answered a delta/);
    expect(h.steps.filter((s) => s === 'segment 6')).toEqual([]);
    expect(await h.ck.take('interval')).toBe(true);
    expect(h.got.filter((l) => /checkpoint 7 \(interval\).*segment base \(failed\)/.test(l.msg))).toHaveLength(1);
  });
});
