/**
 * A segment of the checkpoint chain (STATE_FORMAT 2, docs/kafka.md
 * "Checkpoints"): one barrier's captures of the `attempts` and `cards`
 * tables, each full or a delta, as JSON lines in deflated frames.
 *
 *   frame := u32 (big-endian) length, then deflate-raw of whole JSON lines (about PIECE_BYTES of them)
 *   lines := {"v":1,"barrier":N}, then per table {"table":"a"|"c","full":bool} and its items:
 *            ["a"|"c", key, item] (upsert) | ["a"|"c", key] (remove); last {"end":true,"upserts":u,"removes":r}
 *
 * Fullness is per table: a part may answer a full capture where a delta was
 * asked for (the card tracker after an overflow), which resets that table
 * alone in the merge. A segment is a base when every table in it is full.
 *
 * Written streamed: items one by one into lines written straight into a
 * frame buffer, cut every PIECE_BYTES of JSON (never one giant string).
 * While the barrier holds the input, frames are only cut: each is deflated
 * after the hold, on libuv's pool, DEFLATE_AHEAD at a time as the writer
 * takes them, while the records flow again (the hold pays for encoding
 * alone). Up to DEFERRED_BUDGET_BYTES of JSON per segment wait that way;
 * past it frames deflate inline, inside the hold, so memory stays bounded:
 * that budget plus the compressed frames until the segment is written. Read
 * frame by frame (segment-read.ts).
 *
 * Deflating inside the hold was a small part of it on real state: on the 1 h
 * recovery workload a base of ~400,000 items held the input 11.4 s deflating
 * inline and 10.3–10.8 s deferred (docs/benchmarks.md, "Recovery", session
 * 8). Handing frames to the pool during the hold did not pay on 2 cores
 * (bench/segment.ts, 200k items: 3.0–4.5 s against 2.1–2.6 s inline, the
 * pool's threads took the main thread's core); after it, they take the core
 * the input's processing leaves.
 */
import { deflateRaw, deflateRawSync } from 'node:zlib';
import { itemJson, type ItemDelta } from '../../../util/item-delta.js';
import { drainYielding } from '../../../util/yield.js';

export const SEGMENT_FORMAT = 1;
/** JSON per frame. */
export const PIECE_BYTES = 1 << 20;
/** JSON of one segment kept undeflated until the hold ends (bounded memory: the rest deflates inline, held). */
export const DEFERRED_BUDGET_BYTES = 512 << 20;
/** Frames deflating on the pool at once while the writer takes them (libuv's pool has 4 threads). */
const DEFLATE_AHEAD = 2;
/** Work between two hand-backs of the event loop while a table is encoded (tableYielding). */
const SLICE_MS = 20;
/** Items between two looks at the clock (an item takes ~3–30 µs). */
const ITEMS_PER_STEP = 64;
/** zlib level 1, as the records (state.ts). */
const LEVEL = 1;

export type TableName = 'attempts' | 'cards';
const TAG: Record<TableName, string> = { attempts: 'a', cards: 'c' };
export const TABLES: readonly TableName[] = ['attempts', 'cards'];

export interface ItemTables {
  readonly attempts: ItemDelta;
  readonly cards: ItemDelta;
}

export interface SegmentFigures {
  readonly upserts: number;
  readonly removes: number;
  /** JSON bytes before compression. */
  readonly jsonBytes: number;
  /** Every table full: a base. */
  readonly base: boolean;
}

export class SegmentEncoder {
  /** The frame being filled: lines are written straight into it (no joined string, no copy). */
  private piece = Buffer.allocUnsafe(PIECE_BYTES);
  private at = 0;
  private deferredBytes = 0;
  /** Deflated frames, and (`json`) frames still to deflate after the hold. */
  private readonly frames: (Buffer | { readonly json: Buffer })[] = [];
  private upserts = 0;
  private removes = 0;
  private jsonBytes = 0;
  private readonly full = new Map<TableName, boolean>();
  private finished = false;

  constructor(readonly barrier: number, private readonly deferredBudgetBytes = DEFERRED_BUDGET_BYTES) {
    this.line(JSON.stringify({ v: SEGMENT_FORMAT, barrier }));
  }

  /** Consumes one table's capture now, in one go (tests, benches). */
  table(name: TableName, d: ItemDelta): void {
    for (const _ of this.lines(name, d));
  }

  /**
   * Consumes one table's capture, handing the event loop back (`pause`)
   * after every SLICE_MS of work: a base of a few hundred thousand items
   * takes seconds, and the process must go on heartbeating, answering
   * scrapes and completing inserts meanwhile. The caller keeps the state
   * still until this resolves (the input held, the time-driven work
   * skipped): the items are encoded as they are reached.
   */
  async tableYielding(name: TableName, d: ItemDelta, pause: () => Promise<void>): Promise<void> {
    await drainYielding(this.lines(name, d), pause, SLICE_MS);
  }

  /** Writes the table's lines; yields every ITEMS_PER_STEP items (a point where the writer may pause). */
  private *lines(name: TableName, d: ItemDelta): Generator<void> {
    if (this.full.has(name)) throw new Error(`segment ${this.barrier}: the ${name} table twice`);
    this.full.set(name, d.full);
    const tag = TAG[name];
    this.line(JSON.stringify({ table: tag, full: d.full }));
    let step = 0;
    for (const [key, item] of d.upserts) {
      this.line(`["${tag}",${JSON.stringify(key)},${itemJson(item)}]`);
      this.upserts++;
      if (++step === ITEMS_PER_STEP) {
        step = 0;
        yield;
      }
    }
    for (const key of d.removes) this.line(JSON.stringify([tag, key]));
    this.removes += d.removes.length;
  }

  /** Ends the segment: its figures, and its bytes as frames (taken once, in order, by the writer; deferred frames deflate as it takes them). */
  finish(): { figures: SegmentFigures; frames: () => AsyncIterable<Buffer> } {
    if (this.finished) throw new Error(`segment ${this.barrier}: finished twice`);
    this.finished = true;
    this.line(JSON.stringify({ end: true, upserts: this.upserts, removes: this.removes }));
    this.cut();
    const frames = this.frames;
    const base = TABLES.every((t) => this.full.get(t) === true);
    let taken = false;
    return {
      figures: { upserts: this.upserts, removes: this.removes, jsonBytes: this.jsonBytes, base },
      // Once: the frames' JSON is let go as it deflates.
      frames: () => {
        if (taken) throw new Error(`segment ${this.barrier}: its frames taken twice`);
        taken = true;
        return deflatedInOrder(frames);
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
    if (this.deferredBytes + json.length <= this.deferredBudgetBytes) {
      this.deferredBytes += json.length;
      this.frames.push({ json });
    } else {
      this.frames.push(deflateRawSync(json, { level: LEVEL }));
    }
  }
}

const deflated = (json: Buffer): Promise<Buffer> =>
  new Promise<Buffer>((res, rej) => deflateRaw(json, { level: LEVEL }, (e, out) => (e ? rej(e) : res(out))));

/**
 * The frames as written (length-prefixed), deflating the deferred ones on the
 * pool DEFLATE_AHEAD ahead of the writer; each frame's JSON is let go once
 * deflated.
 */
async function* deflatedInOrder(frames: (Buffer | { readonly json: Buffer })[]): AsyncGenerator<Buffer> {
  const ahead: Promise<Buffer>[] = [];
  let next = 0;
  const start = () => {
    const f = frames[next];
    // Let go of the JSON as soon as its deflate has it.
    frames[next++] = EMPTY;
    ahead.push(Buffer.isBuffer(f) ? Promise.resolve(f) : deflated(f.json));
  };
  while (next < frames.length && ahead.length < DEFLATE_AHEAD) start();
  while (ahead.length > 0) {
    const body = await ahead.shift()!;
    if (next < frames.length) start();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    yield head;
    yield body;
  }
}

const EMPTY = Buffer.alloc(0);
