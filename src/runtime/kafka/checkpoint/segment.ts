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
 * frame by frame.
 *
 * Deflating inside the hold was a small part of it on real state: on the 1 h
 * recovery workload a base of ~400,000 items held the input 11.4 s deflating
 * inline and 10.3–10.8 s deferred (docs/benchmarks.md, "Recovery", session
 * 8). Handing frames to the pool during the hold did not pay on 2 cores
 * (bench/segment.ts, 200k items: 3.0–4.5 s against 2.1–2.6 s inline, the
 * pool's threads took the main thread's core); after it, they take the core
 * the input's processing leaves.
 */
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { itemJson, type ItemDelta, type StoredItem } from '../../../util/item-delta.js';
import { drain, drainYielding } from '../../../util/yield.js';

export const SEGMENT_FORMAT = 1;
/** JSON per frame. */
const PIECE_BYTES = 1 << 20;
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

/** A segment's content as read: applied to the running tables in order. Items are kept as their JSON bytes (util/item-delta.ts StoredItem). */
export interface MergedItems {
  readonly attempts: Map<string, StoredItem>;
  readonly cards: Map<string, StoredItem>;
}

export const emptyItems = (): MergedItems => ({ attempts: new Map(), cards: new Map() });

const TABLES: readonly TableName[] = ['attempts', 'cards'];
const TABLE_OF: Record<string, TableName> = { a: 'attempts', c: 'cards' };

/** Reads one segment's lines into the tables, checking their order and counts. */
class SegmentReader {
  private header = false;
  private end: { readonly upserts?: unknown; readonly removes?: unknown } | null = null;
  private readonly full = new Map<TableName, boolean>();
  upserts = 0;
  removes = 0;

  constructor(private readonly into: MergedItems, private readonly barrier: number) {}

  /** The line at bytes [from, to) of `buf` (a frame's JSON). */
  line(buf: Buffer, from: number, to: number): void {
    const what = (): string => `segment ${this.barrier}: ${buf.toString('utf8', from, Math.min(to, from + 120))}`;
    if (this.end !== null) throw new Error(`segment ${this.barrier}: lines after its end line`);
    if (this.header && buf[from] === 0x5b /* [ */) {
      this.rawItem(buf, from, to, what);
      return;
    }
    const line = JSON.parse(buf.toString('utf8', from, to)) as unknown;
    if (!this.header) {
      const h = line as { v?: unknown; barrier?: unknown } | null;
      if (h === null || h.v !== SEGMENT_FORMAT || h.barrier !== this.barrier) throw new Error(`${what()}: not the header of a segment of format ${SEGMENT_FORMAT}, barrier ${this.barrier}`);
      this.header = true;
    } else if (Array.isArray(line)) {
      this.item(line, what);
    } else if (line !== null && typeof line === 'object' && 'table' in line) {
      const t = TABLE_OF[(line as { table: string }).table];
      const full = (line as { full?: unknown }).full;
      if (t === undefined || typeof full !== 'boolean' || this.full.has(t)) throw new Error(`${what()}: a table line that does not fit`);
      this.full.set(t, full);
      // A full capture is the whole table: what the chain had before goes.
      if (full) this.into[t].clear();
    } else {
      this.end = line as { upserts?: unknown; removes?: unknown };
    }
  }

  /**
   * An item line, `["a"|"c",KEY,ITEM]` or `["a"|"c",KEY]`, as the encoder
   * writes it: the tag and the key parsed, the item kept as its bytes (parsed
   * only when the state is built, one at a time). Anything else is parsed
   * whole and checked as before.
   */
  private rawItem(buf: Buffer, from: number, to: number, what: () => string): void {
    // ["a","  — 6 bytes, then the key's characters up to its closing quote.
    const tag = buf[from + 2];
    let at = from + 6;
    if (buf[from + 1] === 0x22 && (tag === 0x61 || tag === 0x63) && buf[from + 3] === 0x22 && buf[from + 4] === 0x2c && buf[from + 5] === 0x22) {
      while (at < to && buf[at] !== 0x22) at += buf[at] === 0x5c ? 2 : 1;
    } else {
      at = to;
    }
    const next = buf[at + 1];
    if (at >= to || (next !== 0x2c && next !== 0x5d) || buf[to - 1] !== 0x5d) {
      this.item(JSON.parse(buf.toString('utf8', from, to)) as unknown[], what);
      return;
    }
    const key = JSON.parse(buf.toString('utf8', from + 5, at + 1)) as string;
    const t = TABLE_OF[tag === 0x61 ? 'a' : 'c'];
    if (!this.full.has(t)) throw new Error(`${what()}: a line that is no item of a table begun`);
    if (next === 0x5d) {
      if (at + 2 !== to) throw new Error(`${what()}: a remove line with more after it`);
      this.into[t].delete(key);
      this.removes++;
    } else {
      // Its own copy: a slice would keep the whole frame alive.
      this.into[t].set(key, Buffer.from(buf.subarray(at + 2, to - 1)));
      this.upserts++;
    }
  }

  private item(line: unknown[], what: () => string): void {
    const t = TABLE_OF[line[0] as string];
    if (t === undefined || !this.full.has(t) || typeof line[1] !== 'string' || line.length < 2 || line.length > 3) throw new Error(`${what()}: a line that is no item of a table begun`);
    if (line.length === 3) {
      this.into[t].set(line[1], line[2]);
      this.upserts++;
    } else {
      this.into[t].delete(line[1]);
      this.removes++;
    }
  }

  /** Throws unless the segment ended whole, with both tables, full ones where a base is due. True: it is a base. */
  done(base: boolean): boolean {
    const e = this.end;
    if (e === null || e.upserts !== this.upserts || e.removes !== this.removes) throw new Error(`segment ${this.barrier}: ${this.upserts} upserts and ${this.removes} removes read, its end line says ${JSON.stringify(e)}`);
    for (const t of TABLES) {
      if (!this.full.has(t)) throw new Error(`segment ${this.barrier}: no ${t} table`);
      if (base && !this.full.get(t)) throw new Error(`segment ${this.barrier}: the chain's base holds a delta of ${t}, not a base`);
    }
    return TABLES.every((t) => this.full.get(t));
  }
}

/**
 * Applies one segment to `into`: a full table replaces what was there,
 * upserts overwrite, removes delete. Throws, saying what is wrong, on
 * anything but a whole segment of `barrier` (a base: every table full).
 * Memory: one frame's JSON.
 */
export function applySegment(into: MergedItems, bytes: Buffer, barrier: number, base: boolean): SegmentFigures {
  return drain(applyFrames(into, bytes, barrier, base));
}

/** applySegment, handing the event loop back (`pause`) after every frame: a restore goes on heartbeating while it reads a large chain. */
export async function applySegmentYielding(into: MergedItems, bytes: Buffer, barrier: number, base: boolean, pause: () => Promise<void>): Promise<SegmentFigures> {
  const frames = applyFrames(into, bytes, barrier, base);
  for (;;) {
    const r = frames.next();
    if (r.done === true) return r.value;
    await pause();
  }
}

/** The segment's frames applied one by one; yields after each (about PIECE_BYTES of JSON). */
function* applyFrames(into: MergedItems, bytes: Buffer, barrier: number, base: boolean): Generator<void, SegmentFigures> {
  const r = new SegmentReader(into, barrier);
  let jsonBytes = 0;
  for (let at = 0; at < bytes.length;) {
    if (at + 4 > bytes.length) throw new Error(`segment ${barrier}: a frame header is cut at byte ${at}`);
    const len = bytes.readUInt32BE(at);
    if (at + 4 + len > bytes.length) throw new Error(`segment ${barrier}: a frame of ${len} bytes at byte ${at} runs past the end`);
    const text = inflateRawSync(bytes.subarray(at + 4, at + 4 + len));
    jsonBytes += text.length;
    at += 4 + len;
    for (let from = 0; from < text.length;) {
      let to = text.indexOf(0x0a, from);
      if (to < 0) to = text.length;
      if (to > from) r.line(text, from, to);
      from = to + 1;
    }
    yield;
  }
  const isBase = r.done(base);
  return { upserts: r.upserts, removes: r.removes, jsonBytes, base: isBase };
}
