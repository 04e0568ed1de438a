/**
 * The numbers of a skeleton (issue 13, STATE_FORMAT 2) as two packed columns
 * instead of nested JSON arrays: doubles (times, watermarks; NaN and
 * ±Infinity kept as they are) as little-endian Float64 in base64, and small
 * non-negative integers (attempt sids, counts, sequence numbers) as Uint32 in
 * base64; strings go in a JSON array. Written and read in the same order.
 * Why: a skeleton names every open attempt several times (both indexes, the
 * timer heap); a uint32 costs 5.3 base64 characters, a sid in JSON ~7, a
 * time ~14 (measured: bench/checkpoint-state.ts).
 */
import { endianness } from 'node:os';

/** Platform byte order is little-endian on every x86 and ARM host; others convert. */
const LITTLE_ENDIAN = endianness() === 'LE';
/** In the uint column: the value is the next double (an integer of 2^32 - 1 or more: sids of a long-lived process). */
const WIDE = 0xffff_ffff;

export interface Packed {
  f: string;
  u: string;
  s: string[];
}

export class PackWriter {
  // Growable typed arrays: no boxing, and done() encodes a view instead of copying a JS array.
  private f = new Float64Array(1024);
  private u = new Uint32Array(4096);
  private fn = 0;
  private un = 0;
  private readonly s: string[] = [];

  num(x: number): void {
    if (this.fn === this.f.length) this.f = grow(this.f, new Float64Array(2 * this.fn));
    this.f[this.fn++] = x;
  }

  /** A non-negative integer (5.3 base64 characters below 2^32 - 1, 16 above). */
  uint(x: number): void {
    if (!(x < WIDE && x >= 0 && Number.isInteger(x))) {
      if (!(Number.isSafeInteger(x) && x >= 0)) throw new Error(`packed state: ${x} is not a non-negative integer`);
      this.num(x);
      x = WIDE;
    }
    if (this.un === this.u.length) this.u = grow(this.u, new Uint32Array(2 * this.un));
    this.u[this.un++] = x;
  }

  str(x: string): void {
    this.s.push(x);
  }

  done(): Packed {
    return { f: toBase64(this.f.subarray(0, this.fn)), u: toBase64(this.u.subarray(0, this.un)), s: this.s };
  }
}

function grow<A extends Float64Array | Uint32Array>(from: A, to: A): A {
  to.set(from);
  return to;
}

export class PackReader {
  private readonly f: Float64Array;
  private readonly u: Uint32Array;
  private readonly s: readonly string[];
  private fi = 0;
  private ui = 0;
  private si = 0;

  constructor(p: Packed) {
    if (typeof p?.f !== 'string' || typeof p.u !== 'string' || !Array.isArray(p.s)) throw new Error('packed state: not a packed record');
    this.f = fromBase64(p.f, 8, (b) => new Float64Array(b), (v, i) => v.readDoubleLE(i)) as Float64Array;
    this.u = fromBase64(p.u, 4, (b) => new Uint32Array(b), (v, i) => v.readUInt32LE(i)) as Uint32Array;
    this.s = p.s;
  }

  num(): number {
    if (this.fi >= this.f.length) throw new Error('packed state: fewer numbers than the state holds');
    return this.f[this.fi++];
  }

  uint(): number {
    if (this.ui >= this.u.length) throw new Error('packed state: fewer integers than the state holds');
    const x = this.u[this.ui++];
    return x === WIDE ? this.num() : x;
  }

  str(): string {
    const x = this.s[this.si++];
    if (typeof x !== 'string') throw new Error('packed state: fewer strings than the state holds');
    return x;
  }

  /** Throws unless everything was read. */
  checkEnd(): void {
    if (this.fi !== this.f.length || this.ui !== this.u.length || this.si !== this.s.length) throw new Error('packed state: values left over');
  }
}

function toBase64(a: Float64Array | Uint32Array): string {
  if (LITTLE_ENDIAN) return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  const b = Buffer.alloc(a.byteLength);
  a.forEach((x, i) => (a instanceof Float64Array ? b.writeDoubleLE(x, i * 8) : b.writeUInt32LE(x, i * 4)));
  return b.toString('base64');
}

function fromBase64(text: string, size: number, make: (b: ArrayBuffer) => Float64Array | Uint32Array, read: (b: Buffer, at: number) => number): Float64Array | Uint32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % size !== 0) throw new Error(`packed state: ${bytes.length} bytes is not a whole number of ${size}-byte values`);
  const out = make(new ArrayBuffer(bytes.length));
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
  else for (let i = 0; i < out.length; i++) out[i] = read(bytes, i * size);
  return out;
}

/** Base64 of a number array's first `len` doubles (an attempt's packed numbers). */
export function doublesToBase64(n: readonly number[], len: number, scratch: { buf: Float64Array }): string {
  if (scratch.buf.length < len) scratch.buf = new Float64Array(Math.max(len, 2 * scratch.buf.length));
  const buf = scratch.buf;
  for (let i = 0; i < len; i++) buf[i] = n[i];
  return toBase64(buf.subarray(0, len));
}

/** The doubles of doublesToBase64 (`len` of them), as a packed array with room for `cap` (NaN beyond them). */
export function doublesFromBase64(text: string, cap: number): { n: number[]; len: number } {
  const v = fromBase64(text, 8, (b) => new Float64Array(b), (b, i) => b.readDoubleLE(i));
  if (cap < v.length) throw new Error(`attempt item: room ${cap} below its ${v.length} numbers`);
  // Pushed one by one: the array stays packed doubles, as LiveAttempt keeps it.
  const n: number[] = [];
  for (let i = 0; i < cap; i++) n.push(i < v.length ? v[i] : NaN);
  return { n, len: v.length };
}
