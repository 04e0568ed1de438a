/**
 * What a checkpoint of `posguard run` holds (docs/kafka.md, "Checkpoints"),
 * as plain JSON-able data, and its encoding.
 *
 * One barrier writes one record per held partition (its engine skeleton,
 * fault-spike windows and the task's bookkeeping); the record of the lowest
 * held partition also carries the parts the process shares between
 * partitions (card stage skeleton, the duplicate-debit index skeleton, the
 * attempt table's own state, the restart ledger) and the chain manifest: the
 * segments (segment.ts) holding the item tables, from the base to this
 * barrier. The store's key stays {group, partition} and its metrics per
 * partition. All carry the same barrier number; a restore uses them only together.
 *
 * Encoding: `{"v":2,"chain":…,"record":…}` JSON, deflated (zlib level 1:
 * measured in docs/kafka.md against gzip 6 and brotli). The record is frozen
 * as JSON inside the barrier; the chain is known only once the segment is
 * written, so it sits beside it. `STATE_FORMAT` is the version of everything
 * here and in the segments: a reader with another refuses the checkpoint
 * (incompatible_format) and rebuilds instead.
 */
import { promisify } from 'node:util';
import { deflate, deflateSync, inflateSync } from 'node:zlib';
import type { Stream } from '../../../events/index.js';
import type { AnyEvent, SourceRef } from '../../../events/index.js';
import type { Anomaly } from '../../../events/anomaly.js';
import type { OffsetLogState } from '../../../ingest/kafka/offsets.js';
import type { SegmentRef } from '../../../ingest/checkpoint-store.js';
import type { SnapNum } from '../../../util/snapshot-num.js';

/** Version of the checkpoint payload (this file, segment.ts, the engine's and the patterns' states). Bump on any change. */
export const STATE_FORMAT = 2;

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
  /** Skeletons (parts.ts): their items are in the chain's segments. */
  readonly cardStage: unknown;
  readonly sharedDuplicates: unknown;
  /** The attempt table's own state (its stable-id counter). */
  readonly attemptTable: unknown;
  readonly ledger: readonly LedgerEntryState[];
}

/** A record as read: with the chain manifest when it is the lowest partition's. */
export interface DecodedState {
  readonly record: StateRecord;
  /** The segments from the base to the record's barrier (base first); null in the other partitions' records. */
  readonly chain: readonly SegmentRef[] | null;
}

/** zlib level: 1 compresses this JSON about as well as 6 in a fraction of the time (docs/kafka.md, "Checkpoints"). */
const LEVEL = 1;

export function encodeState(r: StateRecord, chain: readonly SegmentRef[] | null): Buffer {
  return deflateSync(envelope(serializeState(r), chain), { level: LEVEL });
}

/** The record frozen as JSON bytes: from here on the live state may move on (the barrier releases the input). */
export function serializeState(r: StateRecord): Buffer {
  return Buffer.from(JSON.stringify(r), 'utf8');
}

/** The payload's JSON: the frozen record and the chain manifest beside it. */
export function envelope(frozen: Buffer, chain: readonly SegmentRef[] | null): Buffer {
  return Buffer.concat([Buffer.from(`{"v":${STATE_FORMAT},"chain":${JSON.stringify(chain)},"record":`), frozen, Buffer.from('}')]);
}

const deflateAsync = promisify(deflate);

/** Compresses an envelope's bytes off the main thread (libuv's pool), while the input flows again. */
export function compressState(json: Buffer): Promise<Buffer> {
  return deflateAsync(json, { level: LEVEL });
}

/** Decodes a payload; throws on anything that is not a record of STATE_FORMAT (the caller falls back). */
export function decodeState(payload: Uint8Array): DecodedState {
  const e = JSON.parse(inflateSync(payload).toString('utf8')) as { v?: unknown; chain?: unknown; record?: Partial<StateRecord> } | null;
  const o = e?.record;
  if (e === null || typeof e !== 'object' || e.v !== STATE_FORMAT || o === null || typeof o !== 'object' || o.v !== STATE_FORMAT || !Number.isSafeInteger(o.barrier) || typeof o.task !== 'object') {
    throw new Error(`not a state record of format ${STATE_FORMAT} (v ${String(e?.v)})`);
  }
  if (e.chain !== null && !validChain(e.chain)) throw new Error('the chain manifest is not a list of segments');
  return { record: o as StateRecord, chain: e.chain as SegmentRef[] | null };
}

const isInt = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

function validChain(c: unknown): boolean {
  if (!Array.isArray(c) || c.length === 0) return false;
  return c.every((s: Partial<SegmentRef> | null) => s !== null && typeof s === 'object' && typeof s.group === 'string' && isInt(s.partition) && isInt(s.epoch)
    && isInt(s.barrier) && isInt(s.bytes) && isInt(s.chunks) && typeof s.sha256 === 'string' && /^[0-9a-f]{64}$/.test(s.sha256));
}
