import { describe, expect, it } from 'vitest';
import { anomalyId, utcDay } from '../../../src/events/anomaly.js';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import { haversineKm, MAX_DISTANCE_KM, travelHorizonMs } from '../../../src/util/geo.js';
import type { CardFact } from '../../../src/detect/patterns/types.js';
import { collector, DAY, fact, HOUR, MIN, only, T0 } from './helpers.js';
import { expectPipelineAgreesOnFacts } from './through-engine.js';

/** Longitude on the equator that is `km` east of (0, 0). */
const east = (km: number): number => (km / (6371 * Math.PI)) * 180;
const at = (t: number, lon: number, extra: Partial<Parameters<typeof fact>[0]> = {}): CardFact => fact({ t, lat: 0, lon, ...extra });

function run(facts: readonly CardFact[], rules = only('impossibleTravel')) {
  expectPipelineAgreesOnFacts(facts, rules);
  const { out, emit } = collector();
  const cp = new CardPatterns(() => rules, emit);
  for (const f of facts) cp.push(f);
  return { out, cp };
}

describe('IMPOSSIBLE_TRAVEL', () => {
  it('400 km in 20 minutes fires; 400 km in 1 hour (400 km/h) does not', () => {
    const lon = east(400);
    expect(haversineKm(0, 0, 0, lon)).toBeCloseTo(400, 6);
    const fast = [at(T0, 0), at(T0 + 20 * MIN, lon)];
    const { out } = run(fast);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      kind: 'IMPOSSIBLE_TRAVEL', severity: 'high', rrn: fast[1].rrn, event_time: fast[1].event_time, related_rrns: [fast[0].rrn],
      anomaly_id: anomalyId('IMPOSSIBLE_TRAVEL', `card-A|${utcDay(T0)}`),
    });
    expect(out[0].evidence.bank.map((e) => e.event_id)).toEqual([fast[0].event_id, fast[1].event_id]);
    expect(out[0].evidence.bank[1].detail).toMatchObject({ lat: 0, lon });
    expect(run([at(T0, 0), at(T0 + HOUR, lon)]).out).toHaveLength(0);
  });

  it('speed boundary: closer in time than dist / 900 km/h fires, exactly that long does not', () => {
    const lon = east(400);
    const limit = (haversineKm(0, 0, 0, lon) / 900) * HOUR; // ≈ 1,600,000 ms
    const fires = Math.ceil(limit) - 1;
    const quiet = Math.ceil(limit);
    expect(run([at(T0, 0), at(T0 + fires, lon)]).out).toHaveLength(1);
    expect(run([at(T0, 0), at(T0 + quiet, lon)]).out).toHaveLength(0);
  });

  it('distance boundary: at least minDistanceKm fires, below does not (299 km in a minute is fine)', () => {
    const lon = east(300);
    const dist = haversineKm(0, 0, 0, lon);
    const pair = [at(T0, 0), at(T0 + MIN, lon)];
    expect(run(pair, only('impossibleTravel', { minDistanceKm: dist })).out).toHaveLength(1);
    expect(run(pair, only('impossibleTravel', { minDistanceKm: dist + 1e-9 })).out).toHaveLength(0);
    expect(run([at(T0, 0), at(T0 + MIN, east(299))]).out).toHaveLength(0);
  });

  it('ignores debits without a location, declines and non-debits', () => {
    const lon = east(1000);
    expect(run([fact({ t: T0 }), at(T0 + MIN, lon)]).out).toHaveLength(0);
    expect(run([at(T0, 0, { approved: false }), at(T0 + MIN, lon)]).out).toHaveLength(0);
    expect(run([at(T0, 0, { txn_type: 'REFUND' }), at(T0 + MIN, lon)]).out).toHaveLength(0);
  });

  it('related_rrns lists every earlier debit in conflict, and only those', () => {
    const far = east(2000);
    const facts = [
      at(T0 - 10 * HOUR, 0), // 10 h before: 2000 km is plausible
      at(T0, 0),
      at(T0 + MIN, 0), // same place again
      at(T0 + 2 * MIN, far),
    ];
    const { out } = run(facts);
    expect(out).toHaveLength(1);
    expect(out[0].related_rrns).toEqual([facts[1].rrn, facts[2].rrn].sort());
    expect(out[0].evidence.bank.map((e) => e.event_id)).toEqual([facts[1].event_id, facts[2].event_id, facts[3].event_id]);
  });

  it('equal bank times: the later event_id is the trigger', () => {
    const a = at(T0, 0, { id: 'ev-a' });
    const b = at(T0, east(500), { id: 'ev-b' });
    const { out } = run([a, b]);
    expect(out).toHaveLength(1);
    expect(out[0].rrn).toBe(b.rrn);
  });

  it('keeps a debit for the whole horizon: antipodes 22 h apart still conflict', () => {
    const h = travelHorizonMs(900);
    expect(h).toBe(Math.ceil((MAX_DISTANCE_KM / 900) * HOUR));
    expect(h).toBeGreaterThan(22 * HOUR);
    expect(h).toBeLessThan(22.3 * HOUR);
    const { out, emit } = collector();
    const rules = only('impossibleTravel');
    const cp = new CardPatterns(() => rules, emit);
    const start = Date.UTC(2024, 2, 10, 0, 30);
    cp.push(at(start, 0));
    cp.advance(start + 22 * HOUR - MIN);
    expect(cp.activeCards()).toBe(1);
    cp.push(at(start + 22 * HOUR, 180));
    expect(out).toHaveLength(1);
    expect(out[0].related_rrns).toHaveLength(1);
  });

  it('releases a lone debit once the horizon plus the allowed lateness has passed', () => {
    const rules = only('impossibleTravel');
    const grace = rules.time.allowedLatenessMs;
    const cp = new CardPatterns(() => rules, () => undefined);
    cp.push(at(T0, 0));
    const h = travelHorizonMs(900);
    cp.advance(T0 + h + grace);
    expect(cp.activeCards()).toBe(1);
    cp.advance(T0 + h + grace + 1);
    expect(cp.activeCards()).toBe(0);
  });

  it('one per card and day; the next day gives a new id', () => {
    const far = east(1000);
    const facts = [
      at(T0, 0), at(T0 + MIN, far), // fires
      at(T0 + 2 * HOUR, 0), at(T0 + 2 * HOUR + MIN, far), // same day: nothing
      at(T0 + DAY, 0), at(T0 + DAY + MIN, far), // next day
    ];
    const { out } = run(facts);
    expect(out.map((a) => a.rrn)).toEqual([facts[1].rrn, facts[5].rrn]);
    expect(out[0].anomaly_id).not.toBe(out[1].anomaly_id);
    expect(out[1].anomaly_id).toBe(anomalyId('IMPOSSIBLE_TRAVEL', `card-A|${utcDay(T0 + DAY)}`));
  });
});
