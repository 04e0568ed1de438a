/**
 * Choosing the usable checkpoint from the records of a key (no broker): the
 * rules of format/slots.ts and the record layout of format.ts, on records
 * built here the way a scan would collect them.
 */
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { CheckpointKey, CheckpointMeta } from '../../../src/ingest/checkpoint-store.js';
import { chunkKey, chunksOf, decodeManifest, encodeManifest, manifestKey, parseRecordKey, SEQ_HEADER, sha256, statePartition, STORE_FORMAT, type Slot } from '../../../src/ingest/kafka/checkpoint/format.js';
import { applyRecord } from '../../../src/ingest/kafka/checkpoint/scan.js';
import { chooseLatest, emptyKeyRecords, type KeyRecords } from '../../../src/ingest/kafka/checkpoint/slots.js';

const KEY: CheckpointKey = { group: 'posguard/prod:eu', partition: 7 };
const EXPECT = { formatVersion: 3, rulesVersion: 'abc' };
const META: CheckpointMeta = { formatVersion: 3, rulesVersion: 'abc', offsets: { terminal: 1, gateway: 2, bank: 3 }, takenAtEventMs: 5, takenAtWallMs: 6 };

const msg = (key: string, value: Buffer | null, seq?: number): KafkaMessage =>
  ({ key: Buffer.from(key), value, headers: seq === undefined ? {} : { [SEQ_HEADER]: Buffer.from(String(seq)) }, offset: '0', timestamp: '0', attributes: 0 }) as KafkaMessage;

/** The records a complete write of `payload` as checkpoint `seq` into `slot` leaves. */
function write(r: KeyRecords, slot: Slot, seq: number, payload: string, chunkBytes = 3, meta = META): void {
  const chunks = chunksOf(Buffer.from(payload), chunkBytes);
  chunks.forEach((c, i) => applyRecord(r, KEY, msg(chunkKey(KEY, slot, i), c, seq)));
  const m = { store: STORE_FORMAT, group: KEY.group, partition: KEY.partition, slot, seq, chunks: chunks.length, bytes: Buffer.byteLength(payload), sha256: sha256(Buffer.from(payload)), meta };
  applyRecord(r, KEY, msg(manifestKey(KEY, slot), encodeManifest(m)));
}

const pick = (r: KeyRecords) => {
  const { result } = chooseLatest(KEY, r, EXPECT);
  return result.ok ? { seq: result.checkpoint.seq, payload: result.checkpoint.payload.toString(), skipped: result.skipped.map((s) => s.reason) } : { reason: result.reason, detail: result.detail };
};

describe('checkpoint record keys', () => {
  it('round-trips a key whose group holds slashes and colons; ignores foreign keys', () => {
    expect(parseRecordKey(Buffer.from(chunkKey(KEY, 'b', 12)))).toEqual({ kind: 'chunk', partition: 7, slot: 'b', index: 12, group: KEY.group });
    expect(parseRecordKey(Buffer.from(manifestKey(KEY, 'a')))).toEqual({ kind: 'manifest', partition: 7, slot: 'a', group: KEY.group });
    expect(parseRecordKey(Buffer.from('something/else'))).toBeNull();
    expect(parseRecordKey(null)).toBeNull();
  });

  it('places a key by its input partition modulo the state partitions', () => {
    expect([statePartition(KEY, 4), statePartition(KEY, 7), statePartition(KEY, 12)]).toEqual([3, 0, 7]);
  });

  it('cuts a payload into pieces of at most the chunk size, one empty chunk for an empty payload', () => {
    expect(chunksOf(Buffer.from('abcdefg'), 3).map(String)).toEqual(['abc', 'def', 'g']);
    expect(chunksOf(Buffer.alloc(0), 3).map((c) => c.length)).toEqual([0]);
  });

  it('names the manifest field that is wrong', () => {
    const good = JSON.parse(encodeManifest({ store: STORE_FORMAT, group: 'g', partition: 0, slot: 'a', seq: 1, chunks: 1, bytes: 0, sha256: sha256(Buffer.alloc(0)), meta: META }).toString());
    expect(decodeManifest(Buffer.from(JSON.stringify(good))).ok).toBe(true);
    const bad = (patch: Record<string, unknown>) => decodeManifest(Buffer.from(JSON.stringify({ ...good, ...patch })));
    expect(bad({ chunks: 0 })).toMatchObject({ ok: false, reason: 'corrupt', detail: 'manifest field chunks is missing or wrong' });
    expect(bad({ meta: { ...META, offsets: { terminal: 1, gateway: 2 } } })).toMatchObject({ detail: 'manifest field meta.offsets.bank is missing or wrong' });
    expect(bad({ store: 99 })).toMatchObject({ ok: false, reason: 'incompatible_format', seq: 1 });
    expect(decodeManifest(Buffer.from('{not json'))).toMatchObject({ ok: false, reason: 'corrupt', seq: null });
  });
});

describe('choosing the latest usable checkpoint', () => {
  it('nothing written: missing; stray chunks alone: missing, saying a write did not complete', () => {
    const r = emptyKeyRecords();
    expect(pick(r)).toEqual({ reason: 'missing', detail: 'no checkpoint written for this key' });
    applyRecord(r, KEY, msg(chunkKey(KEY, 'a', 0), Buffer.from('x'), 1));
    expect(pick(r)).toEqual({ reason: 'missing', detail: 'no manifest, 1 chunk(s) of a write that did not complete' });
  });

  it('the higher sequence number wins, whichever slot holds it', () => {
    const r = emptyKeyRecords();
    write(r, 'a', 1, 'first');
    write(r, 'b', 2, 'second');
    expect(pick(r)).toEqual({ seq: 2, payload: 'second', skipped: [] });
    write(r, 'a', 3, 'third state');
    expect(pick(r)).toEqual({ seq: 3, payload: 'third state', skipped: [] });
  });

  it('hands out the other usable slot as the previous checkpoint (a torn barrier restores it); none when that slot is not usable', () => {
    const r = emptyKeyRecords();
    write(r, 'a', 1, 'first');
    const one = chooseLatest(KEY, r, EXPECT).result;
    expect(one.ok && one.previous).toBeNull();
    write(r, 'b', 2, 'second');
    const two = chooseLatest(KEY, r, EXPECT).result;
    expect(two.ok && [two.checkpoint.seq, two.previous?.seq, two.previous?.payload.toString()]).toEqual([2, 1, 'first']);
    applyRecord(r, KEY, msg(chunkKey(KEY, 'a', 0), null));
    const broken = chooseLatest(KEY, r, EXPECT).result;
    expect(broken.ok && [broken.checkpoint.seq, broken.previous]).toEqual([2, null]);
  });

  it('a later, longer write left in a slot does not confuse a shorter complete one, and tombstones delete chunks', () => {
    const r = emptyKeyRecords();
    write(r, 'a', 1, 'a long first checkpoint');
    write(r, 'a', 3, 'short');
    // Chunks 2.. of checkpoint 1 are still there (seq 1): not named by the manifest, ignored.
    expect(r.a.chunks.size).toBeGreaterThan(2);
    expect(pick(r)).toEqual({ seq: 3, payload: 'short', skipped: [] });
    applyRecord(r, KEY, msg(chunkKey(KEY, 'a', 1), null));
    expect(pick(r)).toMatchObject({ reason: 'corrupt', detail: 'slot a, checkpoint 3: chunk 1 of 2 is missing' });
  });

  it('a chunk of another checkpoint under the newest manifest: the older slot, the newer reported', () => {
    const r = emptyKeyRecords();
    write(r, 'b', 2, 'second');
    write(r, 'a', 3, 'third!');
    applyRecord(r, KEY, msg(chunkKey(KEY, 'a', 1), Buffer.from('zzz'), 5));
    const { result, writer } = chooseLatest(KEY, r, EXPECT);
    expect(result.ok && result.checkpoint.payload.toString()).toBe('second');
    expect(result.skipped).toEqual([{ reason: 'corrupt', seq: 3, detail: 'slot a, checkpoint 3: chunk 1 of 2 belongs to checkpoint 5 (a later write did not complete)' }]);
    // The writer must not touch slot b, the only complete one; it continues past every sequence number seen.
    expect(writer).toEqual({ maxSeq: 3, completeSlot: 'b', chunkSpan: { a: 2, b: 2 } });
  });

  it('a manifest of another key or slot is corrupt; a length that does not match is corrupt', () => {
    const r = emptyKeyRecords();
    write(r, 'a', 1, 'abc');
    const m = JSON.parse(r.a.manifest!.toString());
    r.b.manifest = Buffer.from(JSON.stringify({ ...m, slot: 'a', seq: 2 }));
    expect(pick(r)).toMatchObject({ seq: 1, skipped: ['corrupt'] });
    r.a.manifest = Buffer.from(JSON.stringify({ ...m, bytes: 4 }));
    r.b.manifest = null;
    expect(pick(r)).toEqual({ reason: 'corrupt', detail: 'slot a, checkpoint 1: 3 bytes, the manifest says 4' });
  });

  it('an older checkpoint with the expected rules is used when the newest was taken under other rules', () => {
    const r = emptyKeyRecords();
    write(r, 'a', 1, 'old rules state');
    write(r, 'b', 2, 'new rules state', 3, { ...META, rulesVersion: 'def' });
    expect(pick(r)).toEqual({ seq: 1, payload: 'old rules state', skipped: ['different_rules'] });
  });
});
