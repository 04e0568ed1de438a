/**
 * The fraud-like patterns and their near misses. Each uses a scenario card
 * (or a terminal reserved for its signals) that nothing else touches, and its
 * label is computed by applying the rule to the scenario's own stamped events
 * (./expect.ts), so a near miss that happens to fire would be labelled as
 * firing rather than silently mislabelled.
 */
import type { AnomalyKind } from '../../events/anomaly.js';
import { FAULT_COMPONENTS } from '../../events/index.js';
import { Attempt, deviceFault } from '../attempt.js';
import type { Ctx } from '../context.js';
import { cardTestingTriggers, type Debit, faultSpikeTriggers, type LocatedDebit, type Signal, type SmallAuth, travelTriggers, type Trigger, velocityTriggers } from '../expect.js';
import { declinedPath, happyPath } from '../flows.js';
import { haversineKm } from '../../util/geo.js';
import { expect, type SimLabel, utcDay } from '../labels.js';
import type { Card, Merchant } from '../world.js';
import { MINUTE, type Scenario } from './common.js';

const TESTING_DECLINES = ['14', '54', '05', '51', '14', '54'] as const;

function cardLabel(ctx: Ctx, scenario: string, t0: number, card: Card, merchant: Merchant, terminalId: string, nearMissOf?: AnomalyKind): SimLabel {
  const label = ctx.label(scenario, t0, terminalId);
  label.merchant_id = merchant.id;
  label.card_token = card.token;
  label.near_miss_of = nearMissOf;
  return label;
}

function setCardPattern<T extends { t: number; rrn: string }>(label: SimLabel, kind: AnomalyKind, card: Card, hits: readonly Trigger<T>[]): void {
  expect(label, hits.map((hit) => ({ kind, status: 'OPEN' as const, key: `${card.token}|${utcDay(hit.trigger.t)}`, rrn: hit.trigger.rrn, related_rrns: hit.related.map((x) => x.rrn).sort(), event_time: hit.trigger.t })));
}

/** `count` distinct merchants of the city, preferring the given categories. */
function merchantsIn(ctx: Ctx, city: number, count: number, categories?: readonly string[]): Merchant[] {
  const all = ctx.rng.shuffle([...ctx.world.merchantsByCity[city]]);
  if (categories !== undefined) all.sort((a, b) => Number(!categories.includes(a.category.name)) - Number(!categories.includes(b.category.name)));
  return all.slice(0, Math.min(count, all.length));
}

/** Offsets (ms from t0) for n events spaced in [lo, hi] ms, compressed if the span is short. */
function spacing(ctx: Ctx, t0: number, n: number, lo: number, hi: number): number[] | null {
  const room = ctx.endMs - t0 - 3 * MINUTE;
  const max = Math.min(hi, Math.floor(room / Math.max(1, n - 1)));
  const min = Math.min(lo, max);
  if (max < 15_000) return null;
  const out = [0];
  for (let i = 1; i < n; i++) out.push(out[i - 1] + ctx.rng.int(min, max));
  return out;
}

interface TestingPlan {
  readonly attempts: number;
  /** Indices (0-based) of declined attempts. */
  readonly declined: ReadonlySet<number>;
  readonly merchants: number;
}

function chooseDeclines(ctx: Ctx, n: number, inFirstSix: number, laterShare: number): Set<number> {
  const first = ctx.rng.shuffle([...Array(Math.min(6, n)).keys()]).slice(0, inFirstSix);
  const set = new Set(first);
  for (let i = 6; i < n; i++) if (ctx.rng.chance(laterShare)) set.add(i);
  return set;
}

function cardTesting(ctx: Ctx, t0: number, scenario: string, plan: TestingPlan, nearMissOf?: AnomalyKind): boolean {
  const rng = ctx.rng;
  const offsets = spacing(ctx, t0, plan.attempts, 15_000, 75_000);
  if (offsets === null) return false;
  const city = ctx.world.pickCity(rng);
  const merchants = merchantsIn(ctx, city, plan.merchants);
  if (merchants.length < plan.merchants) return false;
  const card = ctx.world.scenarioCard(city);
  const cap = ctx.rules.cardTesting.maxAmountMinor;
  const amounts = new Set<number>();
  if (rng.chance(0.15)) amounts.add(cap); // "at most 2000" is inclusive
  while (amounts.size < plan.attempts) amounts.add(rng.int(100, cap - 1));
  const amountList = rng.shuffle([...amounts]);
  const seen: SmallAuth[] = [];
  const label = cardLabel(ctx, scenario, t0, card, merchants[0], merchants[0].terminals[0].id, nearMissOf);
  label.note = `${plan.attempts} small attempts, ${plan.declined.size} declined, at ${plan.merchants} merchants`;
  offsets.forEach((off, i) => {
    ctx.schedule(t0 + off, () => {
      const t = ctx.now;
      const merchant = merchants[i % merchants.length];
      const terminal = ctx.terminalOf(merchant, t);
      const a = new Attempt(ctx, { terminal, card, txnType: 'SALE', amount: amountList[i], currency: ctx.world.cities[city].currency, entryMode: rng.chance(0.7) ? 'MANUAL' : 'CONTACTLESS' }, t);
      if (i === 0) label.terminal_id = terminal.id;
      const declined = plan.declined.has(i);
      const bank = declined ? declinedPath(a, t, rng.pick(TESTING_DECLINES)).bank : happyPath(a, t).bank;
      seen.push({ t: bank.event_time, id: bank.event_id, rrn: bank.rrn, amount: bank.amount_minor, declined, merchant: bank.merchant_id });
      if (seen.length === plan.attempts) setCardPattern(label, 'CARD_TESTING', card, cardTestingTriggers(seen, ctx.rules));
    });
  });
  return true;
}

interface VelocityPlan {
  readonly amounts: (ctx: Ctx, merchant: Merchant, currency: string, i: number) => number;
  readonly debits: number;
  readonly spacingMs: readonly [number, number];
  readonly categories?: readonly string[];
}

function velocity(ctx: Ctx, t0: number, scenario: string, plan: VelocityPlan, nearMissOf?: AnomalyKind): boolean {
  const rng = ctx.rng;
  const offsets = spacing(ctx, t0, plan.debits, plan.spacingMs[0], plan.spacingMs[1]);
  if (offsets === null || offsets[offsets.length - 1] >= ctx.rules.cardVelocity.windowMs) return false;
  const city = ctx.world.pickCity(rng);
  const currency = ctx.world.cities[city].currency;
  const merchants = merchantsIn(ctx, city, plan.debits, plan.categories);
  const card = ctx.world.scenarioCard(city);
  const label = cardLabel(ctx, scenario, t0, card, merchants[0], merchants[0].terminals[0].id, nearMissOf);
  const seen: Debit[] = [];
  const used = new Set<string>();
  offsets.forEach((off, i) => {
    ctx.schedule(t0 + off, () => {
      const t = ctx.now;
      const merchant = merchants[i % merchants.length];
      let amount = plan.amounts(ctx, merchant, currency, i);
      // Never the same merchant and amount twice: that would be a DUPLICATE_DEBIT too.
      while (used.has(`${merchant.id}|${amount}`)) amount += 1;
      used.add(`${merchant.id}|${amount}`);
      const terminal = ctx.terminalOf(merchant, t);
      if (i === 0) label.terminal_id = terminal.id;
      const a = new Attempt(ctx, { terminal, card, txnType: 'SALE', amount, currency, entryMode: ctx.world.pickEntryMode(rng) }, t);
      const { bank } = happyPath(a, t);
      seen.push({ t: bank.event_time, id: bank.event_id, rrn: bank.rrn, amount: bank.amount_minor, currency: bank.currency });
      if (seen.length === plan.debits) {
        setCardPattern(label, 'CARD_VELOCITY', card, velocityTriggers(seen, ctx.rules));
        const total = seen.reduce((s, d) => s + d.amount, 0);
        label.note = `${plan.debits} debits over ${Math.round((seen[seen.length - 1].t - seen[0].t) / 60_000)} min, ${total} ${currency} minor units in total`;
      }
    });
  });
  return true;
}

/** Splits `total` into 3 roughly equal integer parts. */
function splitSum(ctx: Ctx, total: number): number[] {
  const a = Math.round(total * ctx.rng.between(0.28, 0.38));
  const b = Math.round(total * ctx.rng.between(0.28, 0.38));
  return [a, b, total - a - b];
}

type TravelMode = 'impossible' | 'plausible' | 'nearby';

function travel(ctx: Ctx, t0: number, scenario: string, mode: TravelMode, nearMissOf?: AnomalyKind): boolean {
  const rng = ctx.rng;
  const { minDistanceKm, maxSpeedKmh } = ctx.rules.impossibleTravel;
  const cities = ctx.world.cities;
  const pairs: [number, number][] = [];
  for (let i = 0; i < cities.length; i++) for (let j = 0; j < cities.length; j++) if (i !== j) pairs.push([i, j]);
  rng.shuffle(pairs);
  for (const [from, to] of pairs) {
    const km = haversineKm(cities[from].lat, cities[from].lon, cities[to].lat, cities[to].lon);
    // 25 km of margin: terminals sit a few km around the city centre.
    if (mode === 'nearby' ? km > minDistanceKm - 25 : km < minDistanceKm + 25) continue;
    const limit = (km / maxSpeedKmh) * 3_600_000;
    const gap = mode === 'impossible' ? Math.max(3 * MINUTE, Math.round(limit * rng.between(0.25, 0.7))) : mode === 'plausible' ? Math.round(limit * rng.between(1.2, 1.5)) : rng.int(3 * MINUTE, 15 * MINUTE);
    if (mode === 'impossible' && gap >= limit * 0.8) continue;
    if (t0 + gap + 3 * MINUTE > ctx.endMs) continue;
    const card = ctx.world.scenarioCard(from);
    const first = ctx.terminalIn(from, t0, { located: true });
    const label = cardLabel(ctx, scenario, t0, card, first.merchant, first.id, nearMissOf);
    label.note = `${cities[from].name} -> ${cities[to].name} (${Math.round(km)} km) in ${Math.round(gap / 60_000)} min`;
    const seen: LocatedDebit[] = [];
    const play = (terminal: typeof first, t: number): void => {
      const currency = cities[terminal.merchant.city].currency;
      const a = new Attempt(ctx, { terminal, card, txnType: 'SALE', amount: ctx.world.amountFor(rng, terminal.merchant, currency), currency, entryMode: seen.length === 0 ? 'CHIP' : mode === 'impossible' ? 'SWIPE' : 'CONTACTLESS' }, t);
      const { bank } = happyPath(a, t);
      seen.push({ t: bank.event_time, id: bank.event_id, rrn: bank.rrn, lat: terminal.lat as number, lon: terminal.lon as number });
    };
    play(first, t0);
    ctx.schedule(t0 + gap, () => {
      play(ctx.terminalIn(to, ctx.now, { located: true }), ctx.now);
      setCardPattern(label, 'IMPOSSIBLE_TRAVEL', card, travelTriggers(seen, ctx.rules));
    });
    return true;
  }
  return false;
}

/**
 * Hardware signals at one terminal at the given offsets (true ms from t0):
 * DEVICE_FAULTs and card-read failures. The terminal is reserved for the
 * whole group, so nothing else adds a signal nearby.
 */
function signals(ctx: Ctx, t0: number, scenario: string, offsets: readonly number[], lateLast: boolean, nearMissOf?: AnomalyKind): boolean {
  const rng = ctx.rng;
  const lead = 5_000;
  const last = t0 + lead + offsets[offsets.length - 1];
  const lateBy = lateLast ? rng.int(2 * MINUTE, 8 * MINUTE) : 0;
  if (last + lateBy + 2 * MINUTE > ctx.endMs) return false;
  const world = ctx.world;
  let terminal = null;
  for (let i = 0; i < 40 && terminal === null; i++) {
    const cand = world.terminals[rng.int(0, world.terminals.length - 1)];
    if (world.claimSignals(cand, t0, last + lead)) terminal = cand;
  }
  if (terminal === null) return false;
  const term = terminal;
  const label = ctx.label(scenario, t0, term.id);
  label.merchant_id = term.merchant.id;
  label.near_miss_of = nearMissOf;
  const seen: Signal[] = [];
  const kinds: string[] = [];
  const done = (): void => {
    if (seen.length < offsets.length) return;
    const hits = faultSpikeTriggers(seen, ctx.rules);
    expect(label, hits.map((hit) => ({ kind: 'TERMINAL_FAULT_SPIKE' as const, status: 'OPEN' as const, key: `${term.id}|${utcDay(hit.trigger.t)}`, event_time: hit.trigger.t })));
    if (hits.length > 0) label.stan = hits[0].trigger.stan;
    label.note = `${offsets.length} hardware signals within ${Math.round((seen[seen.length - 1].t - seen[0].t) / 1000)} s of the terminal's clock: ${kinds.join(', ')}`;
  };
  offsets.forEach((off, i) => {
    const at = t0 + lead + off;
    const isLast = i === offsets.length - 1;
    if (rng.chance(0.6) || (isLast && lateLast)) {
      const component = rng.pick(FAULT_COMPONENTS);
      ctx.schedule(at, () => {
        const ev = deviceFault(ctx, term, at, component, isLast && lateLast ? { lateByMs: lateBy } : undefined);
        if (isLast && lateLast) {
          label.late_event_id = ev.event_id;
          label.late_stream = 'terminal';
          label.late_by_ms = lateBy;
        }
        kinds.push(`DEVICE_FAULT ${component}`);
        seen.push({ t: ev.event_time, id: ev.event_id, stan: ev.stan });
        done();
      });
    } else {
      const start = at - rng.int(500, 4_000);
      ctx.schedule(start, () => {
        const city = term.merchant.city;
        const currency = world.cities[city].currency;
        const a = new Attempt(ctx, { terminal: term, card: world.scenarioCard(city), txnType: 'SALE', amount: world.amountFor(rng, term.merchant, currency), currency, entryMode: 'CHIP' }, start);
        a.started(start);
        const ev = a.failed(at, 'CARD_READ_ERROR', null);
        kinds.push('TXN_FAILED CARD_READ_ERROR');
        seen.push({ t: ev.event_time, id: ev.event_id, stan: ev.stan });
        done();
      });
    }
  });
  return true;
}

export const PATTERN_SCENARIOS: readonly Scenario[] = [
  {
    name: 'CARD_TESTING',
    group: 'fault', weight: 1.2, guaranteed: 1, spanMs: 14 * MINUTE,
    run(ctx, t0) {
      const n = ctx.rng.int(6, 8);
      return cardTesting(ctx, t0, this.name, { attempts: n, declined: chooseDeclines(ctx, n, ctx.rng.int(4, 5), 0.6), merchants: ctx.rng.int(3, 4) });
    },
  },
  {
    name: 'NEAR_MISS_CARD_TESTING_FIVE_ATTEMPTS',
    group: 'fault', weight: 0.5, guaranteed: 1, spanMs: 10 * MINUTE,
    run(ctx, t0) {
      return cardTesting(ctx, t0, this.name, { attempts: 5, declined: chooseDeclines(ctx, 5, 4, 0), merchants: 3 }, 'CARD_TESTING');
    },
  },
  {
    name: 'NEAR_MISS_CARD_TESTING_TWO_MERCHANTS',
    group: 'fault', weight: 0.5, guaranteed: 1, spanMs: 12 * MINUTE,
    run(ctx, t0) {
      const n = ctx.rng.int(6, 7);
      return cardTesting(ctx, t0, this.name, { attempts: n, declined: chooseDeclines(ctx, n, ctx.rng.int(4, 5), 0.5), merchants: 2 }, 'CARD_TESTING');
    },
  },
  {
    name: 'NEAR_MISS_CARD_TESTING_THREE_DECLINED',
    group: 'fault', weight: 0.5, guaranteed: 1, spanMs: 12 * MINUTE,
    run(ctx, t0) {
      return cardTesting(ctx, t0, this.name, { attempts: 6, declined: chooseDeclines(ctx, 6, 3, 0), merchants: 3 }, 'CARD_TESTING');
    },
  },
  {
    name: 'CARD_VELOCITY_COUNT',
    group: 'fault', weight: 0.6, guaranteed: 1, spanMs: 20 * MINUTE,
    run(ctx, t0) {
      const n = Math.max(ctx.rules.cardVelocity.minDebits, ctx.rng.int(10, 12));
      return velocity(ctx, t0, this.name, { debits: n, spacingMs: [40_000, 150_000], amounts: (c, m, cur) => c.world.amountFor(c.rng, m, cur) });
    },
  },
  {
    name: 'NEAR_MISS_CARD_VELOCITY_COUNT',
    group: 'fault', weight: 0.4, guaranteed: 1, spanMs: 20 * MINUTE,
    run(ctx, t0) {
      return velocity(ctx, t0, this.name, { debits: ctx.rules.cardVelocity.minDebits - 1, spacingMs: [40_000, 150_000], amounts: (c, m, cur) => c.world.amountFor(c.rng, m, cur) }, 'CARD_VELOCITY');
    },
  },
  {
    name: 'CARD_VELOCITY_SUM',
    group: 'fault', weight: 0.6, guaranteed: 1, spanMs: 20 * MINUTE,
    run(ctx, t0) {
      const min = ctx.rules.cardVelocity.minSumMinor;
      const parts = splitSum(ctx, ctx.rng.int(Math.round(min * 1.01), Math.round(min * 1.12)));
      return velocity(ctx, t0, this.name, { debits: 3, spacingMs: [3 * MINUTE, 10 * MINUTE], categories: ['JEWELLERY', 'ELECTRONICS', 'FASHION'], amounts: (_c, _m, _cur, i) => parts[i] });
    },
  },
  {
    name: 'NEAR_MISS_CARD_VELOCITY_SUM',
    group: 'fault', weight: 0.4, guaranteed: 1, spanMs: 20 * MINUTE,
    run(ctx, t0) {
      const min = ctx.rules.cardVelocity.minSumMinor;
      // Just under the sum; +3 covers the de-duplicating increments of velocity().
      const parts = splitSum(ctx, ctx.rng.int(Math.round(min * 0.94), min - 20));
      return velocity(ctx, t0, this.name, { debits: 3, spacingMs: [3 * MINUTE, 10 * MINUTE], categories: ['JEWELLERY', 'ELECTRONICS', 'FASHION'], amounts: (_c, _m, _cur, i) => parts[i] }, 'CARD_VELOCITY');
    },
  },
  {
    name: 'IMPOSSIBLE_TRAVEL',
    group: 'fault', weight: 1, guaranteed: 1, spanMs: 20 * MINUTE,
    run(ctx, t0) {
      return travel(ctx, t0, this.name, 'impossible');
    },
  },
  {
    name: 'NEAR_MISS_TRAVEL_PLAUSIBLE',
    group: 'fault', weight: 0.5, guaranteed: 1, spanMs: 36 * MINUTE,
    run(ctx, t0) {
      return travel(ctx, t0, this.name, 'plausible', 'IMPOSSIBLE_TRAVEL');
    },
  },
  {
    name: 'NEAR_MISS_TRAVEL_NEARBY',
    group: 'fault', weight: 0.5, guaranteed: 1, spanMs: 18 * MINUTE,
    run(ctx, t0) {
      return travel(ctx, t0, this.name, 'nearby', 'IMPOSSIBLE_TRAVEL');
    },
  },
  {
    name: 'TERMINAL_FAULT_SPIKE',
    group: 'fault', weight: 1, guaranteed: 1, spanMs: 16 * MINUTE,
    run(ctx, t0) {
      const rng = ctx.rng;
      const offsets = [0, rng.int(MINUTE, 6 * MINUTE), rng.int(7 * MINUTE, 12 * MINUTE)];
      if (rng.chance(0.4)) offsets.push(rng.int(12 * MINUTE + 30_000, 14 * MINUTE));
      return signals(ctx, t0, this.name, offsets, rng.chance(0.3));
    },
  },
  {
    name: 'NEAR_MISS_FAULT_SPIKE_TWO_SIGNALS',
    group: 'fault', weight: 0.5, guaranteed: 1, spanMs: 16 * MINUTE,
    run(ctx, t0) {
      return signals(ctx, t0, this.name, [0, ctx.rng.int(MINUTE, 13 * MINUTE)], false, 'TERMINAL_FAULT_SPIKE');
    },
  },
  {
    name: 'NEAR_MISS_FAULT_SPIKE_SPREAD',
    group: 'fault', weight: 0.5, guaranteed: 1, spanMs: 20 * MINUTE,
    run(ctx, t0) {
      const rng = ctx.rng;
      const window = ctx.rules.terminalFaultSpike.windowMs;
      // Three signals, but the first and the third are more than the window apart.
      return signals(ctx, t0, this.name, [0, rng.int(5 * MINUTE, 7 * MINUTE), window + rng.int(45_000, 2 * MINUTE)], false, 'TERMINAL_FAULT_SPIKE');
    },
  },
];
