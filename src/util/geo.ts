/**
 * Great-circle distance, one implementation for the streaming detector, the
 * batch reference and the simulator, so all three compute the same
 * floating-point numbers (docs/semantics.md: haversine, R = 6371 km), and
 * the bound on impossible travel it implies (travelHorizonMs: the detector's
 * window, the backtest's warm-up).
 */

export const EARTH_RADIUS_KM = 6371;
const RAD = Math.PI / 180;

/**
 * Haversine distance in km. `a` can exceed 1 by rounding for antipodal
 * points: it is clamped before the square root (sqrt is monotone and exact
 * at 1, so clamping after it gives the same bits).
 */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(Math.min(1, a)));
}

/** The largest value haversineKm can return: half the circumference (same expression, so the bound holds in floating point too). */
export const MAX_DISTANCE_KM = 2 * EARTH_RADIUS_KM * Math.asin(1);

const HOUR_MS = 3_600_000;

/**
 * No pair further apart in time than this can be impossible travel, whatever
 * the locations (≈ 22.2 h at 900 km/h). Division and multiplication by
 * positive numbers are monotone in IEEE arithmetic, so for every distance
 * dist <= MAX_DISTANCE_KM: dist / v * HOUR_MS <= this value.
 */
export function travelHorizonMs(maxSpeedKmh: number): number {
  return Math.ceil((MAX_DISTANCE_KM / maxSpeedKmh) * HOUR_MS);
}
