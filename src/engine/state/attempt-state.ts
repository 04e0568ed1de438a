/**
 * One LiveAttempt as plain data (issue 13): its strings and state bits, its
 * `info` with the anomaly versions emitted and the attempts it points at
 * (by AttemptRefs name), and how many of its packed numbers (header and
 * events) it has: the numbers of all attempts of a holder go, in order, into
 * one base64 string of little-endian doubles (AttemptNumbers), which keeps
 * NaN and ±Infinity as they are and costs a copy instead of formatting
 * millions of numbers as decimal text (measured: bench/engine-snapshot.ts).
 * Positional tuples, not objects: a checkpoint holds one per open attempt.
 */
import { endianness } from 'node:os';
import type { Interner } from '../../util/interner.js';
import type { LiveAttempt, LiveAttemptInfo } from '../live-attempt.js';
import type { AttemptRef, AttemptRefs } from './attempt-refs.js';
import { infoTuple, loadFields, loadInfo, type InfoTuple } from './attempt-item.js';

type S = string | null;

/** A Float64Array's bytes are the little-endian doubles as they are (every x86 and ARM host). */
const LITTLE_ENDIAN = endianness() === 'LE';

/** LiveAttemptInfo with the attempts it points at by AttemptRefs name. */
export type AttemptInfoState = InfoTuple<AttemptRef>;

/** len (its numbers in the holder's AttemptNumbers), n.length (its room), tid, mid, rrn, termCurrency, state bits, info. */
export type AttemptState = [len: number, cap: number, tid: S, mid: S, rrn: S, termCurrency: S, state: number, info: AttemptInfoState | null];

/** Positions read by tests and tools. */
export const A_INFO = 7;
export const I_EMITTED = 8;
export const I_MERGED_INTO = 10;
export const I_OWNER = 11;
export const I_DUP_FIRSTS = 12;

/** The packed numbers of a holder's attempts, in order, while they are written or read. */
export class AttemptNumbers {
  private buf: Float64Array;
  private at = 0;

  private constructor(buf: Float64Array) {
    this.buf = buf;
  }

  static writer(): AttemptNumbers {
    return new AttemptNumbers(new Float64Array(1024));
  }

  /** Reads the base64 text `toText()` wrote. */
  static reader(text: string): AttemptNumbers {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length % 8 !== 0) throw new Error(`attempt numbers: ${bytes.length} bytes is not a whole number of doubles`);
    const buf = new Float64Array(bytes.length / 8);
    if (LITTLE_ENDIAN) new Uint8Array(buf.buffer).set(bytes);
    else for (let i = 0; i < buf.length; i++) buf[i] = bytes.readDoubleLE(i * 8);
    return new AttemptNumbers(buf);
  }

  append(n: readonly number[], len: number): void {
    if (this.at + len > this.buf.length) {
      const grown = new Float64Array(Math.max(2 * this.buf.length, this.at + len));
      grown.set(this.buf.subarray(0, this.at));
      this.buf = grown;
    }
    for (let i = 0; i < len; i++) this.buf[this.at + i] = n[i];
    this.at += len;
  }

  /** The next `len` numbers, as a fresh array with room for `cap`. */
  take(len: number, cap: number): number[] {
    if (this.at + len > this.buf.length) throw new Error('attempt numbers: fewer numbers than the attempts hold');
    // Pushed one by one: the array stays packed doubles, as LiveAttempt keeps it.
    const n: number[] = [];
    for (let i = 0; i < cap; i++) n.push(i < len ? this.buf[this.at + i] : NaN);
    this.at += len;
    return n;
  }

  /** Throws unless every number was taken. */
  checkEnd(): void {
    if (this.at !== this.buf.length) throw new Error(`attempt numbers: ${this.buf.length - this.at} numbers left over`);
  }

  /** Little-endian doubles, base64. */
  toText(): string {
    if (LITTLE_ENDIAN) return Buffer.from(this.buf.buffer, 0, this.at * 8).toString('base64');
    const bytes = Buffer.alloc(this.at * 8);
    for (let i = 0; i < this.at; i++) bytes.writeDoubleLE(this.buf[i], i * 8);
    return bytes.toString('base64');
  }
}

/** x as plain data, its numbers appended to `nums`; attempts it points at are named for `holder` (who writes them too). */
export function attemptState(x: LiveAttempt, refs: AttemptRefs, holder: number, nums: AttemptNumbers): AttemptState {
  nums.append(x.n, x.len);
  return [x.len, x.n.length, x.tid, x.mid, x.rrn, x.termCurrency, x.state, x.info === null ? null : infoState(x.info, refs, holder)];
}

function infoState(i: LiveAttemptInfo, refs: AttemptRefs, holder: number): AttemptInfoState {
  return infoTuple(i, { ref: (y) => refs.ref(y, holder), owner: (o, patch) => refs.ownerId(o, patch) });
}

/** Fills the (fresh) object x from its state; `strings` interns the low-cardinality strings again. */
export function loadAttempt(x: LiveAttempt, s: AttemptState, refs: AttemptRefs, strings: Interner, nums: AttemptNumbers): void {
  const [len, cap, tid, mid, rrn, termCurrency, state, si] = s;
  if (!(Number.isInteger(len) && len >= 0 && cap >= len)) throw new Error(`attempt state: cap ${cap} below its ${len} numbers`);
  x.n = nums.take(len, cap);
  x.len = len;
  loadFields(x, [tid, mid, rrn, termCurrency, state], strings);
  if (si !== null) loadInfo(x, si, { attempt: (r) => refs.attempt(r), setOwner: (y, id) => refs.setOwner(y, id) }, strings);
}
