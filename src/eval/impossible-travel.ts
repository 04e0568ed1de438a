/**
 * IMPOSSIBLE_TRAVEL, docs/semantics.md: per card, bank time, over debits whose
 * attempt has a location (the lat/lon of its earliest TXN_STARTED that has both).
 * Fires at debit e when an earlier debit d (in order) is >= minDistanceKm away
 * (haversine, R = 6371 km) and e.time - d.time < dist / maxSpeedKmh hours.
 */
import type { Rules } from '../config/rules.js';
import type { Anomaly } from '../events/anomaly.js';
import { utcDay } from '../events/anomaly.js';
import type { TerminalEvent } from '../events/index.js';
import { byTimeThenId, groupBy, type Dataset, type Debit } from './dataset.js';
import { evidence, makeAnomaly } from './record.js';
import { bankTriggerFields } from './pattern-fields.js';
import { EARTH_RADIUS_KM, haversineKm } from '../util/geo.js';

const HOUR_MS = 3_600_000;

interface Located {
  readonly debit: Debit;
  readonly started: TerminalEvent & { lat: number; lon: number };
}

function locationOf(ds: Dataset, d: Debit): Located['started'] | undefined {
  const started = ds.terminalOf(d.attempt)
    .filter((e): e is Located['started'] => e.event_type === 'TXN_STARTED' && e.lat !== null && e.lon !== null)
    .sort(byTimeThenId);
  return started[0];
}

export function impossibleTravel(ds: Dataset, rules: Rules): Anomaly[] {
  const r = rules.impossibleTravel;
  // No two points are further apart than half the earth's circumference: a bound on how far back to look.
  const maxLookbackMs = (Math.PI * EARTH_RADIUS_KM / r.maxSpeedKmh) * HOUR_MS + 1;
  const located: Located[] = [];
  for (const debit of ds.debits) {
    const started = locationOf(ds, debit);
    if (started) located.push({ debit, started });
  }
  const out: Anomaly[] = [];
  for (const [card, list] of groupBy(located, (l) => l.debit.event.card_token)) {
    list.sort((a, b) => byTimeThenId(a.debit.event, b.debit.event));
    const fired = new Set<string>();
    for (let i = 1; i < list.length; i++) {
      const e = list[i];
      const day = utcDay(e.debit.t);
      if (fired.has(day)) continue;
      const far: Located[] = [];
      for (let j = i - 1; j >= 0 && e.debit.t - list[j].debit.t < maxLookbackMs; j--) {
        const d = list[j];
        const dist = haversineKm(d.started.lat, d.started.lon, e.started.lat, e.started.lon);
        if (dist >= r.minDistanceKm && e.debit.t - d.debit.t < (dist / r.maxSpeedKmh) * HOUR_MS) far.push(d);
      }
      if (far.length === 0) continue;
      fired.add(day);
      out.push(makeAnomaly('IMPOSSIBLE_TRAVEL', `${card}|${day}`, rules, {
        ...bankTriggerFields(e.debit.event),
        status: 'OPEN',
        related_rrns: far.map((d) => d.debit.rrn),
        // docs/semantics.md: a card pattern's evidence.bank lists the events that made it fire (the
        // locations ride along in the streaming engine's bank evidence detail), not their TXN_STARTED.
        evidence: evidence({ bank: [e.debit.event, ...far.map((d) => d.debit.event)] }),
      }));
    }
  }
  return out;
}
