/** The simulated cities (real coordinates) and travel time between them (distance: src/util/geo.ts). */

export interface City {
  readonly name: string;
  /** Two letters, the prefix of the city's terminal ids. */
  readonly code: string;
  readonly lat: number;
  readonly lon: number;
  /** Local currency (ISO 4217), what merchants there charge in. */
  readonly currency: string;
  /** Relative share of merchants and cardholders. */
  readonly weight: number;
  readonly country: string;
}

// A dozen cities with some pairs under 300 km (Paris-Brussels, Brussels-Amsterdam,
// Lyon-Marseille) and some just over (Brussels-London, Lyon-Milan): the travel
// scenarios need both sides of the impossible-travel distance threshold.
export const CITIES: readonly City[] = [
  { name: 'Paris', code: 'PA', lat: 48.8566, lon: 2.3522, currency: 'EUR', weight: 11, country: 'FR' },
  { name: 'Lyon', code: 'LY', lat: 45.764, lon: 4.8357, currency: 'EUR', weight: 2.3, country: 'FR' },
  { name: 'Marseille', code: 'MR', lat: 43.2965, lon: 5.3698, currency: 'EUR', weight: 1.9, country: 'FR' },
  { name: 'Brussels', code: 'BX', lat: 50.8503, lon: 4.3517, currency: 'EUR', weight: 2.1, country: 'BE' },
  { name: 'Amsterdam', code: 'AM', lat: 52.3676, lon: 4.9041, currency: 'EUR', weight: 2.5, country: 'NL' },
  { name: 'Berlin', code: 'BE', lat: 52.52, lon: 13.405, currency: 'EUR', weight: 6, country: 'DE' },
  { name: 'Munich', code: 'MU', lat: 48.1351, lon: 11.582, currency: 'EUR', weight: 3, country: 'DE' },
  { name: 'Milan', code: 'MI', lat: 45.4642, lon: 9.19, currency: 'EUR', weight: 4.3, country: 'IT' },
  { name: 'Madrid', code: 'MD', lat: 40.4168, lon: -3.7038, currency: 'EUR', weight: 6.7, country: 'ES' },
  { name: 'Barcelona', code: 'BC', lat: 41.3874, lon: 2.1686, currency: 'EUR', weight: 5.6, country: 'ES' },
  { name: 'London', code: 'LO', lat: 51.5072, lon: -0.1276, currency: 'GBP', weight: 9.5, country: 'GB' },
  { name: 'Warsaw', code: 'WA', lat: 52.2297, lon: 21.0122, currency: 'PLN', weight: 3.1, country: 'PL' },
];

/** How long the fastest plausible trip takes, ms. */
export function travelMs(km: number, maxSpeedKmh: number): number {
  return (km / maxSpeedKmh) * 3_600_000;
}
