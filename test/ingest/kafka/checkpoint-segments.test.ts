/**
 * Segments of the checkpoint chain (ingest/kafka/checkpoint/segments.ts):
 * the cutter and the verifier alone, then against the real broker: a segment
 * streamed in pieces comes back byte for byte whatever the chunk size, many
 * are read in one scan in the order asked (beside records and other writers'
 * segments in the same state partition), a tombstoned, missing or flipped
 * chunk is reported, never passed as a segment. A restore's readLatest
 * keeps the chunks it passes over, so the readSegments after it scans no
 * more unless the partition grew since (counted: each scan is a consumer).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SegmentId, SegmentRead, SegmentRef } from '../../../src/ingest/checkpoint-store.js';
import { createKafka } from '../../../src/ingest/kafka/client.js';
import { statePartition } from '../../../src/ingest/kafka/checkpoint/format.js';
import { assembleSegment, chunkStream, parseSegmentKey, segmentChunkKey } from '../../../src/ingest/kafka/checkpoint/segments.js';
import { KeptSegments, keptChunksOf } from '../../../src/ingest/kafka/checkpoint/kept.js';
import { KafkaCheckpointStore } from '../../../src/ingest/kafka/checkpoint/store.js';
import { createStateTopic } from '../../../src/ingest/kafka/checkpoint/topic.js';
import { deleteTestTopics, describeKafka, uniqueGroup, uniqueTopics } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `bytes` as pieces of uneven sizes (1 byte up to 3 chunks' worth). */
function* piecesOf(bytes: Buffer, sizes = [1, 7, 2500, 13, 999, 1000, 1001, 3]): Generator<Buffer> {
  let i = 0;
  for (let at = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

describe('segment chunks (pure)', () => {
  it('cuts pieces of any size into chunks of exactly chunkBytes (the last shorter), hashing the whole', async () => {
    const bytes = randomBytes(10_007);
    const got: Buffer[] = [];
    const total = await chunkStream(piecesOf(bytes), 1000, async (c, i) => {
      expect(i).toBe(got.length);
      got.push(c);
    });
    expect(got.map((c) => c.length)).toEqual([...Array(10).fill(1000), 7]);
    expect(Buffer.concat(got).equals(bytes)).toBe(true);
    expect(total).toEqual({ bytes: 10_007, chunks: 11, sha256: sha(bytes) });
    const empty: Buffer[] = [];
    expect(await chunkStream([], 1000, async (c) => void empty.push(c))).toEqual({ bytes: 0, chunks: 1, sha256: sha(Buffer.alloc(0)) });
    expect(empty).toEqual([Buffer.alloc(0)]);
  });

  it('parses its keys (the group last, any character) and verifies chunks against the ref', () => {
    const id: SegmentId = { group: 'g/with/seg/0/1/2/c3/slashes', partition: 12, epoch: 3, barrier: 40 };
    expect(parseSegmentKey(Buffer.from(segmentChunkKey(id, 5)))).toEqual({ ...id, index: 5 });
    expect(parseSegmentKey(Buffer.from('ckpt/0/a/m/g'))).toBeNull();
    const bytes = Buffer.from('abcdefghij');
    const ref = { ...id, bytes: 10, chunks: 2, sha256: sha(bytes) };
    const chunks = new Map([[0, bytes.subarray(0, 5)], [1, bytes.subarray(5)]]);
    expect(assembleSegment(ref, chunks)).toMatchObject({ ok: true });
    expect(assembleSegment(ref, new Map([[0, bytes.subarray(0, 5)]]))).toMatchObject({ ok: false, detail: 'segment 40 (12/3/40): chunk 1 of 2 is missing' });
    expect(assembleSegment({ ...ref, bytes: 11 }, chunks)).toMatchObject({ ok: false, detail: 'segment 40 (12/3/40): 10 bytes, the manifest says 11' });
    expect(assembleSegment(ref, new Map([[0, Buffer.from('abcdX')], [1, bytes.subarray(5)]]))).toMatchObject({ ok: false, detail: 'segment 40 (12/3/40): the sha256 of its chunks does not match the manifest' });
  });
});

describe('segment chunks kept between a readLatest and readSegments (pure)', () => {
  const chunk = (id: SegmentId, i: number, value: string | null) => ({ key: Buffer.from(segmentChunkKey(id, i)), value: value === null ? null : Buffer.from(value) }) as KafkaMessage;
  const id: SegmentId = { group: 'g', partition: 0, epoch: 1, barrier: 2 };
  const ref = { ...id, bytes: 2, chunks: 2, sha256: sha(Buffer.from('ab')) };

  it('one scan keeps at a time (the others keep nothing), the latest record of each chunk; taken once', () => {
    const kept = new KeptSegments();
    const [first, second, elsewhere] = [kept.scan(0, 'g'), kept.scan(0, 'g'), kept.scan(1, 'g')];
    elsewhere.apply(chunk({ ...id, group: 'h' }, 0, 'other group: no claim'));
    first.apply(chunk(id, 0, 'a'));
    for (const s of [second, elsewhere]) s.apply(chunk(id, 1, 'refused'));
    first.apply(chunk(id, 1, 'stale'));
    first.apply(chunk(id, 1, 'b'));
    first.apply(chunk({ ...id, barrier: 3 }, 0, 'gone'));
    first.apply(chunk({ ...id, barrier: 3 }, 0, null));
    second.end(10);
    elsewhere.end(10);
    first.end(10);
    const got = kept.take()!;
    expect({ partition: got.partition, group: got.group, endOffset: got.endOffset }).toEqual({ partition: 0, group: 'g', endOffset: 10 });
    expect(keptChunksOf(got, [ref])?.map((c) => assembleSegment(ref, c))).toMatchObject([{ ok: true, bytes: Buffer.from('ab') }]);
    expect(keptChunksOf(got, [ref, { ...ref, barrier: 3 }])).toBeNull();
    expect(keptChunksOf(got, [{ ...ref, group: 'h' }])).toBeNull();
    expect(kept.take()).toBeNull();
  });

  it('a write to the partition, a failed scan or KEEP_MS passing leaves nothing kept', async () => {
    const kept = new KeptSegments(20);
    const written = kept.scan(0, 'g');
    written.apply(chunk(id, 0, 'a'));
    kept.dropPartition(1);
    kept.dropPartition(0);
    written.end(10);
    expect(kept.take()).toBeNull();
    const failed = kept.scan(0, 'g');
    failed.apply(chunk(id, 0, 'a'));
    failed.end(null);
    expect(kept.take()).toBeNull();
    const late = kept.scan(0, 'g');
    late.apply(chunk(id, 0, 'a'));
    late.end(10);
    await new Promise((r) => setTimeout(r, 60));
    expect(kept.take()).toBeNull();
  });
});

describeKafka('checkpoint segments on a compacted topic', (env) => {
  const topic = uniqueTopics('cseg').state;
  let kafka: Kafka;
  let raw: Producer;
  const stores: KafkaCheckpointStore[] = [];
  const newStore = async (chunkBytes?: number) => {
    const s = new KafkaCheckpointStore({ kafka, topic, chunkBytes });
    stores.push(s);
    await s.open();
    return s;
  };
  /** A store whose scans are counted: each creates a consumer (a partition with no records creates none). */
  const countingStore = async (chunkBytes?: number) => {
    let consumers = 0;
    const counting = new Proxy(kafka, {
      get(target, prop) {
        if (prop === 'consumer') return (...a: Parameters<Kafka['consumer']>) => (consumers++, target.consumer(...a));
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const s = new KafkaCheckpointStore({ kafka: counting, topic, chunkBytes });
    stores.push(s);
    await s.open();
    return { store: s, scans: () => consumers };
  };
  const meta = { formatVersion: 2, rulesVersion: 'r', offsets: { terminal: 1, gateway: 1, bank: 1 }, takenAtEventMs: 0, takenAtWallMs: 0 };
  const expectation = { formatVersion: 2, rulesVersion: 'r' };
  const texts = (rs: readonly SegmentRead[]) => rs.map((r) => (r.ok ? r.bytes.toString() : r.detail));
  /** A segment of writer partition 0 in three chunks ('01234567', '89abcdef', 'XYZ') and a record of p0, in a new group. */
  const oneSegment = async (tag: string, epoch: number, barrier: number) => {
    const group = uniqueGroup(tag);
    const writer = await newStore(8);
    const id = { group, partition: 0, epoch, barrier };
    const ref = await writer.writeSegment(id, [Buffer.from('0123456789abcdefXYZ')]);
    await writer.write({ group, partition: 0 }, Buffer.from('record'), meta);
    return { group, id, ref, sp: statePartition(id, 2) };
  };

  beforeAll(async () => {
    kafka = createKafka({ brokers: env.brokers.split(','), clientId: 'posguard-test', logLevel: 'error' });
    const admin = kafka.admin();
    await admin.connect();
    await createStateTopic(admin, topic, 2, null);
    await admin.disconnect();
    raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await raw.connect();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await raw?.disconnect();
    await deleteTestTopics(env.brokers, [topic]);
  });

  it('streams 3 MB in uneven pieces (async) into chunks; a new store reads it back byte for byte', async () => {
    const id = { group: uniqueGroup('seg'), partition: 1, epoch: 4, barrier: 9 };
    const bytes = randomBytes(3 * 1024 * 1024);
    const pieces = async function* () {
      yield* piecesOf(bytes, [65_536, 1, 300_000]);
    };
    const ref = await (await newStore(100_000)).writeSegment(id, pieces());
    expect(ref).toEqual({ ...id, bytes: bytes.length, chunks: Math.ceil(bytes.length / 100_000), sha256: sha(bytes), offset: expect.any(Number) });
    const [r] = await (await newStore()).readSegments([ref]);
    expect(r.ok && r.bytes.equals(bytes)).toBe(true);
  }, 60_000);

  it('reads a chain in one call in the order asked, beside records and another writer\'s segments; tombstones delete exactly the named', async () => {
    const group = uniqueGroup('chain');
    const store = await newStore(10);
    // Partitions 0 and 2 share state partition 0; another group writes the same segment ids.
    const ids = [{ group, partition: 0, epoch: 1, barrier: 1 }, { group, partition: 0, epoch: 1, barrier: 2 }, { group, partition: 2, epoch: 5, barrier: 1 }];
    const refs: SegmentRef[] = [];
    for (const [i, id] of ids.entries()) {
      refs.push(await store.writeSegment(id, [Buffer.from(`segment ${i} `.repeat(i + 2))]));
      await store.write({ group, partition: id.partition }, Buffer.from(`record ${i}`), meta);
      await store.writeSegment({ ...id, group: `${group}-other` }, [Buffer.from('not this one')]);
    }
    expect(new Set(ids.map((id) => statePartition(id, 2)))).toEqual(new Set([0]));
    const reader = await newStore();
    const got = await reader.readSegments([refs[2], refs[0], refs[1]]);
    expect(got.map((r) => (r.ok ? r.bytes.toString() : r.detail))).toEqual([2, 0, 1].map((i) => `segment ${i} `.repeat(i + 2)));
    await store.deleteSegments([refs[0]]);
    const after = await reader.readSegments(refs);
    expect(after.map((r) => (r.ok ? 'ok' : r.detail))).toEqual([`segment 1 (0/1/1): chunk 0 of ${refs[0].chunks} is missing`, 'ok', 'ok']);
    // What a sweep sees: this group's segments of writer partition 0 with chunks left (not the tombstoned one, not p2's, not the other group's).
    expect(await reader.listSegments(group, 0)).toEqual([{ ...ids[1], chunks: refs[1].chunks }]);
    expect(await reader.listSegments(group, 2)).toEqual([{ ...ids[2], chunks: refs[2].chunks }]);
    // The partition as it was at an offset (a sweep does not read the base it follows): what was written
    // below it, tombstones written later not seen (refs[0]'s came after refs[2]).
    expect(await reader.listSegments(group, 2, refs[2].offset)).toEqual([]);
    expect(await reader.listSegments(group, 0, refs[2].offset)).toEqual([0, 1].map((i) => ({ ...ids[i], chunks: refs[i].chunks })));
    expect(await reader.listSegments(group, 0, refs[1].offset)).toEqual([{ ...ids[0], chunks: refs[0].chunks }]);
    const rec = await reader.readLatest({ group, partition: 2 }, expectation);
    expect(rec.ok && rec.checkpoint.payload.toString()).toBe('record 2');
  }, 60_000);

  it('a flipped chunk fails the sha256; a chunk never written is missing', async () => {
    const store = await newStore(8);
    const id = { group: uniqueGroup('flip'), partition: 1, epoch: 1, barrier: 3 };
    const ref = await store.writeSegment(id, [Buffer.from('0123456789abcdefXYZ')]);
    expect(ref.chunks).toBe(3);
    await raw.send({ topic, acks: -1, messages: [{ key: segmentChunkKey(id, 1), value: Buffer.from('89abcdeF'), partition: statePartition(id, 2) }] });
    const [flipped, short] = await store.readSegments([ref, { ...ref, barrier: 4 }]);
    expect(flipped).toMatchObject({ ok: false, detail: 'segment 3 (1/1/3): the sha256 of its chunks does not match the manifest' });
    expect(short).toMatchObject({ ok: false, detail: 'segment 4 (1/1/4): chunk 0 of 3 is missing' });
  }, 60_000);

  it('readLatest of every partition at once, then readSegments of the chain: one scan per partition, the same verified bytes; kept chunks go once used', async () => {
    const group = uniqueGroup('keep');
    const writer = await newStore(10);
    // The chain of writer partition 0; p2's records and segment and another group's segments share its state partition (0).
    const chain = [];
    for (const barrier of [1, 2]) chain.push(await writer.writeSegment({ group, partition: 0, epoch: 3, barrier }, [Buffer.from(`chain ${barrier} `.repeat(barrier + 3))]));
    await writer.writeSegment({ group, partition: 2, epoch: 1, barrier: 1 }, [Buffer.from('p2 orphan')]);
    await writer.writeSegment({ group: `${group}-other`, partition: 0, epoch: 3, barrier: 1 }, [Buffer.from('not this one')]);
    for (const partition of [0, 1, 2]) await writer.write({ group, partition }, Buffer.from(`record ${partition}`), meta);
    const want = [1, 2].map((b) => `chain ${b} `.repeat(b + 3));

    const { store, scans } = await countingStore();
    const recs = await Promise.all([0, 1, 2].map((partition) => store.readLatest({ group, partition }, expectation)));
    expect(recs.map((r) => r.ok && r.checkpoint.payload.toString())).toEqual(['record 0', 'record 1', 'record 2']);
    expect(scans()).toBe(3);
    expect(texts(await store.readSegments(chain))).toEqual(want);
    expect(scans()).toBe(3);
    // Used: gone. The next read scans, and finds the same.
    expect(texts(await store.readSegments([chain[1], chain[0]]))).toEqual([want[1], want[0]]);
    expect(scans()).toBe(4);
  }, 60_000);

  it('a partition grown since the scan (another writer, or this store) is scanned again: a flipped or tombstoned chunk is seen, never the kept one', async () => {
    const { group, id, ref, sp } = await oneSegment('grown', 1, 7);
    const { store, scans } = await countingStore();

    await store.readLatest({ group, partition: 0 }, expectation);
    await raw.send({ topic, acks: -1, messages: [{ key: segmentChunkKey(id, 1), value: Buffer.from('89abcdeF'), partition: sp }] });
    expect(texts(await store.readSegments([ref]))).toEqual(['segment 7 (0/1/7): the sha256 of its chunks does not match the manifest']);
    expect(scans()).toBe(2);

    // Put right before the next scan: what it keeps is the latest record of each chunk.
    await raw.send({ topic, acks: -1, messages: [{ key: segmentChunkKey(id, 1), value: Buffer.from('89abcdef'), partition: sp }] });
    await store.readLatest({ group, partition: 0 }, expectation);
    expect(texts(await store.readSegments([ref]))).toEqual(['0123456789abcdefXYZ']);
    expect(scans()).toBe(3);

    await store.readLatest({ group, partition: 0 }, expectation);
    await store.deleteSegments([ref]);
    expect(texts(await store.readSegments([ref]))).toEqual(['segment 7 (0/1/7): chunk 0 of 3 is missing']);
    expect(scans()).toBe(5);
  }, 60_000);

  it('a kept segment missing a chunk is reported missing; a segment not kept, or a read that found no checkpoint, means a scan', async () => {
    const { group, id, ref, sp } = await oneSegment('kmiss', 2, 5);
    await raw.send({ topic, acks: -1, messages: [{ key: segmentChunkKey(id, 1), value: null, partition: sp }] });
    const { store, scans } = await countingStore();

    await store.readLatest({ group, partition: 0 }, expectation);
    expect(texts(await store.readSegments([ref]))).toEqual(['segment 5 (0/2/5): chunk 1 of 3 is missing']);
    expect(scans()).toBe(1);

    await store.readLatest({ group, partition: 0 }, expectation);
    expect(texts(await store.readSegments([ref, { ...ref, barrier: 6 }]))).toEqual(['segment 5 (0/2/5): chunk 1 of 3 is missing', 'segment 6 (0/2/6): chunk 0 of 3 is missing']);
    expect(scans()).toBe(3);

    // p2 (state partition 0 too) has no checkpoint: that restore falls back, what its scan kept is dropped.
    const none = await store.readLatest({ group, partition: 2 }, expectation);
    expect(none.ok).toBe(false);
    expect(texts(await store.readSegments([ref]))).toEqual(['segment 5 (0/2/5): chunk 1 of 3 is missing']);
    expect(scans()).toBe(5);
  }, 60_000);
});
