/**
 * Segments of a checkpoint chain on the state topic (STATE_FORMAT 2,
 * docs/kafka.md "Checkpoints"): the item deltas of one barrier, in chunks
 * under keys of their own
 *
 *   key `seg/<partition>/<epoch>/<barrier>/c<index>/<group>`  value: bytes of chunk <index>
 *
 * in the state partition of `<partition>` (the writer's lowest input
 * partition, whose record names the chain). A segment's keys are unique (one
 * writer per partition and epoch, one segment per barrier), so nothing
 * overwrites them: they go only by tombstones, once no durable manifest names
 * them. Verification rests on the manifest's ref (chunk count, length, sha256).
 */
import { createHash } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { SegmentId, SegmentListing, SegmentRead, SegmentRef } from '../../checkpoint-store.js';

export function segmentChunkKey(id: SegmentId, index: number): string {
  return `seg/${id.partition}/${id.epoch}/${id.barrier}/c${index}/${id.group}`;
}

const KEY = /^seg\/(\d+)\/(\d+)\/(\d+)\/c(\d+)\/(.*)$/s;

export interface SegmentChunkKey extends SegmentId {
  readonly index: number;
}

/** A segment chunk's record key, or null for anything else. */
export function parseSegmentKey(key: Buffer | null): SegmentChunkKey | null {
  if (key === null) return null;
  const m = KEY.exec(key.toString('utf8'));
  if (m === null) return null;
  return { partition: Number(m[1]), epoch: Number(m[2]), barrier: Number(m[3]), index: Number(m[4]), group: m[5] };
}

export const segmentName = (id: SegmentId): string => `${id.partition}/${id.epoch}/${id.barrier}`;
/** A segment's name with its group: unique on the topic. */
export const fullName = (id: SegmentId): string => `${segmentName(id)}\u0000${id.group}`;

/** Chunks by segment (fullName), then by index. */
export type ChunkMaps = Map<string, Map<number, Buffer>>;

/** Applies one chunk record: its latest record wins, a tombstone deletes (what compaction keeps). */
export function putChunk(into: ChunkMaps, name: string, index: number, value: Buffer | null): void {
  let c = into.get(name);
  if (c === undefined) {
    if (value === null) return;
    into.set(name, (c = new Map()));
  }
  if (value === null) c.delete(index);
  else c.set(index, value);
}

/** Chunks of wanted segments, as a scan finds them (the latest record of each key; a tombstone deletes). */
export class SegmentCollector {
  private readonly wanted = new Map<string, SegmentRef>();
  private readonly chunks: ChunkMaps = new Map();

  constructor(refs: readonly SegmentRef[]) {
    for (const r of refs) this.wanted.set(fullName(r), r);
  }

  apply(m: KafkaMessage): void {
    const k = parseSegmentKey(m.key);
    if (k === null) return;
    const name = fullName(k);
    const ref = this.wanted.get(name);
    if (ref === undefined || k.index >= ref.chunks) return;
    putChunk(this.chunks, name, k.index, m.value);
  }

  /** Each wanted segment, verified, in the order of `refs`. */
  result(refs: readonly SegmentRef[]): SegmentRead[] {
    return refs.map((ref) => assembleSegment(ref, this.chunks.get(fullName(ref)) ?? new Map()));
  }
}

/** The segments of one writer partition a scan finds: per segment, the chunk indices whose latest record is not a tombstone. */
export class SegmentLister {
  private readonly found = new Map<string, { id: SegmentId; present: Set<number> }>();

  constructor(private readonly group: string, private readonly partition: number) {}

  apply(m: KafkaMessage): void {
    const k = parseSegmentKey(m.key);
    if (k === null || k.group !== this.group || k.partition !== this.partition) return;
    const name = segmentName(k);
    let f = this.found.get(name);
    if (f === undefined) this.found.set(name, (f = { id: { group: k.group, partition: k.partition, epoch: k.epoch, barrier: k.barrier }, present: new Set() }));
    if (m.value === null) f.present.delete(k.index);
    else f.present.add(k.index);
  }

  /** Segments with any chunk left; `chunks` one past the highest (what tombstones must cover). */
  result(): SegmentListing[] {
    const out: SegmentListing[] = [];
    for (const { id, present } of this.found.values()) if (present.size > 0) out.push({ ...id, chunks: Math.max(...present) + 1 });
    return out;
  }
}

/** A segment's bytes from its chunks, checked against its ref. Pure. */
export function assembleSegment(ref: SegmentRef, chunks: ReadonlyMap<number, Buffer>): SegmentRead {
  const what = `segment ${ref.barrier} (${segmentName(ref)})`;
  const parts: Buffer[] = [];
  for (let i = 0; i < ref.chunks; i++) {
    const c = chunks.get(i);
    if (c === undefined) return { ok: false, ref, detail: `${what}: chunk ${i} of ${ref.chunks} is missing` };
    parts.push(c);
  }
  const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  if (bytes.length !== ref.bytes) return { ok: false, ref, detail: `${what}: ${bytes.length} bytes, the manifest says ${ref.bytes}` };
  if (createHash('sha256').update(bytes).digest('hex') !== ref.sha256) return { ok: false, ref, detail: `${what}: the sha256 of its chunks does not match the manifest` };
  return { ok: true, ref, bytes };
}

/**
 * Cuts a stream of pieces into chunks of exactly `chunkBytes` (the last one
 * shorter), hashing as it goes: `emit` gets each chunk once it is full, so at
 * most one chunk is held here. Returns the totals once the pieces end.
 */
export async function chunkStream(
  pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, chunkBytes: number, emit: (chunk: Buffer, index: number) => Promise<void>,
): Promise<{ bytes: number; chunks: number; sha256: string }> {
  const hash = createHash('sha256');
  let held: Buffer[] = [];
  let heldBytes = 0;
  let index = 0;
  let bytes = 0;
  for await (const p of pieces) {
    let piece = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
    hash.update(piece);
    bytes += piece.length;
    while (heldBytes + piece.length >= chunkBytes) {
      const take = chunkBytes - heldBytes;
      held.push(piece.subarray(0, take));
      await emit(Buffer.concat(held), index++);
      piece = piece.subarray(take);
      held = [];
      heldBytes = 0;
    }
    if (piece.length > 0) {
      held.push(piece);
      heldBytes += piece.length;
    }
  }
  if (heldBytes > 0 || index === 0) await emit(Buffer.concat(held), index++);
  return { bytes, chunks: index, sha256: hash.digest('hex') };
}
