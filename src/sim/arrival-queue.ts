/**
 * Records in flight, until their arrival time is reached. Bucketed by
 * arrival second; each bucket is sorted once, when released.
 *
 * The lines wait as bytes in a Buffer, with their metadata in typed arrays,
 * all outside the JS heap: every line waits up to a minute of simulated time,
 * so as strings they would all survive the young generation and be copied by
 * each scavenge (that copying was a third of the run time at 200 tps).
 */
import type { Stream } from '../events/index.js';
import type { SimRecord } from './types.js';

const STREAMS: readonly Stream[] = ['terminal', 'gateway', 'bank'];
const STREAM_CODE: Readonly<Record<Stream, number>> = { terminal: 0, gateway: 1, bank: 2 };
export const REDELIVERY = 4;
export const LATE = 8;
const RELEASED = 16;

// Node's latin1 fast paths skip the encoding dispatch of write()/toString(), which
// cost more than the copy itself here; they are not in @types/node, so fall back.
interface Latin1 {
  latin1Write?(s: string, offset: number): number;
  latin1Slice?(start: number, end: number): string;
}
const proto = Buffer.prototype as unknown as Latin1;
const writeLatin1: (b: Buffer, s: string, offset: number) => number = proto.latin1Write
  ? (b, str, offset) => (b as unknown as Required<Latin1>).latin1Write(str, offset)
  : (b, str, offset) => b.write(str, offset, 'latin1');
const readLatin1: (b: Buffer, start: number, end: number) => string = proto.latin1Slice
  ? (b, start, end) => (b as unknown as Required<Latin1>).latin1Slice(start, end)
  : (b, start, end) => b.toString('latin1', start, end);

class Bucket {
  n = 0;
  used = 0;
  bytes: Buffer;
  arrival: Float64Array;
  seq: Float64Array;
  trueMs: Float64Array;
  start: Int32Array;
  meta: Uint8Array;
  /** Kafka keys (terminal ids: shared strings, nothing copied). */
  keys: string[] = [];
  /** Reasons of the bad lines, by seq. */
  bad: Map<number, string> | null = null;

  /** Sized like the previous bucket, so it rarely has to grow. */
  constructor(bytes: number, entries: number) {
    this.bytes = Buffer.allocUnsafe(bytes);
    this.arrival = new Float64Array(entries);
    this.seq = new Float64Array(entries);
    this.trueMs = new Float64Array(entries);
    this.start = new Int32Array(entries);
    this.meta = new Uint8Array(entries);
  }

  add(arrivalMs: number, seq: number, trueMs: number, stream: Stream, flags: number, key: string, line: string, bad?: string): void {
    if (this.n === this.arrival.length) this.growIndex();
    // Lines are ASCII: one byte per character.
    const need = this.used + line.length;
    if (need > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    const i = this.n++;
    this.arrival[i] = arrivalMs;
    this.seq[i] = seq;
    this.trueMs[i] = trueMs;
    this.start[i] = this.used;
    this.meta[i] = STREAM_CODE[stream] | flags;
    this.keys.push(key);
    this.used += writeLatin1(this.bytes, line, this.used);
    if (bad !== undefined) (this.bad ??= new Map()).set(seq, bad);
  }

  private growIndex(): void {
    const size = this.arrival.length * 2;
    const grow64 = (a: Float64Array) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.arrival = grow64(this.arrival);
    this.seq = grow64(this.seq);
    this.trueMs = grow64(this.trueMs);
    const start = new Int32Array(size);
    start.set(this.start);
    this.start = start;
    const meta = new Uint8Array(size);
    meta.set(this.meta);
    this.meta = meta;
  }

  /** Indices of the unreleased entries, in (arrival, seq) order. */
  order(): Uint32Array {
    const idx = new Uint32Array(this.n);
    let k = 0;
    for (let i = 0; i < this.n; i++) if ((this.meta[i] & RELEASED) === 0) idx[k++] = i;
    const { arrival, seq } = this;
    return idx.subarray(0, k).sort((a, b) => arrival[a] - arrival[b] || seq[a] - seq[b]);
  }

  record(i: number): SimRecord {
    const end = i + 1 < this.n ? this.start[i + 1] : this.used;
    const meta = this.meta[i];
    const r: SimRecord = { stream: STREAMS[meta & 3], key: this.keys[i], arrivalMs: this.arrival[i], line: readLatin1(this.bytes, this.start[i], end), trueMs: this.trueMs[i] };
    const bad = this.bad?.get(this.seq[i]);
    if (bad !== undefined) r.bad = bad;
    if (meta & REDELIVERY) r.redelivery = true;
    if (meta & LATE) r.late = true;
    return r;
  }
}

export class ArrivalQueue {
  private readonly buckets = new Map<number, Bucket>();
  private next = 0;
  private maxIndex = -1;
  private hintBytes = 32 * 1024;
  private hintEntries = 128;
  size = 0;

  private readonly nearBuckets: number;

  constructor(private readonly baseMs: number, maxDelayMs: number, private readonly widthMs = 1_000) {
    this.nearBuckets = Math.ceil(maxDelayMs / widthMs) + 2;
  }

  private indexOf(ms: number): number {
    return Math.floor((ms - this.baseMs) / this.widthMs);
  }

  push(arrivalMs: number, seq: number, trueMs: number, stream: Stream, flags: number, key: string, line: string, bad?: string): void {
    // Never behind what was released: generation only emits at or after the current slice.
    const i = Math.max(this.indexOf(arrivalMs), this.next);
    let b = this.buckets.get(i);
    if (b === undefined) {
      // Buckets beyond the normal delay only hold the odd late event: start those small.
      const near = i - this.next <= this.nearBuckets;
      b = near ? new Bucket(this.hintBytes, this.hintEntries) : new Bucket(1024, 8);
      this.buckets.set(i, b);
    }
    b.add(arrivalMs, seq, trueMs, stream, flags, key, line, bad);
    if (i > this.maxIndex) this.maxIndex = i;
    this.size++;
  }

  /** Every record arriving before `beforeMs`, in (arrival, push order) order. */
  *release(beforeMs: number): Generator<SimRecord> {
    const whole = beforeMs === Infinity ? this.maxIndex + 1 : this.indexOf(beforeMs);
    for (; this.next < whole; this.next++) {
      const b = this.buckets.get(this.next);
      if (b === undefined) continue;
      this.buckets.delete(this.next);
      this.hintBytes = Math.max(4 * 1024, Math.ceil(b.used * 1.25));
      this.hintEntries = Math.max(16, Math.ceil(b.n * 1.25));
      const idx = b.order();
      this.size -= idx.length;
      for (let k = 0; k < idx.length; k++) yield b.record(idx[k]);
    }
    if (beforeMs === Infinity) return;
    // A slice that ends off the second grid (the last one) releases the head of its bucket.
    const b = this.buckets.get(whole);
    if (b === undefined) return;
    const idx = b.order();
    for (let k = 0; k < idx.length && b.arrival[idx[k]] < beforeMs; k++) {
      b.meta[idx[k]] |= RELEASED;
      this.size--;
      yield b.record(idx[k]);
    }
  }
}
