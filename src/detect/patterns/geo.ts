/**
 * The impossible-travel test of docs/semantics.md over great-circle
 * distances (src/util/geo.ts), shared by the streaming detector and its
 * pruning bound.
 */
import { MAX_DISTANCE_KM } from '../../util/geo.js';

const HOUR_MS = 3_600_000;

/** Two debits dtMs apart at distKm: at least minDistanceKm and closer in time than distKm at maxSpeedKmh. */
export function isImpossibleTravel(dtMs: number, distKm: number, minDistanceKm: number, maxSpeedKmh: number): boolean {
  return distKm >= minDistanceKm && dtMs < (distKm / maxSpeedKmh) * HOUR_MS;
}

/**
 * No pair further apart in time than this can be impossible travel, whatever
 * the locations (≈ 22.2 h at 900 km/h). Division and multiplication by
 * positive numbers are monotone in IEEE arithmetic, so for every distance
 * dist <= MAX_DISTANCE_KM: dist / v * HOUR_MS <= this value.
 */
export function travelHorizonMs(maxSpeedKmh: number): number {
  return Math.ceil((MAX_DISTANCE_KM / maxSpeedKmh) * HOUR_MS);
}
