/**
 * The generation loop. True time advances in one-second slices: each slice
 * schedules its background attempts (a Poisson count at the diurnal rate),
 * runs every step due in it (attempts, scenario steps planned earlier), then
 * releases the records that arrive before the slice ends (./emitter.ts). An
 * attempt becomes an injected scenario with probability faultRate (or the
 * late-event rate); on top of that, each scenario is guaranteed to appear at
 * least `guaranteed` times at random times where it fits in the span.
 */
import type { Rules } from '../config/rules.js';
import { STREAMS, type Stream } from '../events/index.js';
import { Background, diurnal } from './background.js';
import { BAD_KINDS, type BadKind } from './bad-records.js';
import { Clocks } from './clocks.js';
import type { Ctx, Purchase, TerminalQuery } from './context.js';
import { type BadRecordInfo, Emitter } from './emitter.js';
import { MinHeap } from './heap.js';
import { newLabel, type SimLabel } from './labels.js';
import { Rng, Weighted } from './rng.js';
import { SCENARIOS, type Scenario } from './scenarios/index.js';
import { Boundaries } from './scenarios/boundaries.js';
import { IssuerOutage, type IssuerOutageOptions } from './scenarios/issuer-outage.js';
import type { SimRecord } from './types.js';
import { UuidFactory } from './uuid.js';
import { guardsFor, type Merchant, type Terminal, World, worldSize } from './world.js';

export interface ResolvedOptions {
  readonly seed: number;
  readonly minutes: number;
  readonly tps: number;
  readonly startMs: number;
  readonly faultRate: number;
  readonly badRecordRate: number;
  readonly redeliveryRate: number;
  readonly lateEventRate: number;
  readonly rules: Rules;
  readonly issuerOutage: IssuerOutageOptions | null;
  readonly boundaryRate: number;
}

const TICK_MS = 1_000;
/** Average events per attempt: turns the per-event late rate into a per-attempt one. */
const EVENTS_PER_ATTEMPT = 9;
/** A guaranteed scenario that cannot be placed (no free card...) is retried this often, this much later. */
const PLACEMENT_RETRIES = 5;
const PLACEMENT_RETRY_MS = 3_000;

interface Step {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

export class Simulator implements Ctx {
  readonly rng: Rng;
  readonly world: World;
  readonly clocks: Clocks;
  readonly out: Emitter;
  readonly rules: Rules;
  readonly startMs: number;
  readonly endMs: number;
  now: number;
  private readonly steps = new MinHeap<Step>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  private stepSeq = 0;
  private labelSeq = 0;
  private readonly background: Background;
  private readonly faults: Weighted<Scenario>;
  private readonly lates: Weighted<Scenario>;
  private readonly lateAttemptRate: number;
  private readonly outage: IssuerOutage | null;
  private readonly boundaries: Boundaries | null;

  constructor(private readonly o: ResolvedOptions, private readonly labels: SimLabel[]) {
    this.rules = o.rules;
    this.startMs = o.startMs;
    this.endMs = o.startMs + Math.round(o.minutes * 60_000);
    this.now = o.startMs;
    // One stream per concern, so one knob does not reshuffle the rest.
    const guards = guardsFor(o.rules);
    this.world = new World(o.seed, new Rng(o.seed, 1), worldSize(o.tps, guards), guards);
    this.rng = new Rng(o.seed, 2);
    const noise = new Rng(o.seed, 3);
    this.clocks = new Clocks(new Rng(o.seed, 5), o.startMs);
    this.out = new Emitter(o.startMs, noise, new UuidFactory(new Rng(o.seed, 4)), {
      maxDelayMs: o.rules.time.maxDelayMs,
      redeliveryRate: o.redeliveryRate,
      badRecordRate: o.badRecordRate,
      mandatoryBad: this.planBadRecords(new Rng(o.seed, 6)),
      edgeDelay: o.boundaryRate > 0 ? { share: o.boundaryRate, rng: new Rng(o.seed, 10) } : null,
    }, (info) => this.labelBad(info));
    this.background = new Background(this);
    const faults = SCENARIOS.filter((s) => s.group === 'fault');
    const lates = SCENARIOS.filter((s) => s.group === 'late');
    this.faults = new Weighted(faults, faults.map((s) => s.weight));
    this.lates = new Weighted(lates, lates.map((s) => s.weight));
    this.lateAttemptRate = Math.min(1, o.lateEventRate * EVENTS_PER_ATTEMPT);
    this.placeGuaranteed(new Rng(o.seed, 7));
    this.outage = o.issuerOutage === null ? null : new IssuerOutage(o.issuerOutage, new Rng(o.seed, 8));
    // Own random streams, drawn only when on: without boundaries every run is byte-for-byte what it was.
    this.boundaries = o.boundaryRate > 0 ? new Boundaries(o.boundaryRate, new Rng(o.seed, 9)) : null;
  }

  /** All records, in arrival order. Labels fill up as it runs and are complete when it ends. */
  *records(): Generator<SimRecord> {
    for (let s = this.startMs; s < this.endMs; s += TICK_MS) {
      const e = Math.min(s + TICK_MS, this.endMs);
      this.now = s;
      const n = this.rng.poisson((this.o.tps * diurnal(s) * (e - s)) / 1000);
      for (let i = 0; i < n; i++) {
        const t0 = this.rng.int(s, e - 1);
        this.schedule(t0, () => this.attempt(t0));
      }
      this.background.faults(s, e);
      this.runSteps(e);
      yield* this.out.release(e);
    }
    this.runSteps(Infinity);
    yield* this.out.release(Infinity);
  }

  schedule(atMs: number, run: () => void): void {
    this.steps.push({ at: Math.max(atMs, this.now), seq: this.stepSeq++, run });
  }

  label(scenario: string, startMs: number, terminalId: string): SimLabel {
    const l = newLabel(scenario, `S${String(++this.labelSeq).padStart(6, '0')}`, startMs, terminalId);
    this.labels.push(l);
    return l;
  }

  purchase(t: number): Purchase | null {
    const w = this.world;
    const rng = this.rng;
    let idx = -1;
    for (let i = 0; i < 16 && idx < 0; i++) {
      const c = rng.int(0, w.poolSize - 1);
      if (!w.isCoolingDown(c, t)) idx = c;
    }
    if (idx < 0) {
      // Rare: scan from a random card for the next free one.
      const from = rng.int(0, w.poolSize - 1);
      for (let k = 0; k < w.poolSize && idx < 0; k++) {
        const c = (from + k) % w.poolSize;
        if (!w.isCoolingDown(c, t)) idx = c;
      }
      if (idx < 0) return null;
    }
    const card = w.card(idx);
    const speed = this.rules.impossibleTravel.maxSpeedKmh;
    let city = rng.chance(0.03) ? w.pickCity(rng) : card.homeCity;
    if (!w.canBeIn(idx, city, t, speed)) city = w.canBeIn(idx, card.homeCity, t, speed) ? card.homeCity : w.lastUseOf(idx).city;
    const terminal = this.terminalIn(city, t);
    const local = w.cities[city].currency;
    // Tourists sometimes pay in their own currency (dynamic currency conversion).
    const currency = card.issuer.foreign && card.issuer.currency !== local && rng.chance(0.35) ? card.issuer.currency : local;
    w.markUsed(idx, city, t);
    return {
      card,
      terminal,
      txnType: w.isPreauth(rng, terminal.merchant) ? 'PREAUTH' : 'SALE',
      amount: w.amountFor(rng, terminal.merchant, currency),
      currency,
      entryMode: w.pickEntryMode(rng),
    };
  }

  terminalIn(city: number, t: number, q: TerminalQuery = {}): Terminal {
    const rng = this.rng;
    const merchants = this.world.merchantsByCity[city];
    const fits = (m: Merchant): boolean => !(q.exclude?.has(m) ?? false) && (q.categories === undefined || q.categories.includes(m.category.name));
    for (let i = 0; i < 12; i++) {
      const m = rng.pick(merchants);
      if (!fits(m)) continue;
      const term = rng.pick(m.terminals);
      if (q.located && term.lat === null) continue;
      if (term.busyUntil <= t) return term;
    }
    // Fall back to any matching terminal, busy or not, then to any located one.
    const from = rng.int(0, merchants.length - 1);
    for (const relax of [false, true]) {
      for (let k = 0; k < merchants.length; k++) {
        const m = merchants[(from + k) % merchants.length];
        if (!relax && !fits(m)) continue;
        const term = m.terminals.find((x) => !q.located || x.lat !== null);
        if (term !== undefined) return term;
      }
    }
    return merchants[from].terminals[0];
  }

  terminalOf(merchant: Merchant, t: number): Terminal {
    const free = merchant.terminals.filter((x) => x.busyUntil <= t);
    return this.rng.pick(free.length > 0 ? free : merchant.terminals);
  }

  private runSteps(before: number): void {
    for (;;) {
      const top = this.steps.peek();
      if (top === undefined || top.at >= before) return;
      this.steps.pop();
      this.now = top.at;
      top.run();
    }
  }

  private attempt(t0: number): void {
    if (this.outage !== null && this.outage.maybeRun(this, t0)) return;
    if (this.boundaries !== null && this.boundaries.maybeRun(this, t0)) return;
    const u = this.rng.float();
    if (u < this.o.faultRate) {
      if (this.inject(this.faults.pick(this.rng), t0)) return;
    } else if (u < this.o.faultRate + this.lateAttemptRate) {
      if (this.inject(this.lates.pick(this.rng), t0)) return;
    }
    this.background.attempt(t0);
  }

  private inject(s: Scenario, t0: number): boolean {
    return t0 + s.spanMs <= this.endMs && s.run(this, t0);
  }

  private placeGuaranteed(rng: Rng): void {
    const span = this.endMs - this.startMs;
    for (const s of SCENARIOS) {
      const enabled = s.group === 'fault' ? this.o.faultRate > 0 : this.o.lateEventRate > 0;
      if (!enabled || span < s.spanMs + 90_000) continue;
      for (let k = 0; k < s.guaranteed; k++) {
        const t0 = this.startMs + 30_000 + Math.floor(rng.float() * (span - s.spanMs - 90_000));
        const attempt = (tries: number, t: number): void => {
          if (this.inject(s, t)) return;
          if (tries > 0) this.schedule(t + PLACEMENT_RETRY_MS, () => attempt(tries - 1, t + PLACEMENT_RETRY_MS));
        };
        this.schedule(t0, () => attempt(PLACEMENT_RETRIES, t0));
      }
    }
  }

  /** One broken line of each kind per file, spread over the span (when bad records are on at all). */
  private planBadRecords(rng: Rng): Map<Stream, { at: number; kind: BadKind }[]> {
    const plan = new Map<Stream, { at: number; kind: BadKind }[]>();
    if (this.o.badRecordRate <= 0) return plan;
    const span = this.endMs - this.startMs;
    for (const stream of STREAMS) {
      const kinds = rng.shuffle([...BAD_KINDS]);
      plan.set(stream, kinds.map((kind, i) => ({ kind, at: this.startMs + Math.floor((span * (i + 0.1 + 0.8 * rng.float())) / kinds.length) })));
    }
    return plan;
  }

  private labelBad(info: BadRecordInfo): void {
    const l = this.label('BAD_RECORD', info.trueMs, info.source.terminal_id);
    l.merchant_id = info.source.merchant_id;
    l.stream = info.stream;
    l.bad_kind = info.kind;
    l.line_sha256 = info.lineSha256;
    l.note = info.reason;
  }
}
