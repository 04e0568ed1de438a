/**
 * Durable checkpoints of a partition task's state (issue 13), as the runtime
 * sees them: bytes in, the latest complete checkpoint out, or the reason there
 * is none. Nothing here knows Kafka; the Kafka implementation is
 * `ingest/kafka/checkpoint/store.ts` (a compacted topic, `posguard.state`).
 *
 * A checkpoint is complete or ignored, never half-applied: readLatest returns
 * a payload only when every byte of it was written and verified (sha256), so
 * a crash during write() leaves the previous checkpoint as the latest.
 */
import type { Stream } from '../events/index.js';

/** Whose state: one consumer group's task for one input partition number. */
export interface CheckpointKey {
  readonly group: string;
  readonly partition: number;
}

/** Written with every checkpoint; checked by readLatest. */
export interface CheckpointMeta {
  /** Version of the payload's serialisation (the engine state format). A reader refuses any other. */
  readonly formatVersion: number;
  /** `rulesStamp(rules).version` (src/config/rules-version.ts) the state was built under. */
  readonly rulesVersion: string;
  /** Per input stream, the next offset to read of this partition: the input position the state covers. */
  readonly offsets: Readonly<Record<Stream, number>>;
  /** Event time (the task's watermark, epoch ms) the state was taken at. */
  readonly takenAtEventMs: number;
  /** Wall clock (epoch ms) the state was taken at. */
  readonly takenAtWallMs: number;
}

export interface Checkpoint {
  readonly key: CheckpointKey;
  readonly meta: CheckpointMeta;
  readonly payload: Buffer;
  /** Sequence number of this key's checkpoints (1, 2, …): higher is newer. */
  readonly seq: number;
  /** Where its first record lies in the store (the state topic's offset), when the store knows: a later read may start there. */
  readonly offset?: number | null;
}

/** Why a checkpoint cannot be used. `missing`: none complete was written. */
export type CheckpointUnusable = 'missing' | 'corrupt' | 'incompatible_format' | 'different_rules';

export const CHECKPOINT_UNUSABLE: readonly CheckpointUnusable[] = ['missing', 'corrupt', 'incompatible_format', 'different_rules'];

export interface CheckpointRejection {
  readonly reason: CheckpointUnusable;
  /** One line naming what is wrong ("chunk 3 of 8 is missing", "rules 1a2b… ≠ 9f8e…"). */
  readonly detail: string;
  /** The rejected checkpoint's sequence number, when its manifest could be read. */
  readonly seq: number | null;
}

/** What the reader runs with: a checkpoint of another format or rules is refused. */
export interface CheckpointExpectation {
  readonly formatVersion: number;
  readonly rulesVersion: string;
}

export type ReadLatestResult =
  /** `skipped`: newer checkpoints passed over (a write that did not complete, corruption), newest first. */
  /**
   * `previous`: the key's other usable checkpoint (older; null if none): a restore whose newest barrier
   * did not complete on every partition takes the one before it, which each partition still holds.
   */
  | { readonly ok: true; readonly checkpoint: Checkpoint; readonly previous: Checkpoint | null; readonly skipped: readonly CheckpointRejection[] }
  /** No usable checkpoint: the reason of the newest one (or `missing`), and every one rejected. */
  | { readonly ok: false; readonly reason: CheckpointUnusable; readonly detail: string; readonly skipped: readonly CheckpointRejection[] };

export interface CheckpointWritten {
  readonly seq: number;
  readonly bytes: number;
  readonly chunks: number;
  readonly durationMs: number;
  /** Where its first record landed (the state topic's offset), when the store knows: a read from there finds it and anything newer. */
  readonly offset?: number | null;
}

/**
 * One segment of a checkpoint chain (STATE_FORMAT 2): the item deltas of one
 * barrier, written under keys of its own, never overwritten (unique per writer
 * and barrier), deleted by tombstones once no durable manifest names it.
 * `partition` is the writer's lowest input partition (whose record holds the
 * chain manifest), `epoch` the epoch it held that partition under: a zombie's
 * late segment never lands on a live writer's key.
 */
export interface SegmentId {
  readonly group: string;
  readonly partition: number;
  readonly epoch: number;
  readonly barrier: number;
}

/** A written segment, as a chain manifest names it: enough to find and verify every byte. */
export interface SegmentRef extends SegmentId {
  readonly bytes: number;
  readonly chunks: number;
  /** sha256 (hex) of the whole segment. */
  readonly sha256: string;
  /** Where its first chunk landed (the state topic's offset), when the store knows: a read of it starts there. */
  readonly offset?: number;
}

/** A segment found on the topic (by listSegments): where it is, and how many chunks to tombstone. */
export interface SegmentListing extends SegmentId {
  readonly chunks: number;
}

export type SegmentRead =
  | { readonly ok: true; readonly ref: SegmentRef; readonly bytes: Buffer }
  /** Missing chunks, a length or sha256 that does not match: one line saying which. */
  | { readonly ok: false; readonly ref: SegmentRef; readonly detail: string };

export interface CheckpointStore {
  /** Checks the store is usable (the topic exists, is compacted) and learns its message limit. */
  open(): Promise<void>;
  /**
   * Writes a segment from its bytes as they come (cut into chunks as they
   * fill: the whole segment is never one buffer); resolves once every chunk
   * is durable, with what a manifest must name.
   */
  writeSegment(id: SegmentId, pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<SegmentRef>;
  /** The named segments, each verified against its ref (one read for all), in the order asked. */
  readSegments(refs: readonly SegmentRef[]): Promise<SegmentRead[]>;
  /** Tombstones every chunk of the named segments (durable when it resolves). Idempotent. */
  deleteSegments(refs: readonly SegmentListing[]): Promise<void>;
  /**
   * Every segment of `group` written under writer partition `partition` still on the topic (to sweep orphans);
   * with `before`, the partition as it was at that offset: segments written below it, tombstones written later not seen.
   */
  listSegments(group: string, partition: number, before?: number): Promise<SegmentListing[]>;
  /** Resolves once the checkpoint is durable (acknowledged by every in-sync replica). Writes of one key are serialised. */
  write(key: CheckpointKey, payload: Uint8Array, meta: CheckpointMeta): Promise<CheckpointWritten>;
  /**
   * The latest complete checkpoint of `key` that matches `expect`, or the reason there is none.
   * `from`: a position (a `CheckpointWritten.offset` or lower) the caller knows the checkpoint it
   * needs, and anything newer, lies at or above: the store may skip what lies below.
   */
  readLatest(key: CheckpointKey, expect: CheckpointExpectation, from?: number | null): Promise<ReadLatestResult>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** What a store reports as it works (the metrics implement it: src/metrics/families/checkpoint.ts). */
export interface CheckpointObserver {
  written(e: { readonly partition: number; readonly bytes: number; readonly chunks: number; readonly durationMs: number; readonly takenAtWallMs: number }): void;
  writeFailed(e: { readonly partition: number }): void;
  read(e: {
    readonly partition: number;
    readonly result: 'ok' | CheckpointUnusable;
    readonly skipped: readonly CheckpointUnusable[];
    readonly durationMs: number;
    readonly bytes: number;
    readonly takenAtWallMs: number | null;
  }): void;
}
