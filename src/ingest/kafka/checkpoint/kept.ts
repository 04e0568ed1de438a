/**
 * Segment chunks a readLatest scan passed over, kept for the readSegments
 * that follows it in a restore: the chain's chunks live in the same state
 * partition as the lowest partition's record (the writer partition's), so
 * without this a restore reads those bytes twice (a 275 MB segment: ~4 s a
 * scan).
 *
 * A scan of state partition `sp` for a key of group `g` keeps the latest
 * record of every chunk key of g's segments it reads (a tombstone deletes:
 * what compaction would keep), then, when the scan completes, remembers them
 * with the end offset it read up to. readSegments takes them (they go at
 * once, used or not) and answers from them only when that end offset is
 * still the partition's: nothing was written there since, so a scan now would
 * find the same records.
 *
 * Memory bound: one holding for the whole store, being filled or filled: at
 * most the chunks of the segments of one group present in one state
 * partition. Parallel scans (a restore reads all its partitions at once)
 * keep nothing once another scan holds it; a scan that finds no chunk of its
 * group never takes it (the partitions without segments). It goes when
 * readSegments takes it, when this store writes to that partition, at
 * close, and KEEP_MS after its scan ended (a restore that fell back never
 * reads its chain): it never outlives the restore that scanned.
 */
import type { KafkaMessage } from 'kafkajs';
import type { SegmentRef } from '../../checkpoint-store.js';
import { fullName, parseSegmentKey, putChunk, type ChunkMaps } from './segments.js';

/** How long kept chunks wait for readSegments. A restore reads its chain as soon as its records are decided (well under this). */
export const KEEP_MS = 30_000;

/** What a completed scan kept. */
export interface KeptChunks {
  /** The state partition scanned. */
  readonly partition: number;
  readonly group: string;
  /** The end offset the scan read up to (exclusive). */
  readonly endOffset: number;
  readonly chunks: ChunkMaps;
}

/** One scan's keeping: hand it every record the scan reads, then `end` once the scan is over. */
export class KeepingScan {
  private chunks: ChunkMaps | null = null;
  private refused = false;

  constructor(private readonly owner: KeptSegments, readonly partition: number, readonly group: string) {}

  apply(m: KafkaMessage): void {
    if (this.refused) return;
    const k = parseSegmentKey(m.key);
    if (k === null || k.group !== this.group) return;
    if (this.chunks === null) {
      // A tombstone of a chunk not kept deletes nothing: no reason to hold the store's one holding for it.
      if (m.value === null) return;
      if (!this.owner.claim(this)) {
        this.refused = true;
        return;
      }
      this.chunks = new Map();
    }
    putChunk(this.chunks, fullName(k), k.index, m.value);
  }

  /** The scan read up to `endOffset`; null: it failed (nothing is kept). */
  end(endOffset: number | null): void {
    this.owner.finish(this, endOffset === null || this.chunks === null ? null : { partition: this.partition, group: this.group, endOffset, chunks: this.chunks });
    this.chunks = null;
  }

  /** Stops keeping (the holding was dropped while the scan ran). */
  cancel(): void {
    this.refused = true;
    this.chunks = null;
  }
}

export class KeptSegments {
  private kept: KeptChunks | null = null;
  private filling: KeepingScan | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly keepMs = KEEP_MS) {}

  /** A keeping for a scan of `partition` for a key of `group`. */
  scan(partition: number, group: string): KeepingScan {
    return new KeepingScan(this, partition, group);
  }

  /** Whether `scan` may keep chunks: no other scan is keeping (what a finished one kept gives way to a newer scan). */
  claim(scan: KeepingScan): boolean {
    if (this.filling !== null && this.filling !== scan) return false;
    this.dropKept();
    this.filling = scan;
    return true;
  }

  finish(scan: KeepingScan, kept: KeptChunks | null): void {
    if (this.filling !== scan) return;
    this.filling = null;
    if (kept === null) return;
    this.kept = kept;
    this.timer = setTimeout(() => this.dropKept(), this.keepMs);
    this.timer.unref();
  }

  /** What a completed scan kept (then nothing is kept any more: readSegments ends a restore). */
  take(): KeptChunks | null {
    const k = this.kept;
    this.drop();
    return k;
  }

  /** Drops what was kept of `partition` (this store writes there). */
  dropPartition(partition: number): void {
    if (this.kept?.partition === partition) this.dropKept();
    if (this.filling?.partition === partition) {
      this.filling.cancel();
      this.filling = null;
    }
  }

  drop(): void {
    this.dropKept();
    this.filling?.cancel();
    this.filling = null;
  }

  private dropKept(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.kept = null;
  }
}

/** The chunks of each of `refs` when `kept` holds every one of them (each has a chunk there), else null. */
export function keptChunksOf(kept: KeptChunks, refs: readonly SegmentRef[]): ReadonlyMap<number, Buffer>[] | null {
  const out: ReadonlyMap<number, Buffer>[] = [];
  for (const r of refs) {
    const c = r.group === kept.group ? kept.chunks.get(fullName(r)) : undefined;
    if (c === undefined || c.size === 0) return null;
    out.push(c);
  }
  return out;
}
