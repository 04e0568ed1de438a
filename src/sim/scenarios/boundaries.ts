/**
 * Boundary scenarios (SimOptions.boundaryRate): attempts bent so that two
 * events sit exactly on a window edge of the rules in force, or 1 ms either
 * side of it — the cases random times almost never produce and where an
 * off-by-one in the engine or the reference would hide:
 *
 * - reversal grace: a reversal applied at bank time debit + reversalGraceMs + d;
 * - resolution horizon: a reversal at debit + resolutionHorizonMs + d (after the span);
 * - duplicate window: a retry whose debit is duplicate windowMs + d after the
 *   first, or at the same bank time (then the rrn order decides);
 * - equal-time terminal events: TXN_FAILED at the terminal time of the
 *   RESPONSE_RECEIVED 00 + d;
 * - card testing: six small attempts (amount exactly maxAmountMinor), the last
 *   windowMs + d after the first; card velocity: minDebits debits, the last
 *   windowMs + d after the first, or two debits summing to minSumMinor + d;
 * - impossible travel: two debits at located terminals in two cities, the
 *   distance's travel time at maxSpeedKmh apart (rounded down or up, +-1 ms);
 * - terminal fault spike: minSignals DEVICE_FAULTs, the last windowMs + d
 *   after the first on the terminal's clock;
 * - UTC midnight: when the span crosses one, card-testing and fault-spike
 *   triggers land on midnight + d (the per-day keys of the patterns).
 * (max_delay: the emitter delivers a share of events exactly max delay + d
 * after they happen, ./../emitter.ts.)
 *
 * Labels do not describe these attempts: with boundaryRate > 0 the batch
 * reference (src/eval) is the judge. Off unless boundaryRate > 0; when off it
 * draws no random number, so every other run stays byte-for-byte the same.
 */
import type { BankEvent } from '../../events/index.js';
import { Attempt, deviceFault, Reversal } from '../attempt.js';
import type { Ctx } from '../context.js';
import { CITIES, travelMs } from '../geo.js';
import { haversineKm } from '../../util/geo.js';
import type { Rng } from '../rng.js';
import type { Card, Merchant, Terminal } from '../world.js';
import { MINUTE } from './common.js';

const EDGES = [-1, 0, 1] as const;
const DAY_MS = 86_400_000;
/** True time an attempt needs before its bank event (TXN_STARTED .. FORWARDED_TO_ISSUER). */
const LEAD_MS = 1_500;

type End = 'COMPLETED' | 'LOST' | 'RECEIVED';

interface Sale {
  readonly bank: BankEvent;
  /** True times of the bank event and of the terminal's RESPONSE_RECEIVED (NaN when none). */
  readonly tBank: number;
  readonly tRecv: number;
  readonly tFail: number;
}

/**
 * One attempt whose bank AUTH_APPROVED (or AUTH_DECLINED with `declineCode`)
 * the bank stamps exactly `stamp`. The terminal completes (COMPLETED), never
 * hears back and times out (LOST), or only logs the response (RECEIVED).
 */
function saleAt(ctx: Ctx, a: Attempt, stamp: number, end: End, declineCode?: string): Sale {
  const tBank = ctx.clocks.bankTrueFor(stamp);
  const code = declineCode ?? '00';
  a.started(tBank - 1_200);
  a.requestSent(tBank - 900);
  a.gatewayEvent('REQUEST_RECEIVED', tBank - 800);
  a.gatewayEvent('FORWARDED_TO_ISSUER', tBank - 780);
  const bank = declineCode === undefined ? a.bankApproved(tBank) : a.bankDeclined(tBank, declineCode);
  a.gatewayEvent('ISSUER_RESPONSE', tBank + 150, { response_code: code, latency_ms: 930 });
  a.gatewayEvent('RESPONSE_SENT', tBank + 170, { response_code: code });
  if (end === 'LOST') {
    const tFail = tBank + 29_100;
    a.failed(tFail, 'TIMEOUT', null);
    return { bank, tBank, tRecv: NaN, tFail };
  }
  const tRecv = tBank + 250;
  a.responseReceived(tRecv, code);
  if (end === 'RECEIVED') return { bank, tBank, tRecv, tFail: NaN };
  if (declineCode !== undefined) a.failed(tRecv + 400, 'DECLINED', declineCode);
  else a.completed(tRecv + 650);
  return { bank, tBank, tRecv, tFail: NaN };
}

/** Plays saleAt when generation reaches (just before) the stamp's true time. */
function saleLater(ctx: Ctx, make: () => Attempt, stamp: number, end: End, declineCode?: string): void {
  ctx.schedule(ctx.clocks.bankTrueFor(stamp) - LEAD_MS, () => saleAt(ctx, make(), stamp, end, declineCode));
}

interface Shop {
  readonly city: number;
  readonly card: Card;
  readonly merchants: Merchant[];
  readonly amount: number;
  readonly currency: string;
}

/** A scenario card (nothing else pays with it) and `n` merchants of one city. */
function shop(ctx: Ctx, n: number, city = ctx.world.pickCity(ctx.rng)): Shop | null {
  const merchants = ctx.rng.shuffle([...ctx.world.merchantsByCity[city]]).slice(0, n);
  if (merchants.length < n) return null;
  const currency = CITIES[city].currency;
  return { city, card: ctx.world.scenarioCard(city), merchants, amount: ctx.world.amountFor(ctx.rng, merchants[0], currency), currency };
}

function attemptAt(ctx: Ctx, s: Shop, terminal: Terminal, amount = s.amount): Attempt {
  return new Attempt(ctx, { terminal, card: s.card, txnType: 'SALE', amount, currency: s.currency, entryMode: 'CHIP' }, ctx.now);
}

/** Stamps `n` times from `first` to `last` (both included), evenly spread. */
function spread(first: number, last: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? last : first + Math.floor(((last - first) * i) / (n - 1))));
}

/** A UTC midnight m with m - before >= from and m <= to, if the span has one. */
function midnightIn(from: number, to: number, before: number): number | null {
  const m = Math.ceil((from + before) / DAY_MS) * DAY_MS;
  return m <= to ? m : null;
}

type Play = (ctx: Ctx, t0: number, d: number, rng: Rng) => boolean;

const reversalEdge = (horizon: boolean): Play => (ctx, t0, d) => {
  const s = shop(ctx, 1);
  if (s === null || t0 + 2 * MINUTE > ctx.endMs) return false;
  const a = attemptAt(ctx, s, ctx.terminalOf(s.merchants[0], t0));
  const sale = saleAt(ctx, a, ctx.clocks.bank(t0 + 2_000), 'LOST');
  const rev = new Reversal(a);
  rev.sent(sale.tFail + 400);
  rev.gwReceived(sale.tFail + 480);
  rev.gwForwarded(sale.tFail + 500);
  const r = ctx.rules.debits;
  const tApplied = ctx.clocks.bankTrueFor(sale.bank.event_time + (horizon ? r.resolutionHorizonMs : r.reversalGraceMs) + d);
  ctx.schedule(tApplied, () => rev.bankApplied(tApplied));
  return true;
};

const duplicateEdge: Play = (ctx, t0, d, rng) => {
  const s = shop(ctx, 1);
  const windowMs = ctx.rules.duplicateDebit.windowMs;
  if (s === null || t0 + windowMs + 2 * MINUTE > ctx.endMs) return false;
  const m = s.merchants[0];
  const first = saleAt(ctx, attemptAt(ctx, s, ctx.terminalOf(m, t0)), ctx.clocks.bank(t0 + 2_000), rng.chance(0.5) ? 'LOST' : 'COMPLETED');
  const sameTime = rng.chance(0.25);
  saleLater(ctx, () => attemptAt(ctx, s, ctx.terminalOf(m, ctx.now)), first.bank.event_time + (sameTime ? 0 : windowMs + d), 'COMPLETED');
  return true;
};

const failedAtResponse: Play = (ctx, t0, d) => {
  const s = shop(ctx, 1);
  if (s === null || t0 + MINUTE > ctx.endMs) return false;
  const a = attemptAt(ctx, s, ctx.terminalOf(s.merchants[0], t0));
  const sale = saleAt(ctx, a, ctx.clocks.bank(t0 + 2_000), 'RECEIVED');
  a.failed(sale.tRecv + d, 'PRINTER_ERROR', null);
  return true;
};

const cardTestingEdge: Play = (ctx, t0, d, rng) => {
  const c = ctx.rules.cardTesting;
  const s = shop(ctx, c.minMerchants);
  if (s === null || c.minAttempts < 2 || t0 + c.windowMs + 3 * MINUTE > ctx.endMs) return false;
  let first = ctx.clocks.bank(t0 + 2_000);
  let last = first + c.windowMs + d;
  const midnight = rng.chance(0.5) ? midnightIn(first, ctx.endMs - 2 * MINUTE, c.windowMs + 1) : null;
  if (midnight !== null) {
    last = midnight + rng.pick(EDGES);
    first = last - c.windowMs - d;
  }
  // First and last approved, the rest declined: the window holds all of them only when the first is still in it.
  const stamps = spread(first, last, c.minAttempts);
  const bigOne = rng.chance(0.2) ? rng.int(0, stamps.length - 1) : -1;
  stamps.forEach((stamp, i) => {
    const m = s.merchants[i % s.merchants.length];
    const amount = c.maxAmountMinor + (i === bigOne ? 1 : 0);
    const declined = i > 0 && i < stamps.length - 1;
    saleLater(ctx, () => attemptAt(ctx, s, ctx.terminalOf(m, ctx.now), amount), stamp, 'COMPLETED', declined ? '05' : undefined);
  });
  return true;
};

const velocityEdge: Play = (ctx, t0, d, rng) => {
  const v = ctx.rules.cardVelocity;
  const s = shop(ctx, 3);
  if (s === null) return false;
  const first = ctx.clocks.bank(t0 + 2_000);
  const pay = (stamp: number, i: number, amount = s.amount) =>
    saleLater(ctx, () => attemptAt(ctx, s, ctx.terminalOf(s.merchants[i % 3], ctx.now), amount), stamp, 'COMPLETED');
  if (rng.chance(0.5)) {
    // Two debits summing to the threshold +- 1 minor unit.
    if (t0 + 3 * MINUTE > ctx.endMs || v.minSumMinor < 4) return false;
    const half = Math.floor(v.minSumMinor / 2);
    pay(first, 0, half);
    pay(first + MINUTE, 1, v.minSumMinor - half + d);
    return true;
  }
  if (v.minDebits < 2 || t0 + v.windowMs + 3 * MINUTE > ctx.endMs) return false;
  spread(first, first + v.windowMs + d, v.minDebits).forEach((stamp, i) => pay(stamp, i));
  return true;
};

const travelEdge: Play = (ctx, t0, d, rng) => {
  const it = ctx.rules.impossibleTravel;
  const from = ctx.world.pickCity(rng);
  const room = ctx.endMs - t0 - 3 * MINUTE;
  const far = CITIES.map((c, i) => ({ i, km: haversineKm(CITIES[from].lat, CITIES[from].lon, c.lat, c.lon) }))
    .filter((c) => c.km >= it.minDistanceKm + 50 && travelMs(c.km, it.maxSpeedKmh) < room - 30_000);
  const s = shop(ctx, 1, from);
  if (far.length === 0 || s === null) return false;
  const to = rng.pick(far).i;
  const t1 = ctx.terminalIn(from, t0, { located: true });
  const t2 = ctx.terminalIn(to, t0, { located: true });
  if (t1.lat === null || t1.lon === null || t2.lat === null || t2.lon === null) return false;
  // The limit from the terminals' own coordinates (what TXN_STARTED reports), rounded to a whole ms either way.
  const limit = travelMs(haversineKm(t1.lat, t1.lon, t2.lat, t2.lon), it.maxSpeedKmh);
  const gap = (rng.chance(0.5) ? Math.floor(limit) : Math.ceil(limit)) + d;
  const first = saleAt(ctx, attemptAt(ctx, s, t1), ctx.clocks.bank(t0 + 2_000), 'COMPLETED');
  const away: Shop = { ...s, currency: CITIES[to].currency };
  saleLater(ctx, () => attemptAt(ctx, away, t2), first.bank.event_time + gap, 'COMPLETED');
  return true;
};

const faultSpikeEdge: Play = (ctx, t0, d, rng) => {
  const f = ctx.rules.terminalFaultSpike;
  const term = ctx.terminalIn(ctx.world.pickCity(rng), t0);
  if (f.minSignals < 2 || t0 + f.windowMs + 2 * MINUTE > ctx.endMs) return false;
  // Terminal stamps: true time + the terminal's steady drift.
  let first = t0 + 2_000 + term.driftMs;
  let last = first + f.windowMs + d;
  const midnight = rng.chance(0.5) ? midnightIn(first, ctx.endMs - 2 * MINUTE + term.driftMs, f.windowMs + 1) : null;
  if (midnight !== null) {
    last = midnight + rng.pick(EDGES);
    first = last - f.windowMs - d;
  }
  if (!ctx.world.claimSignals(term, first - term.driftMs, last - term.driftMs)) return false;
  for (const stamp of spread(first, last, f.minSignals)) {
    const t = stamp - term.driftMs;
    ctx.schedule(t, () => deviceFault(ctx, term, t, 'CARD_READER'));
  }
  return true;
};

const PLAYS: readonly Play[] = [
  reversalEdge(false), reversalEdge(true), duplicateEdge, failedAtResponse, cardTestingEdge, velocityEdge, travelEdge, faultSpikeEdge,
];

export class Boundaries {
  constructor(private readonly rate: number, private readonly rng: Rng) {}

  /** Plays a boundary scenario at t0 when the draw says so; false = play a normal attempt. */
  maybeRun(ctx: Ctx, t0: number): boolean {
    if (!this.rng.chance(this.rate)) return false;
    return this.rng.pick(PLAYS)(ctx, t0, this.rng.pick(EDGES), this.rng);
  }
}
