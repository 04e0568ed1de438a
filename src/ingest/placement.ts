/**
 * Records that cannot be placed (../shared/spec/feeds.md): the checks that
 * need more than the record itself. Here the wall clock (far-future event
 * time), which replay and `posguard run` both apply; the partition check is
 * Kafka's (kafka/partitioner.ts). The callers decide what a refusal becomes
 * (docs/semantics.md, "Records that cannot be placed").
 */
import type { AnyEvent } from '../events/index.js';

/** Dead-letter reason classes of this file (also the prefix of the reason text). */
export const EVENT_TIME_IN_FUTURE = 'event_time_in_future';
export const WRONG_PARTITION = 'wrong_partition';

/**
 * Why `e` is too far ahead of the wall clock to be placed, or null. The bound
 * is `rules.time.maxFutureMs`: terminal clocks drift at most ±5 min, so a
 * record further ahead is a broken clock, and letting it in would move its
 * partition's watermark (and pin its commit) until the wall clock catches up.
 */
export function futureReason(e: AnyEvent, nowMs: number, maxFutureMs: number): string | null {
  const ahead = e.event_time - nowMs;
  if (ahead <= maxFutureMs) return null;
  // The time as ISO (exact to the millisecond), not as epoch milliseconds: 13 digits, and the one in ten that pass
  // the Luhn check were masked as a card number (util/pan.ts) in the stored reason, at random from run to run.
  return `${EVENT_TIME_IN_FUTURE}: field event_time: ${isoOrRaw(e.event_time)} is ${ahead} ms ahead of the wall clock `
    + `(${isoOrRaw(nowMs)}); rules.time.maxFutureMs allows ${maxFutureMs} ms`;
}

function isoOrRaw(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** The wall clock and bound a far-future check reads (injectable for tests). */
export interface FutureBound {
  readonly now: () => number;
  readonly maxFutureMs: () => number;
}
