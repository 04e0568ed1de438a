/**
 * IMPOSSIBLE_TRAVEL along a meridian: the other tests travel along the
 * equator (same latitude), so a distance computed from the longitudes alone,
 * or a "same place" test on one coordinate, would pass them. 1 degree of
 * latitude = 6371 km * pi / 180 = 111.19 km; 4 degrees = 444.8 km, which takes
 * 29.65 minutes at 900 km/h.
 */
import { describe, expect, it } from 'vitest';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import type { CardFact } from '../../../src/detect/patterns/types.js';
import { collector, fact, MIN, only, T0 } from './helpers.js';

function run(facts: readonly CardFact[]) {
  const { out, emit } = collector();
  const cp = new CardPatterns(() => only('impossibleTravel'), emit);
  for (const f of facts) cp.push(f);
  return out;
}

describe('IMPOSSIBLE_TRAVEL due north', () => {
  it('444.8 km north in 10 minutes fires; in 30 minutes (889.6 km/h) it does not', () => {
    const fast = [fact({ t: T0, lat: 48, lon: 2 }), fact({ t: T0 + 10 * MIN, lat: 52, lon: 2 })];
    const out = run(fast);
    expect(out.map((a) => [a.kind, a.rrn, a.related_rrns])).toEqual([['IMPOSSIBLE_TRAVEL', fast[1].rrn, [fast[0].rrn]]]);
    expect(run([fact({ t: T0, lat: 48, lon: 2 }), fact({ t: T0 + 30 * MIN, lat: 52, lon: 2 })])).toEqual([]);
  });

  it('the same longitude and latitude is the same place: never travel', () => {
    expect(run([fact({ t: T0, lat: 48, lon: 2 }), fact({ t: T0 + 1, lat: 48, lon: 2 })])).toEqual([]);
  });
});
