/**
 * A segment of the checkpoint chain as a restore reads it (the format:
 * segment.ts): frame by frame, each frame's lines applied to the running
 * item tables in order, the items kept as their JSON text until the state is
 * built. A restore inflates the frames on libuv's pool ahead of the one it
 * parses (applySegmentYielding); tests and benches read in one go (applySegment).
 */
import { inflateRaw, inflateRawSync } from 'node:zlib';
import { JsonText, type StoredItem } from '../../../util/item-delta.js';
import { drain } from '../../../util/yield.js';
import { PIECE_BYTES, SEGMENT_FORMAT, TABLES, type SegmentFigures, type TableName } from './segment.js';

/**
 * Frames inflating on the pool at once ahead of the frame a restore parses
 * (applySegmentYielding): inflate and parse overlap on 2 cores. Memory: that
 * many frames' JSON (about PIECE_BYTES each) besides the one parsed.
 */
const INFLATE_AHEAD = 3;

/** A segment's content as read: applied to the running tables in order. Items are kept as their JSON text (util/item-delta.ts StoredItem). */
export interface MergedItems {
  readonly attempts: Map<string, StoredItem>;
  readonly cards: Map<string, StoredItem>;
}

export const emptyItems = (): MergedItems => ({ attempts: new Map(), cards: new Map() });

const TABLE_OF: Record<string, TableName> = { a: 'attempts', c: 'cards' };

/** Reads one segment's lines into the tables, checking their order and counts. */
class SegmentReader {
  private header = false;
  private end: { readonly upserts?: unknown; readonly removes?: unknown } | null = null;
  private readonly full = new Map<TableName, boolean>();
  private upserts = 0;
  private removes = 0;
  private jsonBytes = 0;

  constructor(private readonly into: MergedItems, private readonly barrier: number) {}

  /** One frame's JSON (whole lines), line by line. */
  frame(text: Buffer): void {
    this.jsonBytes += text.length;
    for (let from = 0; from < text.length;) {
      let to = text.indexOf(0x0a, from);
      if (to < 0) to = text.length;
      if (to > from) this.line(text, from, to);
      from = to + 1;
    }
  }

  /** The line at bytes [from, to) of `buf` (a frame's JSON). */
  private line(buf: Buffer, from: number, to: number): void {
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
   * writes it: the tag and the key read, the item kept as its JSON text
   * (parsed only when the state is built, one at a time). Anything else is
   * parsed whole and checked as before.
   */
  private rawItem(buf: Buffer, from: number, to: number, what: () => string): void {
    // ["a","  — 6 bytes, then the key's characters up to its closing quote.
    const tag = buf[from + 2];
    let at = from + 6;
    let escaped = false;
    if (buf[from + 1] === 0x22 && (tag === 0x61 || tag === 0x63) && buf[from + 3] === 0x22 && buf[from + 4] === 0x2c && buf[from + 5] === 0x22) {
      for (; at < to && buf[at] !== 0x22; at++) {
        if (buf[at] === 0x5c) {
          escaped = true;
          at++;
        }
      }
    } else {
      at = to;
    }
    const next = buf[at + 1];
    if (at >= to || (next !== 0x2c && next !== 0x5d) || buf[to - 1] !== 0x5d) {
      this.item(JSON.parse(buf.toString('utf8', from, to)) as unknown[], what);
      return;
    }
    // Without a backslash the key's bytes are its text: no JSON.parse needed.
    const key = escaped ? (JSON.parse(buf.toString('utf8', from + 5, at + 1)) as string) : buf.toString('utf8', from + 6, at);
    const t = TABLE_OF[tag === 0x61 ? 'a' : 'c'];
    if (!this.full.has(t)) throw new Error(`${what()}: a line that is no item of a table begun`);
    if (next === 0x5d) {
      if (at + 2 !== to) throw new Error(`${what()}: a remove line with more after it`);
      this.into[t].delete(key);
      this.removes++;
    } else {
      // A string of its own (a copy, not a slice keeping the frame alive), parsed later straight from it (util/item-delta.ts StoredItem).
      this.into[t].set(key, new JsonText(buf.toString('utf8', at + 2, to - 1)));
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

  /** Throws unless the segment ended whole, with both tables, full ones where a base is due (`base`). */
  figures(base: boolean): SegmentFigures {
    const e = this.end;
    if (e === null || e.upserts !== this.upserts || e.removes !== this.removes) throw new Error(`segment ${this.barrier}: ${this.upserts} upserts and ${this.removes} removes read, its end line says ${JSON.stringify(e)}`);
    for (const t of TABLES) {
      if (!this.full.has(t)) throw new Error(`segment ${this.barrier}: no ${t} table`);
      if (base && !this.full.get(t)) throw new Error(`segment ${this.barrier}: the chain's base holds a delta of ${t}, not a base`);
    }
    return { upserts: this.upserts, removes: this.removes, jsonBytes: this.jsonBytes, base: TABLES.every((t) => this.full.get(t)) };
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

/**
 * applySegment, handing the event loop back (`pause`) after every frame: a
 * restore goes on heartbeating while it reads a large chain. The frames
 * inflate on libuv's pool, INFLATE_AHEAD ahead of the one parsed here.
 */
export async function applySegmentYielding(into: MergedItems, bytes: Buffer, barrier: number, base: boolean, pause: () => Promise<void>): Promise<SegmentFigures> {
  const r = new SegmentReader(into, barrier);
  for await (const text of inflatedAhead(bytes, barrier)) {
    r.frame(text);
    await pause();
  }
  return r.figures(base);
}

/** The segment's frames applied one by one, inflated here; yields after each (about PIECE_BYTES of JSON). */
function* applyFrames(into: MergedItems, bytes: Buffer, barrier: number, base: boolean): Generator<void, SegmentFigures> {
  const r = new SegmentReader(into, barrier);
  for (let at = 0; at < bytes.length;) {
    const f = frameAt(bytes, at, barrier);
    r.frame(inflateRawSync(f.body));
    at = f.next;
    yield;
  }
  return r.figures(base);
}

/** The frame at byte `at`: its deflated body and where the next begins; throws when the bytes there are no whole frame. */
function frameAt(bytes: Buffer, at: number, barrier: number): { body: Buffer; next: number } {
  if (at + 4 > bytes.length) throw new Error(`segment ${barrier}: a frame header is cut at byte ${at}`);
  const len = bytes.readUInt32BE(at);
  if (at + 4 + len > bytes.length) throw new Error(`segment ${barrier}: a frame of ${len} bytes at byte ${at} runs past the end`);
  return { body: bytes.subarray(at + 4, at + 4 + len), next: at + 4 + len };
}

/** One pass of zlib for a whole frame (its JSON is at most PIECE_BYTES), not 16 KiB round trips to the pool. */
const inflated = (body: Buffer): Promise<Buffer> =>
  new Promise<Buffer>((res, rej) => inflateRaw(body, { chunkSize: PIECE_BYTES }, (e, out) => (e ? rej(e) : res(out))));

/**
 * The segment's frames inflated, in order, INFLATE_AHEAD of them on the pool
 * while the caller parses the one before. A frame that is not whole, or does
 * not inflate, fails when the caller reaches it, as applyFrames does: an
 * earlier frame's own error comes first.
 */
async function* inflatedAhead(bytes: Buffer, barrier: number): AsyncGenerator<Buffer> {
  const ahead: Promise<Buffer>[] = [];
  let at = 0;
  const start = (): void => {
    let p: Promise<Buffer>;
    try {
      const f = frameAt(bytes, at, barrier);
      at = f.next;
      p = inflated(f.body);
    } catch (e) {
      // Nothing past a broken frame is read.
      at = bytes.length;
      p = Promise.reject(e as Error);
    }
    // Left behind when an earlier frame fails: not an unhandled rejection (the caller still gets it when it awaits it).
    p.catch(() => undefined);
    ahead.push(p);
  };
  while (at < bytes.length && ahead.length < INFLATE_AHEAD) start();
  while (ahead.length > 0) {
    const text = await ahead.shift()!;
    if (at < bytes.length) start();
    yield text;
  }
}
