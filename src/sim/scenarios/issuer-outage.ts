/**
 * An issuer outage: for a window of true time, one issuer answers so slowly
 * that the gateway times out on it (ISSUER_TIMEOUT, the terminal is told 68)
 * and the issuer approves anyway. Every such attempt is an ORPHAN_DEBIT with
 * cause ISSUER_LATE_APPROVAL: the customer is charged for a sale the terminal
 * declined. This is what the orphaned-debit and issuer-timeout alerts exist
 * for (deploy/prometheus/alerts.yml).
 *
 * Off unless SimOptions.issuerOutage is set; when off, it draws no random
 * number, so every other run is byte-for-byte what it was. The decision to
 * turn an attempt into an outage attempt comes from its own random stream.
 */
import type { Ctx } from '../context.js';
import { approvedButTimedOut } from '../flows.js';
import type { Rng } from '../rng.js';
import { Attempt } from '../attempt.js';
import { MINUTE, orphanLabel } from './common.js';

export interface IssuerOutageOptions {
  /** The issuer that times out (issuer_id, e.g. "100120"). */
  readonly issuerId: string;
  /** True time the outage starts, epoch ms (inclusive). */
  readonly fromMs: number;
  /** True time it ends, epoch ms (exclusive). */
  readonly toMs: number;
  /**
   * Fraction of all attempts started inside the window that are replaced by an
   * attempt of one of this issuer's cardholders that ends as a late approval.
   * In (0, 1]. Default 0.1.
   */
  readonly rate?: number;
}

export const ISSUER_OUTAGE_SCENARIO = 'ISSUER_OUTAGE';
/** True time an outage attempt needs until its last event has arrived (as ORPHAN_ISSUER_LATE_APPROVAL). */
const SPAN_MS = 2 * MINUTE;
/** Pool cards drawn at most to find one of the issuer that is free to pay now. */
const CARD_TRIES = 256;

export class IssuerOutage {
  private readonly rate: number;

  constructor(private readonly o: IssuerOutageOptions, private readonly rng: Rng) {
    this.rate = o.rate ?? 0.1;
  }

  /** Plays an outage attempt at t0 when t0 is in the window and the draw says so; false = play a normal attempt. */
  maybeRun(ctx: Ctx, t0: number): boolean {
    if (t0 < this.o.fromMs || t0 >= this.o.toMs || t0 + SPAN_MS > ctx.endMs) return false;
    if (!this.rng.chance(this.rate)) return false;
    const a = this.attemptByIssuer(ctx, t0);
    if (a === null) return false;
    const r = approvedButTimedOut(a, t0, 'ISSUER_TIMEOUT');
    orphanLabel(ctx, ISSUER_OUTAGE_SCENARIO, t0, a, r.bank, 'ISSUER_LATE_APPROVAL',
      `issuer ${this.o.issuerId} outage: the gateway timed out on the issuer and answered 68; the issuer approved anyway`);
    return true;
  }

  /** A purchase by a pool card of the issuer that may pay now (cooldown and travel respected, like ctx.purchase). */
  private attemptByIssuer(ctx: Ctx, t0: number): Attempt | null {
    const w = ctx.world;
    const speed = ctx.rules.impossibleTravel.maxSpeedKmh;
    for (let i = 0; i < CARD_TRIES; i++) {
      const idx = this.rng.int(0, w.poolSize - 1);
      const card = w.card(idx);
      if (card.issuer.id !== this.o.issuerId || w.isCoolingDown(idx, t0)) continue;
      const city = card.homeCity;
      if (!w.canBeIn(idx, city, t0, speed)) continue;
      const terminal = ctx.terminalIn(city, t0);
      const currency = w.cities[city].currency;
      w.markUsed(idx, city, t0);
      return new Attempt(ctx, {
        card,
        terminal,
        txnType: w.isPreauth(ctx.rng, terminal.merchant) ? 'PREAUTH' : 'SALE',
        amount: w.amountFor(ctx.rng, terminal.merchant, currency),
        currency,
        entryMode: w.pickEntryMode(ctx.rng),
      }, t0);
    }
    return null;
  }
}
