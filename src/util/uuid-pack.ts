/**
 * UUIDs packed into three exact doubles (48 + 48 + 32 bits): lets an attempt
 * keep its events' ids for dedup and evidence without one string per event.
 * The validator guarantees the 8-4-4-4-12 hex form; ids come back lowercase.
 */
function hexVal(c: number): number {
  // 0-9, A-F, a-f (validated upstream)
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

function readHex(s: string, from: number, digits: number): number {
  let v = 0;
  let i = from;
  let n = 0;
  while (n < digits) {
    const c = s.charCodeAt(i++);
    if (c === 45) continue; // '-'
    v = v * 16 + hexVal(c);
    n++;
  }
  return v;
}

/** Writes the three parts of `uuid` into `out` at `at`. */
export function packUuid(uuid: string, out: number[], at: number): void {
  out[at] = readHex(uuid, 0, 12); // 8 + 4 digits, crossing one dash
  out[at + 1] = readHex(uuid, 14, 12); // from index 14: 4 + 4 + 4 digits
  out[at + 2] = readHex(uuid, 28, 8);
}

export function packUuidParts(uuid: string): [number, number, number] {
  const out: number[] = [0, 0, 0];
  packUuid(uuid, out, 0);
  return out as [number, number, number];
}

function hex(v: number, digits: number): string {
  return v.toString(16).padStart(digits, '0');
}

export function unpackUuid(a: number, b: number, c: number): string {
  const h = hex(a, 12) + hex(b, 12) + hex(c, 8);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
