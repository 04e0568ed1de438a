/**
 * DUPLICATE_DEBIT (the cashier retries after a timeout), AMOUNT_MISMATCH
 * (the host took a different amount than the terminal asked for), and their
 * near misses. Duplicate scenarios use a scenario card of their own, so no
 * other debit can pair with theirs.
 */
import type { OrphanCause } from '../../events/anomaly.js';
import type { BankEvent } from '../../events/index.js';
import { Attempt } from '../attempt.js';
import type { Ctx } from '../context.js';
import { duplicates, orphanStatus } from '../expect.js';
import { approvedButTimedOut, front, happyPath, receiptTime, reversalApplied, reversalToGateway, type TimeoutKind } from '../flows.js';
import { type ExpectedAnomaly, expect, type SimLabel } from '../labels.js';
import type { Card, Terminal } from '../world.js';
import { CURRENCY_SCALE } from '../world.js';
import { appendNote, describe, MINUTE, poolAttempt, refundAt, type Scenario } from './common.js';

interface Shop {
  readonly card: Card;
  readonly terminal: Terminal;
  readonly amount: number;
  readonly currency: string;
}

/** A scenario card shopping at one merchant. */
function scenarioShop(ctx: Ctx, t0: number): Shop {
  const rng = ctx.rng;
  const city = ctx.world.pickCity(rng);
  const terminal = ctx.terminalIn(city, t0);
  const currency = ctx.world.cities[city].currency;
  return { card: ctx.world.scenarioCard(city), terminal, amount: ctx.world.amountFor(rng, terminal.merchant, currency), currency };
}

function attemptAt(ctx: Ctx, shop: Shop, t: number, sameTerminal: boolean): Attempt {
  const terminal = sameTerminal && shop.terminal.busyUntil <= t ? shop.terminal : ctx.terminalOf(shop.terminal.merchant, t);
  return new Attempt(ctx, { terminal, card: shop.card, txnType: 'SALE', amount: shop.amount, currency: shop.currency, entryMode: ctx.world.pickEntryMode(ctx.rng) }, t);
}

interface DebitRecord {
  readonly bank: BankEvent;
  readonly tBank: number;
  /** Set when the terminal did not complete (an orphan unless reversed in time). */
  readonly cause?: OrphanCause;
  readonly reversals: number[];
}

/** Every anomaly the debits of one card/merchant/amount produce: orphans and duplicates. */
function debitExpectations(ctx: Ctx, debits: readonly DebitRecord[]): ExpectedAnomaly[] {
  const out: ExpectedAnomaly[] = [];
  for (const d of debits) {
    if (d.cause === undefined) continue;
    const status = orphanStatus(d.bank.event_time, d.reversals, ctx.rules);
    if (status !== null) out.push({ kind: 'ORPHAN_DEBIT', cause: d.cause, status, key: d.bank.rrn, rrn: d.bank.rrn, event_time: d.bank.event_time });
  }
  const dups = duplicates(debits.map((d) => ({ t: d.bank.event_time, rrn: d.bank.rrn, reversals: d.reversals })), ctx.rules);
  // Headline first: the duplicate of the last (completed) retry.
  const dupAnomalies = dups.reverse().map((dup): ExpectedAnomaly => ({ kind: 'DUPLICATE_DEBIT', status: dup.status, key: dup.rrn, rrn: dup.rrn, related_rrns: dup.related, event_time: dup.t }));
  return [...dupAnomalies, ...out];
}

function finishDuplicateLabel(ctx: Ctx, label: SimLabel, debits: readonly DebitRecord[]): void {
  expect(label, debitExpectations(ctx, debits));
}

export const DEBIT_SCENARIOS: readonly Scenario[] = [
  {
    name: 'DUPLICATE_DEBIT',
    group: 'fault', weight: 6, guaranteed: 2, spanMs: 12 * MINUTE,
    run(ctx, t0) {
      const rng = ctx.rng;
      const shop = scenarioShop(ctx, t0);
      const label = ctx.label(this.name, t0, shop.terminal.id);
      const failures = rng.chance(0.2) ? 2 : 1;
      const debits: DebitRecord[] = [];
      const kinds: TimeoutKind[] = [];
      let firstAttempt: Attempt | null = null;
      const play = (i: number, t: number): void => {
        const a = attemptAt(ctx, shop, t, rng.chance(0.8));
        // The label describes the first attempt until the retry that completes (the duplicate's own attempt).
        describe(label, a);
        if (i === 0) firstAttempt = a;
        if (i < failures) {
          const kind: TimeoutKind = rng.pick(['RESPONSE_LOST', 'ISSUER_TIMEOUT']);
          kinds.push(kind);
          const r = approvedButTimedOut(a, t, kind);
          debits.push({ bank: r.bank, tBank: r.tBank, cause: r.cause, reversals: [] });
          // The cashier tries again once the terminal shows the failure.
          ctx.schedule(r.tFail + rng.int(10_000, 120_000), () => play(i + 1, ctx.now));
          return;
        }
        const ok = happyPath(a, t);
        debits.push({ bank: ok.bank, tBank: ok.tBank, reversals: [] });
        finishDuplicateLabel(ctx, label, debits);
        label.note = `the first ${failures === 1 ? 'attempt' : '2 attempts'} timed out at the terminal (${kinds.join(', ')}) but ${failures === 1 ? 'was' : 'were'} approved; the cashier retried and the retry was approved`;
        // Sometimes the merchant later refunds the first charge: everything it touches ends AUTO_RESOLVED.
        const first = debits[0];
        const earliest = first.tBank + ctx.rules.debits.reversalGraceMs + MINUTE;
        const latest = Math.min(first.tBank + 20 * MINUTE, ctx.endMs - 2 * MINUTE);
        if (rng.chance(0.2) && latest > earliest && firstAttempt !== null) {
          refundAt(ctx, firstAttempt, rng.int(earliest, latest), (refund) => {
            first.reversals.push(refund.event_time);
            finishDuplicateLabel(ctx, label, debits);
            appendNote(label, `the first charge was refunded later (REFUND_POSTED rrn ${refund.rrn})`);
          });
        }
      };
      play(0, t0);
      return true;
    },
  },
  {
    name: 'NEAR_MISS_DUPLICATE_REVERSED',
    group: 'fault', weight: 2.5, guaranteed: 1, spanMs: 8 * MINUTE,
    run(ctx, t0) {
      const rng = ctx.rng;
      const shop = scenarioShop(ctx, t0);
      const a = attemptAt(ctx, shop, t0, true);
      const label = describe(ctx.label(this.name, t0, shop.terminal.id), a);
      label.near_miss_of = 'DUPLICATE_DEBIT';
      const r = approvedButTimedOut(a, t0, rng.pick(['RESPONSE_LOST', 'ISSUER_TIMEOUT']));
      const { rev, tFwd } = reversalToGateway(a, r.tFail);
      const { bank: reversal, tApplied } = reversalApplied(rev, tFwd, r.tBank);
      const debits: DebitRecord[] = [{ bank: r.bank, tBank: r.tBank, cause: r.cause, reversals: [reversal.event_time] }];
      ctx.schedule(Math.max(r.tFail, tApplied) + rng.int(5_000, 90_000), () => {
        const ok = happyPath(attemptAt(ctx, shop, ctx.now, true), ctx.now);
        debits.push({ bank: ok.bank, tBank: ok.tBank, reversals: [] });
        finishDuplicateLabel(ctx, label, debits);
      });
      label.note = 'the first attempt timed out and was reversed within the grace; the retry is the only charge';
      return true;
    },
  },
  {
    name: 'NEAR_MISS_DUPLICATE_ELEVEN_MINUTES',
    group: 'fault', weight: 1.5, guaranteed: 1, spanMs: 14 * MINUTE,
    run(ctx, t0) {
      const rng = ctx.rng;
      const shop = scenarioShop(ctx, t0);
      const a = attemptAt(ctx, shop, t0, true);
      const label = describe(ctx.label(this.name, t0, shop.terminal.id), a);
      label.near_miss_of = 'DUPLICATE_DEBIT';
      const first = happyPath(a, t0);
      const debits: DebitRecord[] = [{ bank: first.bank, tBank: first.tBank, reversals: [] }];
      const gap = ctx.rules.duplicateDebit.windowMs + MINUTE;
      ctx.schedule(t0 + gap + rng.int(0, 60_000), () => {
        const ok = happyPath(attemptAt(ctx, shop, ctx.now, true), ctx.now);
        debits.push({ bank: ok.bank, tBank: ok.tBank, reversals: [] });
        finishDuplicateLabel(ctx, label, debits);
      });
      label.note = 'two identical purchases (card, merchant, amount) just over the duplicate window apart, both completed';
      return true;
    },
  },
  {
    name: 'AMOUNT_MISMATCH',
    group: 'fault', weight: 4, guaranteed: 2, spanMs: 12 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const variant = rng.pick(['decimal', 'tip', 'currency'] as const);
      let note: string;
      if (variant === 'decimal') {
        a.hostAmount = a.amount * 10;
        note = 'the gateway shifted the decimal point: the bank took 10x the amount';
      } else if (variant === 'tip') {
        a.hostAmount = a.amount + Math.max(1, Math.round(a.amount * rng.between(0.05, 0.2)));
        note = 'a tip was added at the host after the terminal sent the request';
      } else {
        const to = a.currency === 'EUR' ? 'USD' : 'EUR';
        a.hostAmount = Math.round((a.amount * (CURRENCY_SCALE[to] ?? 1)) / (CURRENCY_SCALE[a.currency] ?? 1));
        a.hostCurrency = to;
        note = `the host converted ${a.currency} to ${to} (an unrequested currency conversion)`;
      }
      const ok = happyPath(a, t0);
      const label = describe(ctx.label(this.name, t0, a.terminal.id), a);
      expect(label, [{ kind: 'AMOUNT_MISMATCH', status: 'OPEN', key: ok.bank.rrn, rrn: ok.bank.rrn, event_time: ok.bank.event_time }]);
      label.note = note;
      // Sometimes the cashier notices the receipt and voids the sale: the mismatch ends AUTO_RESOLVED.
      const latest = Math.min(ok.tDone + 8 * MINUTE, ctx.endMs - 2 * MINUTE);
      if (rng.chance(0.25) && latest > ok.tDone + 30_000) {
        ctx.schedule(rng.int(ok.tDone + 30_000, latest), () => {
          const t = ctx.now;
          const terminal = a.terminal.busyUntil <= t ? a.terminal : ctx.terminalOf(a.terminal.merchant, t);
          const v = new Attempt(ctx, { terminal, card: a.card, txnType: 'VOID', amount: a.amount, currency: a.currency, entryMode: 'CHIP', origRrn: ok.bank.rrn }, t);
          v.hostAmount = a.hostAmount;
          v.hostCurrency = a.hostCurrency;
          const voided = happyPath(v, t).bank;
          if (voided.event_time - ok.bank.event_time <= ctx.rules.debits.resolutionHorizonMs) {
            label.expected[0].status = 'AUTO_RESOLVED';
            label.expected_status = 'AUTO_RESOLVED';
          }
          appendNote(label, `voided afterwards (REVERSAL_APPLIED rrn ${voided.rrn})`);
        });
      }
      return true;
    },
  },
  {
    name: 'NEAR_MISS_AMOUNT_NO_REQUEST',
    group: 'fault', weight: 1, guaranteed: 1, spanMs: 2 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      a.hostAmount = a.amount + Math.max(1, Math.round(a.amount * ctx.rng.between(0.05, 0.2)));
      const ok = happyPath(a, t0, { skipRequestSent: true });
      const label = describe(ctx.label(this.name, t0, a.terminal.id), a);
      label.rrn = ok.bank.rrn;
      label.near_miss_of = 'AMOUNT_MISMATCH';
      label.note = 'the bank took more than the terminal started with, but the terminal logged no REQUEST_SENT: not evaluated';
      return true;
    },
  },
  {
    name: 'NEAR_MISS_GATEWAY_LOG_GAP',
    group: 'fault', weight: 2, guaranteed: 1, spanMs: 2 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const tReq = front(a, t0);
      const tFwd = tReq + rng.int(20, 160);
      a.assignRrn(tFwd);
      const latency = rng.int(150, 1_500);
      const bank = a.bankApproved(tFwd + Math.round(latency * 0.7));
      const tRecv = tFwd + latency + rng.int(30, 150);
      a.responseReceived(tRecv, '00');
      a.completed(receiptTime(a, tRecv));
      const label = describe(ctx.label(this.name, t0, a.terminal.id), a);
      label.rrn = bank.rrn;
      label.near_miss_of = 'ORPHAN_DEBIT';
      label.note = 'the gateway lost its log of this rrn but the sale completed: linked through the bank\'s terminal_id and stan, no orphan';
      return true;
    },
  },
];
