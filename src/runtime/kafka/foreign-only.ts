/**
 * The rrns of reversals a partition engine took only because they were
 * broadcast to every engine of the process (reversal-router.ts) while it did
 * not hold their attempt. Such a reversal makes a golden record of its own
 * there (txn_key `::<rrn>`); it is not this partition's transaction (the
 * partition it was read from, or the one holding the debit, writes the real
 * one), so it is kept out of `transactions`.
 *
 * Bound: an entry is forgotten once the watermark is `RETAIN_MS` past its
 * reversal's time, by then the engine has released the attempt and written
 * (or not) its record; so entries ≈ broadcast reversals of the last
 * `RETAIN_MS` of event time that this engine does not hold.
 */
import type { TransactionRecord } from '../../events/transaction.js';

/** Longer than any engine retention of a reversal-only attempt (reversal grace + duplicate window + lateness, 25 min by default). */
const RETAIN_MS = 6 * 3_600_000;

export class ForeignOnlyRrns {
  private readonly at = new Map<string, number>();
  private readonly order: { rrn: string; time: number }[] = [];
  private head = 0;

  note(rrn: string, eventTime: number): void {
    if (!this.at.has(rrn)) this.order.push({ rrn, time: eventTime });
    this.at.set(rrn, Math.max(eventTime, this.at.get(rrn) ?? -Infinity));
  }

  /** True when `t` is a reversal-only record made here by broadcast reversals alone. */
  drops(t: TransactionRecord, watermark: number): boolean {
    this.prune(watermark);
    return t.terminal_id === null && t.stan === null && t.rrn !== null && this.at.has(t.rrn);
  }

  get size(): number {
    return this.at.size;
  }

  /** Plain data for a checkpoint: rrn and latest reversal time (restored, an entry is kept from that time: at most a little longer). */
  toState(): [string, number][] {
    return [...this.at];
  }

  restore(s: readonly (readonly [string, number])[]): void {
    for (const [rrn, t] of s) this.note(rrn, t);
  }

  private prune(watermark: number): void {
    // At the end of input the watermark jumps to +infinity and every held attempt is released at once: keep them all.
    if (watermark === Infinity) return;
    while (this.head < this.order.length && this.order[this.head].time + RETAIN_MS < watermark) {
      const { rrn } = this.order[this.head++];
      if ((this.at.get(rrn) ?? Infinity) + RETAIN_MS < watermark) this.at.delete(rrn);
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}
