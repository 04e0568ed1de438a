/**
 * What a checkpoint of `posguard run` holds (docs/kafka.md, "Checkpoints"),
 * as plain JSON-able data, and its encoding.
 *
 * One barrier writes one record per held partition (its engine, fault-spike
 * windows and the task's bookkeeping); the record of the lowest held partition
 * also carries the parts the process shares between partitions (card stage
 * with its card patterns, the duplicate-debit index, the restart ledger), so
 * the store's key stays {group, partition} and its metrics per partition. All
 * carry the same barrier number; a restore uses them only together.
 *
 * Encoding: JSON, deflated (zlib level 1: measured in docs/kafka.md against
 * gzip 6 and brotli). `STATE_FORMAT` is the version of everything below: a
 * reader with another refuses the checkpoint (incompatible_format) and
 * rebuilds instead.
 */
import { promisify } from 'node:util';
import { deflate, deflateSync, inflateSync } from 'node:zlib';
import type { Stream } from '../../../events/index.js';
import type { AnyEvent, SourceRef } from '../../../events/index.js';
import type { Anomaly } from '../../../events/anomaly.js';
import type { OffsetLogState } from '../../../ingest/kafka/offsets.js';
import type { SnapNum } from '../../../util/snapshot-num.js';

/** Version of the checkpoint payload (this file, the engine's and the patterns' states). Bump on any change. */
export const STATE_FORMAT = 1;

/** A partition task's own bookkeeping (partition-task.ts). */
export interface TaskOwnState {
  readonly v: 1;
  readonly partition: number;
  readonly floor: SnapNum;
  readonly floorAtStart: SnapNum;
  readonly pins: readonly (readonly [string, number])[];
  readonly logs: Readonly<Record<Stream, OffsetLogState>>;
  readonly maxTime: Readonly<Record<Stream, SnapNum>>;
  /** Queued foreign reversals (their wall-clock wait restarts at the restore). */
  readonly foreign: Readonly<Record<Stream, readonly { readonly e: AnyEvent; readonly ref: SourceRef; readonly origRrn: string | null }[]>>;
  readonly foreignOnly: readonly (readonly [string, number])[];
  readonly ownEvents: number;
  readonly feedGaps: readonly Stream[];
  readonly suppressedBelowFloor: number;
  readonly foreignDelivered: number;
}

/** The record of one partition. `engine` and `faultSpikes` are the owners' plain states. */
export interface StateRecord {
  readonly v: typeof STATE_FORMAT;
  readonly barrier: number;
  /** The epoch the writer held the partition under (fencing). */
  readonly epoch: number;
  readonly task: TaskOwnState;
  readonly engineId: number;
  readonly engine: unknown;
  readonly faultSpikes: unknown;
  /** In the lowest held partition's record only. */
  readonly process: ProcessPart | null;
}

/** The restart ledger's entries that can still matter (ledger.ts). */
export interface LedgerEntryState {
  readonly row: Anomaly;
  readonly touched: boolean;
  readonly partition: number | null;
}

/** The parts of the process shared by its partitions. */
export interface ProcessPart {
  /** The partitions this process held, ascending: a restore needs exactly these. */
  readonly partitions: readonly number[];
  readonly cardStage: unknown;
  readonly sharedDuplicates: unknown;
  readonly ledger: readonly LedgerEntryState[];
}

/** zlib level: 1 compresses this JSON about as well as 6 in a fraction of the time (docs/kafka.md, "Checkpoints"). */
const LEVEL = 1;

export function encodeState(r: StateRecord): Buffer {
  return deflateSync(serializeState(r), { level: LEVEL });
}

/** The record frozen as JSON bytes: from here on the live state may move on (the barrier releases the input). */
export function serializeState(r: StateRecord): Buffer {
  return Buffer.from(JSON.stringify(r), 'utf8');
}

const deflateAsync = promisify(deflate);

/** Compresses serializeState()'s bytes off the main thread (libuv's pool), while the input flows again. */
export function compressState(json: Buffer): Promise<Buffer> {
  return deflateAsync(json, { level: LEVEL });
}

/** Decodes a payload; throws on anything that is not a record of STATE_FORMAT (the caller falls back). */
export function decodeState(payload: Uint8Array): StateRecord {
  const o = JSON.parse(inflateSync(payload).toString('utf8')) as Partial<StateRecord>;
  if (o === null || typeof o !== 'object' || o.v !== STATE_FORMAT || !Number.isSafeInteger(o.barrier) || typeof o.task !== 'object') {
    throw new Error(`not a state record of format ${STATE_FORMAT} (v ${String((o as { v?: unknown })?.v)})`);
  }
  return o as StateRecord;
}
