/** What every scenario module shares: the Scenario shape and label helpers. */
import type { OrphanCause } from '../../events/anomaly.js';
import type { BankEvent } from '../../events/index.js';
import { Attempt } from '../attempt.js';
import type { Ctx } from '../context.js';
import { orphanStatus } from '../expect.js';
import { happyPath } from '../flows.js';
import { expect, type SimLabel } from '../labels.js';

export interface Scenario {
  readonly name: string;
  /** `fault` scenarios replace attempts at faultRate, `late` ones at the late-event rate. */
  readonly group: 'fault' | 'late';
  /** Relative frequency within its group. */
  readonly weight: number;
  /** How many the run contains at least (placed at random times when the span allows). */
  readonly guaranteed: number;
  /** True time the scenario needs from its start until its last event has arrived. */
  readonly spanMs: number;
  /** Plays the scenario from true time t0. False when it cannot be placed (then nothing was emitted). */
  run(ctx: Ctx, t0: number): boolean;
}

export const MINUTE = 60_000;

/** An attempt by a background-style pool card (it respects cooldown and travel like any purchase). */
export function poolAttempt(ctx: Ctx, t0: number): Attempt | null {
  const p = ctx.purchase(t0);
  return p === null ? null : new Attempt(ctx, p, t0);
}

export function describe(label: SimLabel, a: Attempt): SimLabel {
  label.terminal_id = a.terminal.id;
  label.merchant_id = a.terminal.merchant.id;
  label.stan = a.stan;
  label.card_token = a.card.token;
  if (a.rrn !== null) label.rrn = a.rrn;
  return label;
}

export function orphanLabel(ctx: Ctx, scenario: string, t0: number, a: Attempt, debit: BankEvent, cause: OrphanCause, note?: string): SimLabel {
  const label = describe(ctx.label(scenario, t0, a.terminal.id), a);
  expect(label, [{ kind: 'ORPHAN_DEBIT', cause, status: 'OPEN', key: debit.rrn, rrn: debit.rrn, event_time: debit.event_time }]);
  label.note = note;
  return label;
}

export function appendNote(label: SimLabel, note: string): void {
  label.note = label.note === undefined ? note : `${label.note}; ${note}`;
}

/**
 * The merchant refunds the charge at true time `at` (a REFUND at the same
 * merchant, bank REFUND_POSTED with orig_rrn): the customer complained.
 */
export function refundAt(ctx: Ctx, a: Attempt, at: number, onPosted: (bank: BankEvent) => void): void {
  ctx.schedule(at, () => {
    const terminal = a.terminal.busyUntil <= at ? a.terminal : ctx.terminalOf(a.terminal.merchant, at);
    const r = new Attempt(ctx, { terminal, card: a.card, txnType: 'REFUND', amount: a.hostAmount, currency: a.hostCurrency, entryMode: 'CHIP', origRrn: a.rrn as string }, at);
    onPosted(happyPath(r, at).bank);
  });
}

/**
 * One time in five (when the span allows) an orphan is refunded 5-20 minutes
 * later, so it ends AUTO_RESOLVED with its cause unchanged.
 */
export function maybeRefundOrphan(ctx: Ctx, a: Attempt, label: SimLabel, debit: BankEvent, tBank: number): void {
  const rng = ctx.rng;
  if (!rng.chance(0.2)) return;
  const grace = ctx.rules.debits.reversalGraceMs;
  const earliest = tBank + grace + MINUTE;
  const latest = Math.min(tBank + 20 * MINUTE, ctx.endMs - 2 * MINUTE);
  if (latest <= earliest) return;
  refundAt(ctx, a, rng.int(earliest, latest), (refund) => {
    const status = orphanStatus(debit.event_time, [refund.event_time], ctx.rules);
    if (status === null) expect(label, []);
    else {
      label.expected[0].status = status;
      label.expected_status = status;
    }
    appendNote(label, `refunded later (REFUND_POSTED rrn ${refund.rrn})`);
  });
}
