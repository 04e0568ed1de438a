/**
 * Ordinary traffic: purchases (mostly approved, 5-10% declined), cancels,
 * network errors before the gateway, card-read errors, refunds and voids of
 * earlier sales, and the odd isolated DEVICE_FAULT. None of it is an anomaly
 * (see the bookkeeping in ./world.ts).
 */
import { FAULT_COMPONENTS } from '../events/index.js';
import { Attempt, deviceFault } from './attempt.js';
import type { Ctx } from './context.js';
import { DECLINE_CODES, declinedPath, happyPath } from './flows.js';
import { Weighted } from './rng.js';
import type { Card, Terminal } from './world.js';

type Kind = 'APPROVED' | 'DECLINED' | 'CANCELLED' | 'NETWORK_ERROR' | 'CARD_READ_ERROR' | 'REFUND' | 'VOID';

const KINDS = Weighted.of<Kind>([
  ['APPROVED', 86], ['DECLINED', 7], ['CANCELLED', 1.5], ['NETWORK_ERROR', 0.8], ['CARD_READ_ERROR', 0.6], ['REFUND', 1.5], ['VOID', 0.8],
]);

// Attempts per second relative to --tps, by UTC hour (European shopping day).
const DIURNAL = [0.1, 0.07, 0.05, 0.05, 0.06, 0.1, 0.25, 0.5, 0.8, 0.95, 1, 1.1, 1.2, 1.1, 1, 0.95, 1, 1.1, 1.2, 1.15, 0.95, 0.7, 0.45, 0.22];

export function diurnal(ms: number): number {
  const h = (ms / 3_600_000) % 24;
  const i = Math.floor(h);
  const f = h - i;
  return DIURNAL[i] * (1 - f) + DIURNAL[(i + 1) % 24] * f;
}

/** Isolated DEVICE_FAULTs per terminal per hour. */
const LONE_FAULTS_PER_TERMINAL_HOUR = 0.02;

const SALES_KEPT = 4096;

interface Sale {
  readonly rrn: string;
  readonly card: Card;
  readonly terminal: Terminal;
  readonly amount: number;
  readonly currency: string;
  readonly t: number;
}

export class Background {
  /** Recent completed background sales, for refunds and voids. */
  private readonly sales: Sale[] = [];

  constructor(private readonly ctx: Ctx) {}

  /** Isolated hardware faults in [from, to). */
  faults(from: number, to: number): void {
    const ctx = this.ctx;
    const n = ctx.rng.poisson((ctx.world.terminals.length * LONE_FAULTS_PER_TERMINAL_HOUR * (to - from)) / 3_600_000);
    for (let i = 0; i < n; i++) {
      const t = ctx.rng.int(from, to - 1);
      const terminal = ctx.world.terminals[ctx.rng.int(0, ctx.world.terminals.length - 1)];
      if (ctx.world.claimSignal(terminal, t)) deviceFault(ctx, terminal, t, ctx.rng.pick(FAULT_COMPONENTS));
    }
  }

  attempt(t0: number): void {
    const ctx = this.ctx;
    const rng = ctx.rng;
    const kind = KINDS.pick(rng);
    if ((kind === 'REFUND' || kind === 'VOID') && this.giveBack(kind, t0)) return;
    const p = ctx.purchase(t0);
    if (p === null) return;
    const a = new Attempt(ctx, p, t0);
    switch (kind) {
      case 'DECLINED':
        declinedPath(a, t0, rng.pick(DECLINE_CODES));
        return;
      case 'CANCELLED':
        a.started(t0);
        a.failed(t0 + rng.int(2_000, 20_000), 'USER_CANCELLED', null);
        return;
      case 'NETWORK_ERROR': {
        a.started(t0);
        const tReq = t0 + rng.int(80, 900);
        a.requestSent(tReq);
        a.failed(tReq + rng.int(2_000, 10_000), 'NETWORK_ERROR', null);
        return;
      }
      case 'CARD_READ_ERROR': {
        a.started(t0);
        const tFail = t0 + rng.int(500, 4_000);
        // A card-read error is a hardware signal: only where it cannot add up to a spike.
        if (ctx.world.claimSignal(a.terminal, tFail)) a.failed(tFail, 'CARD_READ_ERROR', null);
        else a.failed(tFail, 'USER_CANCELLED', null);
        return;
      }
      default: {
        const { bank } = happyPath(a, t0);
        if (a.txnType === 'SALE') this.remember({ rrn: bank.rrn, card: a.card, terminal: a.terminal, amount: a.amount, currency: a.currency, t: t0 });
      }
    }
  }

  private remember(s: Sale): void {
    // A bounded bag: once full, a random old sale makes room.
    if (this.sales.length < SALES_KEPT) this.sales.push(s);
    else this.sales[this.ctx.rng.int(0, SALES_KEPT - 1)] = s;
  }

  /** A refund (any time later) or a void (within 20 minutes, same terminal) of an earlier sale. */
  private giveBack(kind: 'REFUND' | 'VOID', t0: number): boolean {
    const ctx = this.ctx;
    const rng = ctx.rng;
    if (this.sales.length === 0) return false;
    const i = rng.int(0, this.sales.length - 1);
    const s = this.sales[i];
    const age = t0 - s.t;
    if (age < 60_000 || (kind === 'VOID' && age > 20 * 60_000)) return false;
    // Forget it: a sale is given back once.
    this.sales[i] = this.sales[this.sales.length - 1];
    this.sales.pop();
    const terminal = kind === 'VOID' || s.terminal.busyUntil <= t0 ? s.terminal : ctx.terminalOf(s.terminal.merchant, t0);
    const amount = kind === 'REFUND' && rng.chance(0.3) ? Math.max(1, Math.round(s.amount * rng.between(0.2, 0.9))) : s.amount;
    const a = new Attempt(ctx, { terminal, card: s.card, txnType: kind, amount, currency: s.currency, entryMode: 'CHIP', origRrn: s.rrn }, t0);
    happyPath(a, t0);
    return true;
  }
}
