/**
 * UUID v4-format event ids from the seeded PRNG. A 32-bit-state generator
 * would repeat ids after ~2^16 draws (birthday bound), and a repeated id makes
 * the detector drop a real event as a redelivery. So the first and last
 * 32 bits are a bijection of a counter: ids are unique by construction, the
 * middle bits are random for looks.
 */
import { fmix32, type Rng } from './rng.js';

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hex32(x: number): string {
  return HEX2[x >>> 24] + HEX2[(x >>> 16) & 255] + HEX2[(x >>> 8) & 255] + HEX2[x & 255];
}

export function hex16(x: number): string {
  return HEX2[(x >>> 8) & 255] + HEX2[x & 255];
}

export class UuidFactory {
  private n = 0;
  private readonly k1: number;
  private readonly k2: number;

  constructor(private readonly rng: Rng) {
    this.k1 = rng.u32();
    this.k2 = rng.u32();
  }

  next(): string {
    const n = this.n++;
    // (a, b) is a bijection of n: a gives the low half back, then b the high half.
    const a = fmix32(((n >>> 0) ^ this.k1) >>> 0);
    const b = fmix32((((Math.floor(n / 4294967296) ^ this.k2) >>> 0) + a) >>> 0);
    const m1 = this.rng.u32();
    const m2 = this.rng.u32();
    return (
      hex32(a) + '-' + hex16(m1 >>> 16) + '-' + hex16(0x4000 | (m1 & 0x0fff)) + '-' +
      hex16(0x8000 | ((m2 >>> 16) & 0x3fff)) + '-' + hex16(m2 & 0xffff) + hex32(b)
    );
  }
}
