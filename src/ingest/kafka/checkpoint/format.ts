/**
 * The records of the state topic (docs/kafka.md, "Checkpoints"). Each
 * checkpoint key has two slots, `a` and `b`, written alternately; a slot is
 * its chunks then one manifest:
 *
 *   key `ckpt/<partition>/<slot>/c<index>/<group>`  value: bytes of chunk <index>, header `posguard.ckpt.seq`
 *   key `ckpt/<partition>/<slot>/m/<group>`         value: the manifest (JSON, below)
 *
 * The record keys stay the same from one checkpoint to the next, so
 * compaction keeps only the latest record of each; a writer overwrites only
 * the slot that does NOT hold the latest complete checkpoint, so that one is
 * never the older version of any key until its successor is complete.
 * The group comes last in the key: it may contain any character.
 */
import { createHash } from 'node:crypto';
import type { CheckpointKey, CheckpointMeta } from '../../checkpoint-store.js';
import { STREAMS } from '../../../events/index.js';

/** Version of this record layout (keys, headers, manifest). A reader refuses a manifest of another. */
export const STORE_FORMAT = 1;

export type Slot = 'a' | 'b';
export const SLOTS: readonly Slot[] = ['a', 'b'];
export const otherSlot = (s: Slot): Slot => (s === 'a' ? 'b' : 'a');

export const SEQ_HEADER = 'posguard.ckpt.seq';

export interface Manifest {
  readonly store: number;
  readonly group: string;
  readonly partition: number;
  readonly slot: Slot;
  readonly seq: number;
  readonly chunks: number;
  readonly bytes: number;
  /** sha256 (hex) of the whole payload. */
  readonly sha256: string;
  readonly meta: CheckpointMeta;
}

export type RecordKey =
  | { readonly kind: 'manifest'; readonly partition: number; readonly slot: Slot; readonly group: string }
  | { readonly kind: 'chunk'; readonly partition: number; readonly slot: Slot; readonly index: number; readonly group: string };

export function manifestKey(k: CheckpointKey, slot: Slot): string {
  return `ckpt/${k.partition}/${slot}/m/${k.group}`;
}

export function chunkKey(k: CheckpointKey, slot: Slot, index: number): string {
  return `ckpt/${k.partition}/${slot}/c${index}/${k.group}`;
}

const KEY = /^ckpt\/(\d+)\/([ab])\/(m|c(\d+))\/(.*)$/s;

/** A state-topic record key, or null for anything else (another writer's records are ignored). */
export function parseRecordKey(key: Buffer | null): RecordKey | null {
  if (key === null) return null;
  const m = KEY.exec(key.toString('utf8'));
  if (m === null) return null;
  const partition = Number(m[1]);
  const slot = m[2] as Slot;
  if (m[3] === 'm') return { kind: 'manifest', partition, slot, group: m[5] };
  return { kind: 'chunk', partition, slot, index: Number(m[4]), group: m[5] };
}

/** Which partition of the state topic holds `key`'s records: its input partition modulo the count. */
export function statePartition(k: CheckpointKey, stateTopicPartitions: number): number {
  return k.partition % stateTopicPartitions;
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The payload cut into pieces of at most `chunkBytes` (one empty chunk for an empty payload). */
export function chunksOf(payload: Buffer, chunkBytes: number): Buffer[] {
  if (payload.length === 0) return [payload];
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += chunkBytes) out.push(payload.subarray(at, Math.min(at + chunkBytes, payload.length)));
  return out;
}

export function encodeManifest(m: Manifest): Buffer {
  return Buffer.from(JSON.stringify(m), 'utf8');
}

export type DecodedManifest =
  | { readonly ok: true; readonly manifest: Manifest }
  | { readonly ok: false; readonly reason: 'corrupt' | 'incompatible_format'; readonly detail: string; readonly seq: number | null };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Checks every field a reader relies on; says which is wrong. */
export function decodeManifest(value: Buffer): DecodedManifest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'corrupt', detail: 'the manifest is not JSON', seq: null };
  }
  if (m === null || typeof m !== 'object') return { ok: false, reason: 'corrupt', detail: 'the manifest is not an object', seq: null };
  const seq = isInt(m.seq) ? m.seq : null;
  if (m.store !== STORE_FORMAT) {
    return { ok: false, reason: 'incompatible_format', detail: `store format ${JSON.stringify(m.store)}, this posguard reads ${STORE_FORMAT}`, seq };
  }
  const bad = badField(m);
  if (bad !== null) return { ok: false, reason: 'corrupt', detail: `manifest field ${bad} is missing or wrong`, seq };
  return { ok: true, manifest: m as unknown as Manifest };
}

function badField(m: Record<string, unknown>): string | null {
  if (typeof m.group !== 'string') return 'group';
  if (!isInt(m.partition) || m.partition < 0) return 'partition';
  if (m.slot !== 'a' && m.slot !== 'b') return 'slot';
  if (!isInt(m.seq) || m.seq < 1) return 'seq';
  if (!isInt(m.chunks) || m.chunks < 1) return 'chunks';
  if (!isInt(m.bytes) || m.bytes < 0) return 'bytes';
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) return 'sha256';
  const meta = m.meta as Record<string, unknown> | null;
  if (meta === null || typeof meta !== 'object') return 'meta';
  if (!isInt(meta.formatVersion)) return 'meta.formatVersion';
  if (typeof meta.rulesVersion !== 'string') return 'meta.rulesVersion';
  if (typeof meta.takenAtEventMs !== 'number' || typeof meta.takenAtWallMs !== 'number') return 'meta.takenAt';
  const offsets = meta.offsets as Record<string, unknown> | null;
  if (offsets === null || typeof offsets !== 'object') return 'meta.offsets';
  for (const s of STREAMS) if (!isInt(offsets[s]) || (offsets[s] as number) < 0) return `meta.offsets.${s}`;
  return null;
}
