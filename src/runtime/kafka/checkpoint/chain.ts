/**
 * When a barrier writes a base (every item: a full capture) instead of a
 * delta, and which segments may be tombstoned when (docs/kafka.md,
 * "Checkpoints"). Pure bookkeeping, no I/O: the checkpointer asks and tells.
 *
 * A base when:
 *  - the barrier is the first of a generation (the parts' change tracking
 *    starts there: a delta would be against nothing). A restore builds a new
 *    generation, so its first barrier is a base too: the restored chain
 *    belongs to the writer that died, and a base lets it go at once (and a
 *    restore never needs more than one chain);
 *  - the previous barrier failed (what reached the topic is unknown; the
 *    parts may have forgotten what they handed out);
 *  - the deltas since the base weigh more than the base (a restore would
 *    read more than a base costs to write), or
 *  - the chain has MAX_SEGMENTS segments (bounds a restore's reads).
 *
 * Tombstones: a segment goes only once a manifest naming a newer base is
 * durable, and only if its writer partition is still held here (otherwise the
 * partition's new holder may still restore from it: it is theirs to drop).
 * Orphans (named by no manifest) are swept after a generation's first base
 * (`orphans`). Bounded: the chain (≤ MAX_SEGMENTS refs) plus the segments waiting for a
 * base (those of the failed barriers since the last durable one and one
 * restored chain).
 */
import type { SegmentId, SegmentListing, SegmentRef } from '../../../ingest/checkpoint-store.js';

/** Segments of a chain, base included. */
export const MAX_SEGMENTS = 30;

/** `parts`: a delta was asked for and every part answered a full capture (a tracker that overflowed). */
export type BaseReason = 'generation' | 'failed' | 'bytes' | 'length' | 'parts';

export class ChainPolicy {
  /** The chain the last durable manifest names (base first). */
  private chain: SegmentRef[] = [];
  private generation: number | null = null;
  private lastFailed = false;
  /** Deletable once a newer base is durable: segments of failed barriers, a restored chain. */
  private waiting: SegmentRef[] = [];
  /** Deletable now (a newer base is durable); a failed delete comes back here. */
  private deletable: SegmentRef[] = [];

  constructor(private readonly maxSegments = MAX_SEGMENTS) {}

  /** Null: a delta; else why this barrier must be a base. */
  decide(generation: number): BaseReason | null {
    if (generation !== this.generation) {
      this.generation = generation;
      return 'generation';
    }
    if (this.lastFailed || this.chain.length === 0) return this.lastFailed ? 'failed' : 'generation';
    if (this.chain.length >= this.maxSegments) return 'length';
    const deltas = this.chain.slice(1).reduce((n, s) => n + s.bytes, 0);
    return deltas > this.chain[0].bytes ? 'bytes' : null;
  }

  /** The chain this barrier's manifest names: its segment after the current chain, or alone when a base. */
  manifest(seg: SegmentRef, base: boolean): SegmentRef[] {
    return base ? [seg] : [...this.chain, seg];
  }

  /**
   * The barrier's records are durable (and committed). Returns the segments to
   * tombstone now; `held`: the input partitions this barrier wrote.
   */
  durable(seg: SegmentRef, base: boolean, held: readonly number[]): SegmentRef[] {
    this.lastFailed = false;
    if (!base) {
      this.chain.push(seg);
    } else {
      const older = [...this.waiting, ...this.chain];
      this.chain = [seg];
      this.waiting = [];
      // A chain of a partition held elsewhere now is that holder's: it may restore from it.
      this.deletable.push(...older.filter((s) => held.includes(s.partition) && !sameSegment(s, seg)));
    }
    const out = this.deletable;
    this.deletable = [];
    return out;
  }

  /** A barrier failed; `seg` is its segment if it was (maybe) written: it may be named by a manifest that landed. */
  failed(seg: SegmentRef | null): void {
    this.lastFailed = true;
    if (seg !== null) this.waiting.push(seg);
  }

  /** Tombstones that did not go through: tried again after the next durable barrier. */
  undeleted(refs: readonly SegmentRef[]): void {
    this.deletable.push(...refs);
  }

  /** A restore used `chain`: dropped once this process's first base is durable. */
  restored(chain: readonly SegmentRef[]): void {
    this.waiting.push(...chain);
  }

  /** For the figures and tests. */
  get current(): readonly SegmentRef[] {
    return this.chain;
  }

  get pending(): number {
    return this.waiting.length + this.deletable.length;
  }
}

/**
 * Orphans among the segments listed under the writer partition, once the
 * first base of a generation is durable (and committed): every segment of an
 * older epoch, or of this epoch and an older barrier, that the chain does not
 * name. They are left by crashes (a segment written, its records not), by a
 * process whose successor rebuilt instead of restoring, or by tombstones lost.
 * Newer epochs are a newer owner's (this process may be a zombie): never touched.
 */
export function orphans(listed: readonly SegmentListing[], writer: { readonly partition: number; readonly epoch: number }, base: number, chain: readonly SegmentRef[]): SegmentListing[] {
  return listed.filter((s) => s.partition === writer.partition && (s.epoch < writer.epoch || (s.epoch === writer.epoch && s.barrier < base)) && !chain.some((c) => sameSegment(c, s)));
}

const sameSegment = (a: SegmentId, b: SegmentId): boolean => a.group === b.group && a.partition === b.partition && a.epoch === b.epoch && a.barrier === b.barrier;
