/**
 * The simulated world: cities, merchants and their terminals, issuers and
 * cards. Terminals and merchants are objects (a few thousand); the card pool
 * can be hundreds of thousands, so a card is derived on demand from its index
 * by hashing and only its last use is stored (typed arrays).
 *
 * The world also keeps the bookkeeping that keeps background traffic free of
 * accidental anomalies, so that labels.jsonl lists every anomaly in the data
 * (the limits follow the rules, see `Guards`):
 *  - card cooldown: a pool card makes at most one possible debit per cooldown
 *    (longer than the duplicate and card-testing windows, and few enough
 *    debits, small enough, per velocity window), and never moves between
 *    cities faster than the impossible-travel speed;
 *  - hardware signals: a terminal's signals outside a planned spike or near
 *    miss are far apart, so no accidental TERMINAL_FAULT_SPIKE.
 */
import type { Rules } from '../config/rules.js';
import type { EntryMode, Network } from '../events/index.js';
import { CITIES, type City } from './geo.js';
import { haversineKm } from '../util/geo.js';
import { fmix32, hash2, type Rng, Weighted } from './rng.js';
import { hex32 } from './uuid.js';
import { createHash } from 'node:crypto';

/** Extra slack on top of the impossible-travel time before a pool card may appear in another city. */
export const TRAVEL_SLACK_MS = 10 * 60_000;

/** The background's distances from every rule (15 min, 45 min and 2,500.00 with the spec defaults). */
export interface Guards {
  readonly cardCooldownMs: number;
  readonly signalIsolationMs: number;
  readonly maxAmountMinor: number;
}

export function guardsFor(rules: Rules): Guards {
  const v = rules.cardVelocity;
  const cardCooldownMs = Math.max(
    15 * 60_000,
    rules.duplicateDebit.windowMs + 60_000,
    rules.cardTesting.windowMs + 60_000,
    // At most minDebits - 1 debits per velocity window.
    v.minDebits > 1 ? Math.ceil(v.windowMs / (v.minDebits - 1)) + 60_000 : Infinity,
  );
  const perWindow = Math.floor(v.windowMs / cardCooldownMs) + 1;
  return {
    cardCooldownMs,
    signalIsolationMs: Math.max(45 * 60_000, 3 * rules.terminalFaultSpike.windowMs),
    maxAmountMinor: Math.max(100, Math.min(250_000, Math.floor((v.minSumMinor - 1) / (2 * perWindow)))),
  };
}

export type Category = 'GROCERY' | 'RESTAURANT' | 'CAFE' | 'FUEL' | 'PHARMACY' | 'FASHION' | 'ELECTRONICS' | 'HOTEL' | 'TRANSPORT' | 'JEWELLERY';

interface CategoryDef {
  readonly name: Category;
  readonly weight: number;
  /** Median amount in EUR cents; other currencies are scaled. */
  readonly median: number;
  readonly sigma: number;
  /** Share of attempts that are PREAUTH rather than SALE. */
  readonly preauth: number;
}

const CATEGORIES: readonly CategoryDef[] = [
  { name: 'GROCERY', weight: 26, median: 3200, sigma: 0.8, preauth: 0 },
  { name: 'RESTAURANT', weight: 16, median: 4800, sigma: 0.6, preauth: 0 },
  { name: 'CAFE', weight: 14, median: 650, sigma: 0.5, preauth: 0 },
  { name: 'FUEL', weight: 9, median: 5500, sigma: 0.45, preauth: 0.3 },
  { name: 'PHARMACY', weight: 8, median: 1800, sigma: 0.7, preauth: 0 },
  { name: 'FASHION', weight: 9, median: 6500, sigma: 0.7, preauth: 0 },
  { name: 'ELECTRONICS', weight: 5, median: 18000, sigma: 0.9, preauth: 0 },
  { name: 'HOTEL', weight: 4, median: 24000, sigma: 0.5, preauth: 0.6 },
  { name: 'TRANSPORT', weight: 8, median: 1200, sigma: 0.6, preauth: 0 },
  { name: 'JEWELLERY', weight: 1, median: 35000, sigma: 0.9, preauth: 0 },
];
const CATEGORY_TABLE = new Weighted(CATEGORIES, CATEGORIES.map((c) => c.weight));

/** Rough units of each currency per euro, to keep amounts plausible. */
export const CURRENCY_SCALE: Readonly<Record<string, number>> = { EUR: 1, GBP: 0.86, PLN: 4.3, USD: 1.08, CHF: 0.95, CNY: 7.8 };

export interface Issuer {
  readonly id: string;
  readonly country: string;
  readonly currency: string;
  /** Issued abroad: its cardholders are tourists and may pay in their own currency (DCC). */
  readonly foreign: boolean;
  readonly weight: number;
  readonly networks: readonly { readonly network: Network; readonly bin: string; readonly weight: number }[];
}

const ISSUERS: readonly Issuer[] = [
  { id: '100120', country: 'FR', currency: 'EUR', foreign: false, weight: 13, networks: [{ network: 'VISA', bin: '497671', weight: 6 }, { network: 'MASTERCARD', bin: '513457', weight: 4 }] },
  { id: '100342', country: 'FR', currency: 'EUR', foreign: false, weight: 8, networks: [{ network: 'MASTERCARD', bin: '535110', weight: 7 }, { network: 'OTHER', bin: '507208', weight: 2 }] },
  { id: '200117', country: 'DE', currency: 'EUR', foreign: false, weight: 10, networks: [{ network: 'VISA', bin: '410039', weight: 5 }, { network: 'MASTERCARD', bin: '522371', weight: 5 }] },
  { id: '300415', country: 'ES', currency: 'EUR', foreign: false, weight: 10, networks: [{ network: 'VISA', bin: '454313', weight: 6 }, { network: 'MASTERCARD', bin: '540098', weight: 4 }] },
  { id: '400188', country: 'IT', currency: 'EUR', foreign: false, weight: 6, networks: [{ network: 'VISA', bin: '453997', weight: 5 }, { network: 'MASTERCARD', bin: '526418', weight: 5 }] },
  { id: '500093', country: 'NL', currency: 'EUR', foreign: false, weight: 7, networks: [{ network: 'MASTERCARD', bin: '557349', weight: 6 }, { network: 'VISA', bin: '465859', weight: 4 }] },
  { id: '600251', country: 'GB', currency: 'GBP', foreign: false, weight: 10, networks: [{ network: 'VISA', bin: '475129', weight: 6 }, { network: 'MASTERCARD', bin: '543460', weight: 4 }] },
  { id: '700306', country: 'PL', currency: 'PLN', foreign: false, weight: 4, networks: [{ network: 'VISA', bin: '423916', weight: 5 }, { network: 'MASTERCARD', bin: '520614', weight: 5 }] },
  { id: '910044', country: 'US', currency: 'USD', foreign: true, weight: 2.5, networks: [{ network: 'VISA', bin: '414720', weight: 6 }, { network: 'MASTERCARD', bin: '546616', weight: 4 }] },
  { id: '920118', country: 'CN', currency: 'CNY', foreign: true, weight: 1.5, networks: [{ network: 'UNIONPAY', bin: '622588', weight: 1 }] },
  { id: '930072', country: 'CH', currency: 'CHF', foreign: true, weight: 1, networks: [{ network: 'MASTERCARD', bin: '530127', weight: 6 }, { network: 'VISA', bin: '498824', weight: 4 }] },
];
const ISSUER_TABLE = new Weighted(ISSUERS, ISSUERS.map((i) => i.weight));
const NETWORK_TABLES = new Map(ISSUERS.map((i) => [i, new Weighted(i.networks, i.networks.map((n) => n.weight))]));

const ENTRY_MODES = Weighted.of<EntryMode>([['CONTACTLESS', 55], ['CHIP', 35], ['SWIPE', 4], ['QR', 4], ['MANUAL', 2]]);

export interface Merchant {
  readonly id: string;
  readonly city: number;
  readonly category: CategoryDef;
  readonly lat: number;
  readonly lon: number;
  readonly terminals: Terminal[];
}

export interface Terminal {
  readonly index: number;
  readonly id: string;
  readonly merchant: Merchant;
  /** Steady offset of this terminal's clock from true time, ms (within +/-5 min). */
  readonly driftMs: number;
  /** Registered location; null for the few terminals that do not report one. */
  readonly lat: number | null;
  readonly lon: number | null;
  /** Next stan to hand out. */
  stan: number;
  /** True time until which an attempt is in progress. */
  busyUntil: number;
}

export interface Card {
  readonly index: number;
  readonly token: string;
  readonly maskedPan: string | null;
  readonly issuer: Issuer;
  readonly network: Network;
  readonly homeCity: number;
}

export interface WorldSize {
  readonly terminals: number;
  readonly cardPool: number;
}

export function worldSize(tps: number, guards: Guards): WorldSize {
  return {
    // ~1 attempt per terminal per minute at the nominal rate.
    terminals: clamp(Math.round(tps * 60), 48, 60_000),
    // Twice the cards that can be cooling down at once, so a free one is found fast.
    cardPool: clamp(Math.ceil((tps * 2 * guards.cardCooldownMs) / 1000), 2_000, 4_000_000),
  };
}

export class World {
  readonly cities: readonly City[] = CITIES;
  readonly merchants: Merchant[] = [];
  readonly merchantsByCity: Merchant[][] = CITIES.map(() => []);
  readonly terminals: Terminal[] = [];
  readonly issuers: readonly Issuer[] = ISSUERS;
  readonly poolSize: number;
  /** Last possible-debit true time per pool card, and where. */
  private readonly lastUse: Float64Array;
  private readonly lastCity: Int8Array;
  /** Last (or last reserved) hardware-signal true time per terminal. */
  private readonly lastSignal: Float64Array;
  private scenarioCards = 0;
  private rrnCounter: number;
  private readonly cityTable: Weighted<number>;
  private readonly issuerCityTables: Map<Issuer, Weighted<number>>;
  private readonly cardKeys: readonly [number, number, number, number];

  constructor(private readonly seed: number, rng: Rng, size: WorldSize, readonly guards: Guards) {
    this.poolSize = size.cardPool;
    this.lastUse = new Float64Array(size.cardPool).fill(-Infinity);
    this.lastCity = new Int8Array(size.cardPool).fill(-1);
    this.cityTable = new Weighted(CITIES.map((_, i) => i), CITIES.map((c) => c.weight));
    this.issuerCityTables = new Map(ISSUERS.map((iss) => {
      const local = CITIES.map((c, i) => (c.country === iss.country ? i : -1)).filter((i) => i >= 0);
      // Foreign cardholders are tourists: spread like everyone else.
      return [iss, local.length > 0 ? new Weighted(local, local.map((i) => CITIES[i].weight)) : this.cityTable];
    }));
    this.cardKeys = [rng.u32(), rng.u32(), rng.u32(), rng.u32()];
    this.rrnCounter = rng.int(0, 9_999_999);

    const cityCounters = CITIES.map(() => rng.int(100_000, 400_000));
    let merchantSeq = rng.int(1_000_000, 9_000_000);
    const addMerchant = (city: number): void => {
      const category = CATEGORY_TABLE.pick(rng);
      merchantSeq += rng.int(1, 97);
      const c = CITIES[city];
      const m: Merchant = {
        id: `MER${c.code}${String(merchantSeq).padStart(10, '0')}`,
        city,
        category,
        lat: round6(c.lat + rng.between(-0.03, 0.03)),
        lon: round6(c.lon + rng.between(-0.04, 0.04)),
        terminals: [],
      };
      const n = Math.min(8, 1 + Math.floor(-Math.log(1 - rng.float()) * 1.6));
      for (let k = 0; k < n; k++) {
        cityCounters[city] += rng.int(1, 13);
        const located = rng.chance(0.97);
        const t: Terminal = {
          index: this.terminals.length,
          id: `${c.code}${String(cityCounters[city]).padStart(6, '0')}`,
          merchant: m,
          driftMs: rng.int(-300_000, 300_000),
          lat: located ? m.lat : null,
          lon: located ? m.lon : null,
          stan: rng.int(1, 400_000),
          busyUntil: -Infinity,
        };
        m.terminals.push(t);
        this.terminals.push(t);
      }
      this.merchants.push(m);
      this.merchantsByCity[city].push(m);
    };
    // Every city gets a few merchants (the pattern scenarios need several per city).
    for (let city = 0; city < CITIES.length; city++) for (let k = 0; k < 4; k++) addMerchant(city);
    while (this.terminals.length < size.terminals) addMerchant(this.cityTable.pick(rng));
    this.lastSignal = new Float64Array(this.terminals.length).fill(-Infinity);
  }

  pickCity(rng: Rng): number {
    return this.cityTable.pick(rng);
  }

  pickEntryMode(rng: Rng): EntryMode {
    return ENTRY_MODES.pick(rng);
  }

  /** A card of the pool (index < poolSize) or a scenario card (index >= poolSize), derived from its index. */
  card(index: number, homeCity?: number): Card {
    const [k0, k1, k2, k3] = this.cardKeys;
    const issuer = ISSUER_TABLE.at(hash2(index, k1) / 4294967296);
    const net = (NETWORK_TABLES.get(issuer) as Weighted<Issuer['networks'][number]>).at(hash2(index, k2) / 4294967296);
    const h = hash2(index, k3);
    // The first 8 hex digits are a bijection of the index: tokens are unique.
    const token = 'tok_' + hex32(fmix32((index ^ k0) >>> 0)) + hex32(hash2(index, k0 ^ 0x55)) + hex32(hash2(index, k1 ^ 0xaa));
    const last4 = String(h % 10_000).padStart(4, '0');
    return {
      index,
      token,
      maskedPan: (h >>> 16) % 10 < 9 ? `${net.bin}******${last4}` : null,
      issuer,
      network: net.network,
      homeCity: homeCity ?? (this.issuerCityTables.get(issuer) as Weighted<number>).at(hash2(index, k0 ^ 0x3c) / 4294967296),
    };
  }

  /** A fresh card no background traffic will ever use, issued at home in `homeCity` (so paying in its currency). */
  scenarioCard(homeCity: number): Card {
    for (;;) {
      const c = this.card(this.poolSize + this.scenarioCards++, homeCity);
      // Domestic cards only, so a scenario card pays in the city's currency.
      if (!c.issuer.foreign && c.issuer.currency === CITIES[homeCity].currency) return c;
    }
  }

  /** One-way hash of the cardholder account (what the bank core logs). */
  accountRef(card: Card): string {
    return createHash('sha256').update(`acct|${this.seed}|${card.index}`).digest('hex');
  }

  /** When the pool card last made a possible debit (-Infinity if never) and in which city (-1). */
  lastUseOf(index: number): { at: number; city: number } {
    return { at: this.lastUse[index], city: this.lastCity[index] };
  }

  isCoolingDown(index: number, t: number): boolean {
    return t - this.lastUse[index] < this.guards.cardCooldownMs;
  }

  /** May a pool card that was last in its last city appear in `city` at true time t? */
  canBeIn(index: number, city: number, t: number, maxSpeedKmh: number): boolean {
    const last = this.lastCity[index];
    if (last < 0 || last === city) return true;
    const a = CITIES[last];
    const b = CITIES[city];
    // +30 km covers the merchants' scatter around the city centres.
    const km = haversineKm(a.lat, a.lon, b.lat, b.lon) + 30;
    return t - this.lastUse[index] >= (km / maxSpeedKmh) * 3_600_000 + TRAVEL_SLACK_MS;
  }

  markUsed(index: number, city: number, t: number): void {
    if (index >= this.poolSize) return;
    this.lastUse[index] = Math.max(this.lastUse[index], t);
    this.lastCity[index] = city;
  }

  /** Reserves one isolated hardware signal at true time t; false when it could join a spike. */
  claimSignal(terminal: Terminal, t: number): boolean {
    return this.claimSignals(terminal, t, t);
  }

  /** Reserves [from, to] for a planned group of signals (a spike or a near miss). */
  claimSignals(terminal: Terminal, from: number, to: number): boolean {
    if (this.lastSignal[terminal.index] > from - this.guards.signalIsolationMs) return false;
    this.lastSignal[terminal.index] = to;
    return true;
  }

  nextStan(terminal: Terminal): string {
    const s = terminal.stan;
    terminal.stan = s >= 999_999 ? 1 : s + 1;
    return String(s).padStart(6, '0');
  }

  /** 12 digits: last digit of the year, day of year, and a global counter (unique within a run). */
  nextRrn(trueMs: number): string {
    const d = new Date(trueMs);
    const year = d.getUTCFullYear();
    const doy = Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
    this.rrnCounter = (this.rrnCounter + 1) % 100_000_000;
    return `${year % 10}${String(doy).padStart(3, '0')}${String(this.rrnCounter).padStart(8, '0')}`;
  }

  /** A plausible amount (minor units) for a purchase at this merchant in this currency. */
  amountFor(rng: Rng, merchant: Merchant, currency: string): number {
    const scale = CURRENCY_SCALE[currency] ?? 1;
    const raw = rng.logNormal(merchant.category.median * scale, merchant.category.sigma);
    return clamp(Math.round(raw), 50, this.guards.maxAmountMinor);
  }

  isPreauth(rng: Rng, merchant: Merchant): boolean {
    return rng.chance(merchant.category.preauth);
  }
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
