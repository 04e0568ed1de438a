/**
 * Great-circle distance, one implementation for the streaming detector, the
 * batch reference and the simulator, so all three compute the same
 * floating-point numbers (docs/semantics.md: haversine, R = 6371 km).
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
