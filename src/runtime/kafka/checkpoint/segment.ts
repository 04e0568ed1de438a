/**
 * A segment of the checkpoint chain (STATE_FORMAT 2, docs/kafka.md
 * "Checkpoints"): one barrier's item deltas (the `attempts` and `cards`
 * tables), as JSON lines in deflated frames.
 *
 *   frame := u32 (big-endian) length, then deflate-raw of whole JSON lines (about PIECE_BYTES of them)
 *   lines := {"v":1,"barrier":N,"full":bool} | ["a"|"c", key, item] (upsert) | ["a"|"c", key] (remove) | {"end":true,"upserts":u,"removes":r}
 *
 * Written streamed: items one by one into lines written straight into a
 * frame buffer, cut every PIECE_BYTES of JSON (never one giant string).
 * Frames deflate on libuv's pool while the barrier goes on, up to
 * ASYNC_BUDGET_BYTES of JSON per segment; past that they deflate inline, so
 * the JSON waiting for the pool stays bounded. Memory: that budget plus the
 * compressed frames until the segment is written. Read frame by frame.
 *
 * The pool pays only with cores to spare: on a 2-core machine under load
 * (bench/segment.ts, 200k items, 104 MB JSON) a base held the input 2.1–2.6 s
 * deflating inline and 3.0–4.5 s handing frames to the pool, whose threads
 * took the main thread's core. So the budget is 0 below 4 cores.
 */
import { availableParallelism } from 'node:os';
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ItemDelta } from '../../../util/item-delta.js';

export const SEGMENT_FORMAT = 1;
/** JSON per frame. */
const PIECE_BYTES = 1 << 20;
/** JSON of one segment handed to the thread pool; the rest deflates on the main thread (bounded memory). 0 below 4 cores (above). */
const ASYNC_BUDGET_BYTES = availableParallelism() >= 4 ? 64 << 20 : 0;
/** zlib level 1, as the records (state.ts). */
const LEVEL = 1;

export type TableName = 'attempts' | 'cards';
const TAG: Record<TableName, string> = { attempts: 'a', cards: 'c' };

export interface ItemTables {
  readonly attempts: ItemDelta;
  readonly cards: ItemDelta;
}

export interface SegmentFigures {
  readonly upserts: number;
  readonly removes: number;
  /** JSON bytes before compression. */
  readonly jsonBytes: number;
}

export class SegmentEncoder {
  /** The frame being filled: lines are written straight into it (no joined string, no copy). */
  private piece = Buffer.allocUnsafe(PIECE_BYTES);
  private at = 0;
  private asyncBytes = 0;
  private readonly frames: (Buffer | Promise<Buffer>)[] = [];
  private upserts = 0;
  private removes = 0;
  private jsonBytes = 0;
  private finished = false;

  constructor(readonly barrier: number, readonly full: boolean) {
    this.line(JSON.stringify({ v: SEGMENT_FORMAT, barrier, full }));
  }

  /** Consumes one table's capture now (synchronously: inside the barrier). */
  table(name: TableName, d: ItemDelta): void {
    if (d.full !== this.full) throw new Error(`segment ${this.barrier}: the ${name} capture is ${d.full ? 'full' : 'a delta'}, the segment ${this.full ? 'a base' : 'a delta'}`);
    const tag = TAG[name];
    for (const [key, item] of d.upserts) {
      this.line(JSON.stringify([tag, key, item]));
      this.upserts++;
    }
    for (const key of d.removes) this.line(JSON.stringify([tag, key]));
    this.removes += d.removes.length;
  }

  /** Ends the segment: its figures, and its bytes as frames (awaited in order by the writer). */
  finish(): { figures: SegmentFigures; frames: () => AsyncIterable<Buffer> } {
    if (this.finished) throw new Error(`segment ${this.barrier}: finished twice`);
    this.finished = true;
    this.line(JSON.stringify({ end: true, upserts: this.upserts, removes: this.removes }));
    this.cut();
    const frames = this.frames;
    return {
      figures: { upserts: this.upserts, removes: this.removes, jsonBytes: this.jsonBytes },
      frames: async function* () {
        for (const f of frames) {
          const body = await f;
          const head = Buffer.alloc(4);
          head.writeUInt32BE(body.length);
          yield head;
          yield body;
        }
      },
    };
  }

  private line(json: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for that, or cut first.
    const most = json.length * 3 + 1;
    if (this.at + most > this.piece.length) {
      this.cut();
      // A line larger than a frame gets a frame of its own size.
      if (most > this.piece.length) this.piece = Buffer.allocUnsafe(most);
    }
    this.at += this.piece.write(json, this.at, 'utf8');
    this.piece[this.at++] = 0x0a;
  }

  private cut(): void {
    if (this.at === 0) return;
    const json = this.piece.subarray(0, this.at);
    this.piece = Buffer.allocUnsafe(PIECE_BYTES);
    this.at = 0;
    this.jsonBytes += json.length;
    if (this.asyncBytes + json.length <= ASYNC_BUDGET_BYTES) {
      this.asyncBytes += json.length;
      this.frames.push(new Promise<Buffer>((res, rej) => deflateRaw(json, { level: LEVEL }, (e, out) => (e ? rej(e) : res(out)))));
    } else {
      this.frames.push(deflateRawSync(json, { level: LEVEL }));
    }
  }
}

/** A segment's content as read: applied to the running tables in order. */
export interface MergedItems {
  readonly attempts: Map<string, unknown>;
  readonly cards: Map<string, unknown>;
}

export const emptyItems = (): MergedItems => ({ attempts: new Map(), cards: new Map() });

const TABLE_OF: Record<string, TableName> = { a: 'attempts', c: 'cards' };

interface Header { readonly v?: unknown; readonly barrier?: unknown; readonly full?: unknown }
interface End { readonly upserts?: unknown; readonly removes?: unknown }

/**
 * Applies one segment to `into` (upserts overwrite, removes delete). Throws,
 * saying what is wrong, on anything but a whole segment of `barrier` of the
 * expected kind (a base clears the tables first). Memory: one frame's JSON.
 */
export function applySegment(into: MergedItems, bytes: Buffer, barrier: number, base: boolean): SegmentFigures {
  let header = null as Header | null;
  let end = null as End | null;
  let upserts = 0;
  let removes = 0;
  let jsonBytes = 0;
  for (let at = 0; at < bytes.length;) {
    if (end !== null) throw new Error(`segment ${barrier}: bytes after its end line`);
    if (at + 4 > bytes.length) throw new Error(`segment ${barrier}: a frame header is cut at byte ${at}`);
    const len = bytes.readUInt32BE(at);
    if (at + 4 + len > bytes.length) throw new Error(`segment ${barrier}: a frame of ${len} bytes at byte ${at} runs past the end`);
    const text = inflateRawSync(bytes.subarray(at + 4, at + 4 + len)).toString('utf8');
    jsonBytes += text.length;
    at += 4 + len;
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      const line = JSON.parse(raw) as unknown;
      if (header === null) {
        header = line as Header | null;
        if (header === null || header.v !== SEGMENT_FORMAT || header.barrier !== barrier || header.full !== base) {
          throw new Error(`segment ${barrier}: header ${raw.slice(0, 120)}, expected format ${SEGMENT_FORMAT}, barrier ${barrier}, ${base ? 'a base' : 'a delta'}`);
        }
        if (base) {
          into.attempts.clear();
          into.cards.clear();
        }
        continue;
      }
      if (!Array.isArray(line)) {
        end = line as End;
        continue;
      }
      const table = TABLE_OF[line[0] as string];
      if (table === undefined || typeof line[1] !== 'string' || line.length < 2 || line.length > 3) throw new Error(`segment ${barrier}: a line that is no item: ${raw.slice(0, 120)}`);
      if (line.length === 3) {
        into[table].set(line[1], line[2]);
        upserts++;
      } else {
        into[table].delete(line[1]);
        removes++;
      }
    }
  }
  if (end === null || end.upserts !== upserts || end.removes !== removes) throw new Error(`segment ${barrier}: ${upserts} upserts and ${removes} removes read, its end line says ${JSON.stringify(end)}`);
  return { upserts, removes, jsonBytes };
}
