/**
 * A CheckpointStore in memory for the runtime's tests (checkpointer, chain):
 * the latest record per key, segments cut into chunks by the Kafka store's
 * own cutter and verified by its own assembler, tombstones deleting chunks.
 * Faults on demand: a write or segment write that throws, a chunk dropped or flipped.
 */
import type { CheckpointKey, CheckpointMeta, CheckpointStore, ReadLatestResult, SegmentId, SegmentListing, SegmentRead, SegmentRef } from '../../src/ingest/checkpoint-store.js';
import { assembleSegment, chunkStream, segmentName } from '../../src/ingest/kafka/checkpoint/segments.js';

export class MemoryCheckpointStore implements CheckpointStore {
  readonly records = new Map<number, { payload: Buffer; meta: CheckpointMeta; seq: number }>();
  /** The record each key held before its latest (the Kafka store's other slot). */
  readonly previous = new Map<number, { payload: Buffer; meta: CheckpointMeta; seq: number }>();
  /** Segment chunks by segmentName (partition/epoch/barrier). */
  readonly segments = new Map<string, Map<number, Buffer>>();
  /** Where each segment's first chunk landed: one offset per chunk, in the order written, as on the topic. */
  readonly segmentOffsets = new Map<string, number>();
  private nextOffset = 0;
  /** Segments tombstoned: their chunk count and where the tombstones landed (a listing before that offset still sees them). */
  private readonly deleted = new Map<string, { chunks: number; at: number }>();
  /** The `before` of each listSegments call (undefined: the whole partition). */
  readonly listedBefore: (number | undefined)[] = [];
  readonly steps: string[] = [];
  /** Throws on a record write of this partition / on a segment write, while set. */
  failWrite: number | 'all' | null = null;
  failSegment = false;
  failDelete = false;
  /** While set, record writes wait for it (a slow barrier). */
  gate: Promise<void> | null = null;

  constructor(private readonly chunkBytes = 64) {}

  open = async (): Promise<void> => undefined;
  close = async (): Promise<void> => undefined;

  async write(key: CheckpointKey, payload: Uint8Array, meta: CheckpointMeta) {
    this.steps.push(`write p${key.partition}`);
    if (this.gate !== null) await this.gate;
    if (key.partition === this.failWrite || this.failWrite === 'all') throw new Error('broker said no');
    const before = this.records.get(key.partition);
    const seq = (before?.seq ?? 0) + 1;
    if (before !== undefined) this.previous.set(key.partition, before);
    this.records.set(key.partition, { payload: Buffer.from(payload), meta, seq });
    return { seq, bytes: payload.length, chunks: 1, durationMs: 1 };
  }

  async readLatest(key: CheckpointKey): Promise<ReadLatestResult> {
    const r = this.records.get(key.partition);
    if (r === undefined) return { ok: false, reason: 'missing', detail: 'nothing written', skipped: [] };
    const p = this.previous.get(key.partition);
    const previous = p === undefined ? null : { key, meta: p.meta, payload: p.payload, seq: p.seq };
    return { ok: true, checkpoint: { key, meta: r.meta, payload: r.payload, seq: r.seq }, previous, skipped: [] };
  }

  async writeSegment(id: SegmentId, pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<SegmentRef> {
    this.steps.push(`segment ${id.barrier}`);
    if (this.failSegment) throw new Error('segment refused');
    const chunks = new Map<number, Buffer>();
    const total = await chunkStream(pieces, this.chunkBytes, async (c, i) => {
      chunks.set(i, c);
    });
    this.segments.set(segmentName(id), chunks);
    this.deleted.delete(segmentName(id));
    const offset = this.nextOffset;
    this.segmentOffsets.set(segmentName(id), offset);
    this.nextOffset += chunks.size;
    return { ...id, ...total, offset };
  }

  async readSegments(refs: readonly SegmentRef[]): Promise<SegmentRead[]> {
    return refs.map((r) => assembleSegment(r, this.segments.get(segmentName(r)) ?? new Map()));
  }

  async listSegments(group: string, partition: number, before?: number): Promise<SegmentListing[]> {
    this.listedBefore.push(before);
    const live = [...this.segments].map(([name, chunks]) => [name, chunks.size] as const);
    const tombstonedLater = before === undefined ? [] : [...this.deleted].filter(([, d]) => d.at >= before).map(([name, d]) => [name, d.chunks] as const);
    return [...live, ...tombstonedLater]
      .filter(([name]) => before === undefined || this.segmentOffsets.get(name)! < before)
      .map(([name, chunks]) => {
        const [p, epoch, barrier] = name.split('/').map(Number);
        return { group, partition: p, epoch, barrier, chunks };
      })
      .filter((s) => s.partition === partition);
  }

  async deleteSegments(refs: readonly SegmentListing[]): Promise<void> {
    this.steps.push(`delete ${refs.map((r) => r.barrier).join(',')}`);
    if (this.failDelete) throw new Error('tombstones refused');
    for (const r of refs) {
      const chunks = this.segments.get(segmentName(r));
      if (chunks === undefined) continue;
      this.segments.delete(segmentName(r));
      this.deleted.set(segmentName(r), { chunks: chunks.size, at: this.nextOffset });
      this.nextOffset += chunks.size;
    }
  }

  /** Barriers of the segments present, ascending. */
  segmentBarriers(): number[] {
    return [...this.segments.keys()].map((k) => Number(k.split('/')[2])).sort((a, b) => a - b);
  }

  /** `epoch/barrier` of the segments present. */
  segmentNames(): string[] {
    return [...this.segments.keys()].map((k) => k.split('/').slice(1).join('/')).sort();
  }
}
