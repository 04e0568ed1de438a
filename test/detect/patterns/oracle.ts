/**
 * A deliberately naive batch reading of docs/semantics.md "Fraud-like
 * patterns" for the card patterns: sort everything, and for every event look
 * at every earlier event of its card. O(n²), no state, no cleverness; the
 * streaming detector must agree with it.
 */
import type { Rules } from '../../../src/config/rules.js';
import { anomalyId, utcDay } from '../../../src/events/anomaly.js';
import type { CardFact } from '../../../src/detect/patterns/types.js';

export interface Expected {
  readonly anomaly_id: string;
  readonly kind: string;
  readonly rrn: string;
  readonly event_time: number;
  readonly related_rrns: readonly string[];
}

/**
 * The oracle's own geometry, written apart from src/detect/patterns/geo.ts so a
 * slip there cannot hide here: the haversine in its atan2 form (R = 6371 km,
 * docs/semantics.md), and travel judged as a speed. They agree with the
 * detector's `dt < dist / v` everywhere but within a rounding error of the
 * boundary, which random city pairs and times do not reach.
 */
const EARTH_KM = 6371;
function greatCircleKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const toRad = (deg: number) => (deg * Math.PI) / 180;
  const h = Math.sin(toRad(lat2 - lat1) / 2) ** 2 + Math.cos(toRad(lat1)) * Math.cos(toRad(lat2)) * Math.sin(toRad(lon2 - lon1) / 2) ** 2;
  return EARTH_KM * 2 * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
}

/** Faster than maxSpeedKmh over at least minDistanceKm; at dt = 0 any distance > 0 is infinitely fast. */
function tooFast(dtMs: number, distKm: number, minDistanceKm: number, maxSpeedKmh: number): boolean {
  if (distKm < minDistanceKm || distKm === 0) return false;
  const hours = dtMs / 3_600_000;
  return hours === 0 || distKm / hours > maxSpeedKmh;
}

const order = (a: CardFact, b: CardFact): number => a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);

function related(trigger: CardFact, events: readonly CardFact[]): string[] {
  return [...new Set(events.filter((e) => e.event_id !== trigger.event_id).map((e) => e.rrn))].sort();
}

export function oracle(facts: readonly CardFact[], rules: Rules): Map<string, Expected> {
  const byId = new Map<string, CardFact>();
  for (const f of facts) if (!byId.has(f.event_id)) byId.set(f.event_id, f);
  const all = [...byId.values()].sort(order);
  const cards = new Map<string, CardFact[]>();
  for (const f of all) {
    const list = cards.get(f.card_token) ?? [];
    list.push(f);
    cards.set(f.card_token, list);
  }
  const out = new Map<string, Expected>();
  const add = (kind: 'CARD_TESTING' | 'CARD_VELOCITY' | 'IMPOSSIBLE_TRAVEL', e: CardFact, evidence: readonly CardFact[]): void => {
    const id = anomalyId(kind, `${e.card_token}|${utcDay(e.event_time)}`);
    if (!out.has(id)) out.set(id, { anomaly_id: id, kind, rrn: e.rrn, event_time: e.event_time, related_rrns: related(e, evidence) });
  };
  for (const list of cards.values()) {
    const ct = rules.cardTesting;
    if (ct.enabled) {
      const small = list.filter((f) => f.amount_minor <= ct.maxAmountMinor);
      small.forEach((e, i) => {
        const win = small.slice(0, i + 1).filter((x) => x.event_time >= e.event_time - ct.windowMs);
        const declined = win.filter((x) => !x.approved).length;
        const merchants = new Set(win.map((x) => x.merchant_id)).size;
        if (win.length >= ct.minAttempts && declined >= ct.minDeclined && merchants >= ct.minMerchants) add('CARD_TESTING', e, win);
      });
    }
    const cv = rules.cardVelocity;
    if (cv.enabled) {
      const debits = list.filter((f) => f.debit);
      debits.forEach((e, i) => {
        const win = debits.slice(0, i + 1).filter((x) => x.event_time >= e.event_time - cv.windowMs);
        const same = win.filter((x) => x.currency === e.currency);
        if (win.length >= cv.minDebits) add('CARD_VELOCITY', e, win);
        else if (same.reduce((s, x) => s + x.amount_minor, 0) >= cv.minSumMinor) add('CARD_VELOCITY', e, same);
      });
    }
    const it = rules.impossibleTravel;
    if (it.enabled) {
      const located = list.filter((f) => f.debit && f.lat !== null && f.lon !== null);
      located.forEach((e, i) => {
        const far = located.slice(0, i).filter((d) => tooFast(e.event_time - d.event_time, greatCircleKm(d.lat!, d.lon!, e.lat!, e.lon!), it.minDistanceKm, it.maxSpeedKmh));
        if (far.length > 0) add('IMPOSSIBLE_TRAVEL', e, far);
      });
    }
  }
  return out;
}
