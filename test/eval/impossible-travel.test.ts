/**
 * IMPOSSIBLE_TRAVEL in the batch reference, by hand from docs/semantics.md.
 * Points on the equator make the haversine distance exact: (0,0)-(0,5) is
 * 6371 km x 5 deg x pi/180 = 555.97 km, which at 900 km/h takes 2223.9 s.
 */
import { describe, expect, it } from 'vitest';
import { anomalyId } from '../../src/detect/anomaly.js';
import { haversineKm } from '../../src/eval/impossible-travel.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import { EventBuilder, MIN, SEC, T0 } from './builders.js';
import { onlyKind } from './support.js';

const CARD = 'tok_card_I';
const rules = onlyKind('IMPOSSIBLE_TRAVEL');
const rrnOf = (n: number) => `RRN${String(n).padStart(9, '0')}`;

type Sale = [time: number, lon: number | null];
/** Completed sales on one card at terminals on the equator at the given longitude (null: no location). */
function run(list: Sale[], card = (_i: number) => CARD) {
  const b = new EventBuilder();
  list.forEach(([t, lon], i) => b.attempt({
    t, lat: lon === null ? null : 0, lon, card_token: card(i), rrn: rrnOf(i + 1), stan: String(i + 1).padStart(6, '0'), terminal_id: `TERM${String(i + 1).padStart(4, '0')}`,
  }));
  return referenceAnomalies(b.streams(), rules);
}

describe('IMPOSSIBLE_TRAVEL', () => {
  it('haversine on the equator is R x delta-longitude', () => {
    expect(haversineKm(0, 0, 0, 5)).toBeCloseTo(555.9746, 3);
  });

  it('556 km in 2223 s (faster than 900 km/h): fires at the second debit, relating the first', () => {
    const all = run([[T0, 0], [T0 + 2_223 * SEC, 5]]);
    expect(all.map((a) => [a.anomaly_id, a.rrn, a.related_rrns, a.status, a.event_time, a.terminal_id])).toEqual([
      [anomalyId('IMPOSSIBLE_TRAVEL', `${CARD}|2024-03-01`), rrnOf(2), [rrnOf(1)], 'OPEN', T0 + 2_223 * SEC, 'TERM0002'],
    ]);
    expect(all[0].evidence.terminal.map((e) => e.event_type)).toEqual(['TXN_STARTED', 'TXN_STARTED']);
  });

  it('556 km in 2224 s is possible: nothing', () => {
    expect(run([[T0, 0], [T0 + 2_224 * SEC, 5]])).toEqual([]);
  });

  it('order is by bank time, not by file', () => {
    expect(run([[T0 + 10 * MIN, 0], [T0, 5]]).map((a) => [a.rrn, a.related_rrns])).toEqual([[rrnOf(1), [rrnOf(2)]]]);
  });

  it('under 300 km never fires (289 km in 1 s); 300.2 km does', () => {
    expect(run([[T0, 0], [T0 + SEC, 2.6]])).toEqual([]);
    expect(run([[T0, 0], [T0 + SEC, 2.7]]).map((a) => a.rrn)).toEqual([rrnOf(2)]);
  });

  it('"closer in time than" is strict: 0 km apart at the same ms is not, even with minDistanceKm 0', () => {
    const b = new EventBuilder({ card_token: CARD });
    b.attempt({ t: T0, lat: 0, lon: 0, rrn: rrnOf(1), stan: '000001' });
    b.attempt({ t: T0, lat: 0, lon: 0, rrn: rrnOf(2), stan: '000002' });
    expect(referenceAnomalies(b.streams(), onlyKind('IMPOSSIBLE_TRAVEL', { impossibleTravel: { minDistanceKm: 0 } }))).toEqual([]);
  });

  it('debits without a location are ignored', () => {
    expect(run([[T0, 0], [T0 + MIN, null], [T0 + 2 * MIN, 0]])).toEqual([]);
    expect(run([[T0, null], [T0 + MIN, 5]])).toEqual([]);
  });

  it('different cards do not combine', () => {
    expect(run([[T0, 0], [T0 + MIN, 5]], (i) => `tok_card_${i}`)).toEqual([]);
  });

  it('every earlier debit too far relates; one anomaly per card and day', () => {
    const all = run([[T0, 0], [T0 + MIN, 0], [T0 + 10 * MIN, 5], [T0 + 20 * MIN, 0]]);
    expect(all.map((a) => [a.rrn, a.related_rrns])).toEqual([[rrnOf(3), [rrnOf(1), rrnOf(2)]]]);
  });

  it('location: the earliest TXN_STARTED of the attempt that has both lat and lon', () => {
    const build = (first: { lat: number | null; lon: number | null }) => {
      const b = new EventBuilder({ card_token: CARD });
      b.attempt({ t: T0, lat: 0, lon: 0, rrn: rrnOf(1), stan: '000001', terminal_id: 'TERM0001' });
      b.attempt({ t: T0 + MIN, rrn: rrnOf(2), stan: '000002', terminal_id: 'TERM0002', omit: ['TXN_STARTED'] });
      b.terminal('TXN_STARTED', { terminal_id: 'TERM0002', stan: '000002', event_time: T0 + MIN - 5_000, ...first });
      b.terminal('TXN_STARTED', { terminal_id: 'TERM0002', stan: '000002', event_time: T0 + MIN - 4_000, lat: 0, lon: 5 });
      return referenceAnomalies(b.streams(), rules).map((a) => a.rrn);
    };
    expect(build({ lat: 0, lon: null })).toEqual([rrnOf(2)]); // incomplete first one skipped: (0,5) is used
    expect(build({ lat: 0, lon: 0.1 })).toEqual([]); // complete first one wins: 11 km from (0,0)
  });
});
