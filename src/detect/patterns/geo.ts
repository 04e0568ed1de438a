/**
 * Great-circle distance and the impossible-travel test of docs/semantics.md,
 * in one place so the streaming detector and any other caller compute the
 * same floating-point numbers.
 */

export const EARTH_RADIUS_KM = 6371;
const RAD = Math.PI / 180;
const HOUR_MS = 3_600_000;

/** Haversine distance in km (R = 6371 km). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(Math.min(1, a)));
}

/** The largest value haversineKm can return: half the circumference (same expression, so the bound holds in floating point too). */
export const MAX_DISTANCE_KM = 2 * EARTH_RADIUS_KM * Math.asin(1);

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
