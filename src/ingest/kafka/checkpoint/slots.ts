/**
 * Which checkpoint of a key is usable, from the latest record of each of its
 * record keys (what a scan of the state topic found, what compaction keeps).
 * Pure: the store and the tests call it on records they hold.
 *
 * A slot is usable when its manifest reads, names this key and slot, and every
 * chunk it names is there, belongs to the manifest's sequence number and the
 * whole matches its length and sha256; then its format and rules must match
 * the reader's. The newest usable slot wins; newer ones are reported with why
 * they were passed over.
 */
import type { Checkpoint, CheckpointExpectation, CheckpointKey, CheckpointRejection, ReadLatestResult } from '../../checkpoint-store.js';
import { decodeManifest, sha256, SLOTS, type Manifest, type Slot } from './format.js';

export interface ChunkRecord {
  /** From the chunk's header; null when absent or unreadable. */
  readonly seq: number | null;
  readonly value: Buffer;
  /** The state topic's offset it was read at (absent in tests that build records by hand). */
  readonly offset?: number;
}

export interface SlotRecords {
  manifest: Buffer | null;
  readonly chunks: Map<number, ChunkRecord>;
}

export type KeyRecords = Record<Slot, SlotRecords>;

export function emptyKeyRecords(): KeyRecords {
  return { a: { manifest: null, chunks: new Map() }, b: { manifest: null, chunks: new Map() } };
}

/** What a writer must know before writing a key: where the latest complete checkpoint is, and what to clean. */
export interface WriterState {
  /** Highest sequence number seen in a readable manifest (0: none). */
  maxSeq: number;
  /** Slot of the newest complete checkpoint (whatever its format or rules), or null. */
  completeSlot: Slot | null;
  /** Per slot, one past the highest chunk index present: indices a new checkpoint there must overwrite or delete. */
  readonly chunkSpan: Record<Slot, number>;
}

type Assembled =
  | { readonly ok: true; readonly manifest: Manifest; readonly payload: Buffer; readonly offset: number | null }
  | { readonly ok: false; readonly rejection: CheckpointRejection };

const corrupt = (detail: string, seq: number | null): Assembled => ({ ok: false, rejection: { reason: 'corrupt', detail, seq } });

/** The payload of one slot, verified, or why it cannot be had. */
export function assemble(key: CheckpointKey, slot: Slot, rec: SlotRecords): Assembled | null {
  if (rec.manifest === null) return null;
  const d = decodeManifest(rec.manifest);
  if (!d.ok) return { ok: false, rejection: { reason: d.reason, detail: `slot ${slot}: ${d.detail}`, seq: d.seq } };
  const m = d.manifest;
  if (m.group !== key.group || m.partition !== key.partition || m.slot !== slot) {
    return corrupt(`slot ${slot}: the manifest names ${m.group}/${m.partition}/${m.slot}`, m.seq);
  }
  const parts: Buffer[] = [];
  for (let i = 0; i < m.chunks; i++) {
    const c = rec.chunks.get(i);
    if (c === undefined) return corrupt(`slot ${slot}, checkpoint ${m.seq}: chunk ${i} of ${m.chunks} is missing`, m.seq);
    if (c.seq !== m.seq) return corrupt(`slot ${slot}, checkpoint ${m.seq}: chunk ${i} of ${m.chunks} belongs to checkpoint ${c.seq ?? '?'} (a later write did not complete)`, m.seq);
    parts.push(c.value);
  }
  const payload = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  if (payload.length !== m.bytes) return corrupt(`slot ${slot}, checkpoint ${m.seq}: ${payload.length} bytes, the manifest says ${m.bytes}`, m.seq);
  if (sha256(payload) !== m.sha256) return corrupt(`slot ${slot}, checkpoint ${m.seq}: the sha256 of the chunks does not match the manifest`, m.seq);
  return { ok: true, manifest: m, payload, offset: rec.chunks.get(0)?.offset ?? null };
}

function mismatch(m: Manifest, expect: CheckpointExpectation): CheckpointRejection | null {
  if (m.meta.formatVersion !== expect.formatVersion) {
    return { reason: 'incompatible_format', detail: `checkpoint ${m.seq}: state format ${m.meta.formatVersion}, this posguard reads ${expect.formatVersion}`, seq: m.seq };
  }
  if (m.meta.rulesVersion !== expect.rulesVersion) {
    return { reason: 'different_rules', detail: `checkpoint ${m.seq}: taken under rules ${m.meta.rulesVersion}, the rules now are ${expect.rulesVersion}`, seq: m.seq };
  }
  return null;
}

const seqOf = (a: Assembled): number => (a.ok ? a.manifest.seq : (a.rejection.seq ?? -1));

/** The newest usable checkpoint of `key`, and what the writer needs to know. */
export function chooseLatest(key: CheckpointKey, records: KeyRecords, expect: CheckpointExpectation): { result: ReadLatestResult; writer: WriterState } {
  const candidates: { slot: Slot; a: Assembled }[] = [];
  for (const slot of SLOTS) {
    const a = assemble(key, slot, records[slot]);
    if (a !== null) candidates.push({ slot, a });
  }
  candidates.sort((x, y) => seqOf(y.a) - seqOf(x.a));
  const writer = writerState(records, candidates);
  const skipped: CheckpointRejection[] = [];
  const usable: Checkpoint[] = [];
  for (const { a } of candidates) {
    const rejection = a.ok ? mismatch(a.manifest, expect) : a.rejection;
    if (rejection !== null) {
      if (usable.length === 0) skipped.push(rejection);
      continue;
    }
    if (a.ok) usable.push({ key, meta: a.manifest.meta, payload: a.payload, seq: a.manifest.seq, offset: a.offset });
  }
  if (usable.length > 0) return { result: { ok: true, checkpoint: usable[0], previous: usable[1] ?? null, skipped }, writer };
  if (skipped.length > 0) return { result: { ok: false, reason: skipped[0].reason, detail: skipped[0].detail, skipped }, writer };
  const stray = records.a.chunks.size + records.b.chunks.size;
  const detail = stray > 0 ? `no manifest, ${stray} chunk(s) of a write that did not complete` : 'no checkpoint written for this key';
  return { result: { ok: false, reason: 'missing', detail, skipped }, writer };
}

function writerState(records: KeyRecords, candidates: readonly { slot: Slot; a: Assembled }[]): WriterState {
  const span = (slot: Slot): number => {
    let n = 0;
    for (const i of records[slot].chunks.keys()) n = Math.max(n, i + 1);
    return n;
  };
  const complete = candidates.find((c) => c.a.ok);
  return {
    maxSeq: candidates.reduce((m, c) => Math.max(m, seqOf(c.a)), 0),
    completeSlot: complete?.slot ?? null,
    chunkSpan: { a: span('a'), b: span('b') },
  };
}
