/**
 * Stores each low-cardinality string (terminal, merchant, issuer, currency)
 * once. Bounded: past maxSize the table starts over; correctness never
 * depends on identity, only memory does.
 */
export class Interner {
  private table = new Map<string, string>();

  constructor(private readonly maxSize = 1_000_000) {}

  intern(s: string): string {
    const hit = this.table.get(s);
    if (hit !== undefined) return hit;
    if (this.table.size > this.maxSize) this.table = new Map();
    this.table.set(s, s);
    return s;
  }
}
