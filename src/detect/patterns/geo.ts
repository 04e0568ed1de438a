/**
 * The impossible-travel test of docs/semantics.md over great-circle
 * distances (src/util/geo.ts, which also holds the pruning bound
 * travelHorizonMs).
 */

const HOUR_MS = 3_600_000;

/** Two debits dtMs apart at distKm: at least minDistanceKm and closer in time than distKm at maxSpeedKmh. */
export function isImpossibleTravel(dtMs: number, distKm: number, minDistanceKm: number, maxSpeedKmh: number): boolean {
  return distKm >= minDistanceKm && dtMs < (distKm / maxSpeedKmh) * HOUR_MS;
}
