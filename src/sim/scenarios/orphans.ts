/**
 * ORPHAN_DEBIT, one scenario per cause, and the reversal stories around it.
 * Each is built so that its intended cause is the *first* that holds in the
 * order of docs/semantics.md, e.g. NO_TERMINAL_OUTCOME needs the terminal to
 * have received the 00 (otherwise RESPONSE_LOST_TO_TERMINAL comes first), and
 * RESPONSE_LOST_TO_TERMINAL needs the terminal not to send a reversal
 * (otherwise REVERSAL_LOST or REVERSAL_NOT_APPLIED comes first).
 */
import { deviceFault, Reversal } from '../attempt.js';
import type { Ctx } from '../context.js';
import { orphanStatus } from '../expect.js';
import { approve, approvedButTimedOut, deliver, front, gatewayIn, issuerLatency, respond, reversalApplied, reversalToGateway, TERMINAL_TIMEOUT_MS, type TimeoutKind } from '../flows.js';
import { expect } from '../labels.js';
import { appendNote, describe, maybeRefundOrphan, MINUTE, orphanLabel, poolAttempt, type Scenario } from './common.js';

const TIMEOUT_KINDS: readonly TimeoutKind[] = ['RESPONSE_LOST', 'RESPONSE_LOST', 'ISSUER_TIMEOUT'];

function timeoutNote(kind: TimeoutKind): string {
  return kind === 'RESPONSE_LOST' ? 'the gateway answered 00 but the terminal never got it' : 'the gateway timed out on the issuer and answered 68; the issuer approved anyway';
}

export const ORPHAN_SCENARIOS: readonly Scenario[] = [
  {
    name: 'ORPHAN_REVERSAL_NOT_APPLIED',
    group: 'fault', weight: 7, guaranteed: 2, spanMs: 2 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const kind = rng.pick(TIMEOUT_KINDS);
      const r = approvedButTimedOut(a, t0, kind);
      const { rev, tFwd } = reversalToGateway(a, r.tFail);
      let note: string;
      if (rng.chance(0.5)) {
        // Reaching the bank before the late approval, a reversal finds nothing to reverse.
        const tRej = tFwd + rng.int(50, 800);
        const code = tRej < r.tBank ? '25' : rng.pick(['12', '25', '94']);
        rev.bankRejected(tRej, code);
        rev.gwResponse(tRej + rng.int(20, 300), code);
        note = `${timeoutNote(kind)}; the terminal reversed, the bank rejected the reversal (${code})`;
      } else {
        if (rng.chance(0.6)) rev.gwResponse(tFwd + rng.int(20_000, 30_000), '91');
        note = `${timeoutNote(kind)}; the terminal reversed, the bank never answered the reversal`;
      }
      const label = orphanLabel(ctx, this.name, t0, a, r.bank, 'REVERSAL_NOT_APPLIED', note);
      maybeRefundOrphan(ctx, a, label, r.bank, r.tBank);
      return true;
    },
  },
  {
    name: 'ORPHAN_REVERSAL_LOST',
    group: 'fault', weight: 5, guaranteed: 1, spanMs: 4 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const kind = rng.pick(TIMEOUT_KINDS);
      const r = approvedButTimedOut(a, t0, kind);
      const rev = new Reversal(a);
      const tries = rng.int(1, 3);
      let t = r.tFail + rng.int(100, 3_000);
      for (let i = 0; i < tries; i++) {
        rev.sent(t);
        t += rng.int(20_000, 60_000);
      }
      const label = orphanLabel(ctx, this.name, t0, a, r.bank, 'REVERSAL_LOST', `${timeoutNote(kind)}; the terminal sent ${tries} reversal(s), none reached the gateway`);
      maybeRefundOrphan(ctx, a, label, r.bank, r.tBank);
      return true;
    },
  },
  {
    name: 'ORPHAN_NO_GATEWAY_RECORD',
    group: 'fault', weight: 4, guaranteed: 1, spanMs: 2 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const tReq = front(a, t0);
      // The gateway forwarded the request and then lost its log (and never answered).
      const tFwd = tReq + rng.int(20, 160);
      a.assignRrn(tFwd);
      const tBank = tFwd + Math.round(issuerLatency(rng) * rng.between(0.5, 0.9));
      const debit = a.bankApproved(tBank);
      a.failed(tReq + TERMINAL_TIMEOUT_MS + rng.int(0, 400), 'TIMEOUT', null);
      const label = orphanLabel(ctx, this.name, t0, a, debit, 'NO_GATEWAY_RECORD', 'gateway log gap: no gateway event for this rrn; the bank echoes terminal_id and stan');
      maybeRefundOrphan(ctx, a, label, debit, tBank);
      return true;
    },
  },
  {
    name: 'ORPHAN_ISSUER_LATE_APPROVAL',
    group: 'fault', weight: 9, guaranteed: 2, spanMs: 2 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const r = approvedButTimedOut(a, t0, 'ISSUER_TIMEOUT');
      const label = orphanLabel(ctx, this.name, t0, a, r.bank, 'ISSUER_LATE_APPROVAL', timeoutNote('ISSUER_TIMEOUT'));
      maybeRefundOrphan(ctx, a, label, r.bank, r.tBank);
      return true;
    },
  },
  {
    name: 'ORPHAN_GATEWAY_RESPONSE_MISMATCH',
    group: 'fault', weight: 4, guaranteed: 1, spanMs: 2 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const tFwd = gatewayIn(a, front(a, t0));
      const { bank, tBank, tIss } = approve(a, tFwd);
      const code = rng.pick(['96', '91', '05', '12']);
      const tRecv = deliver(a, respond(a, tIss, code), code);
      a.failed(tRecv + rng.int(40, 600), 'DECLINED', code);
      const label = orphanLabel(ctx, this.name, t0, a, bank, 'GATEWAY_RESPONSE_MISMATCH', `the issuer approved (00), the gateway answered the terminal ${code}`);
      maybeRefundOrphan(ctx, a, label, bank, tBank);
      return true;
    },
  },
  {
    name: 'ORPHAN_RESPONSE_LOST_TO_TERMINAL',
    group: 'fault', weight: 12, guaranteed: 2, spanMs: 2 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const r = approvedButTimedOut(a, t0, 'RESPONSE_LOST');
      const label = orphanLabel(ctx, this.name, t0, a, r.bank, 'RESPONSE_LOST_TO_TERMINAL', `${timeoutNote('RESPONSE_LOST')}; it timed out and sent no reversal`);
      maybeRefundOrphan(ctx, a, label, r.bank, r.tBank);
      return true;
    },
  },
  {
    name: 'ORPHAN_TERMINAL_FAILED_AFTER_APPROVAL',
    group: 'fault', weight: 9, guaranteed: 2, spanMs: 2 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const tFwd = gatewayIn(a, front(a, t0));
      const { bank, tBank, tIss } = approve(a, tFwd);
      const tRecv = deliver(a, respond(a, tIss, '00'), '00');
      const tFail = tRecv + rng.int(300, 4_000);
      // A printer jam is also a hardware signal: only where it cannot add up to a fault spike.
      const reason = rng.chance(0.6) && ctx.world.claimSignal(a.terminal, tFail) ? 'PRINTER_ERROR' : 'APP_ERROR';
      a.failed(tFail, reason, '00');
      const label = orphanLabel(ctx, this.name, t0, a, bank, 'TERMINAL_FAILED_AFTER_APPROVAL', `the terminal received 00, then failed with ${reason}`);
      maybeRefundOrphan(ctx, a, label, bank, tBank);
      return true;
    },
  },
  {
    name: 'ORPHAN_NO_TERMINAL_OUTCOME',
    group: 'fault', weight: 7, guaranteed: 2, spanMs: 5 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const tFwd = gatewayIn(a, front(a, t0));
      const { bank, tBank, tIss } = approve(a, tFwd);
      // The terminal got the 00 (else RESPONSE_LOST_TO_TERMINAL would come first) and lost power while printing.
      const tRecv = deliver(a, respond(a, tIss, '00'), '00');
      let note = 'the terminal received 00 and lost power before completing';
      const tBoot = tRecv + rng.int(20_000, 180_000);
      a.terminal.busyUntil = Math.max(a.terminal.busyUntil, tBoot);
      if (rng.chance(0.5) && ctx.world.claimSignal(a.terminal, tBoot)) {
        deviceFault(ctx, a.terminal, tBoot, 'BATTERY');
        note += '; DEVICE_FAULT BATTERY after reboot';
      }
      const label = orphanLabel(ctx, this.name, t0, a, bank, 'NO_TERMINAL_OUTCOME', note);
      maybeRefundOrphan(ctx, a, label, bank, tBank);
      return true;
    },
  },
  {
    name: 'ORPHAN_UNEXPLAINED',
    group: 'fault', weight: 1.5, guaranteed: 1, spanMs: 2 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const tReq = front(a, t0);
      const tFwd = gatewayIn(a, tReq);
      const { bank, tBank, tIss } = approve(a, tFwd, rng.int(1_800, 3_000));
      const tRecv = deliver(a, respond(a, tIss, '00'), '00');
      // Cancelled before the 00 arrived: TXN_FAILED precedes RESPONSE_RECEIVED on the terminal's clock, so
      // TERMINAL_FAILED_AFTER_APPROVAL does not hold, and the terminal did receive the response.
      a.failed(rng.int(tReq + 300, tRecv - 200), 'USER_CANCELLED', null);
      const label = orphanLabel(ctx, this.name, t0, a, bank, 'UNEXPLAINED', 'the cashier cancelled while waiting; the 00 arrived after the cancel');
      maybeRefundOrphan(ctx, a, label, bank, tBank);
      return true;
    },
  },
  {
    name: 'REVERSAL_IN_GRACE',
    group: 'fault', weight: 12, guaranteed: 2, spanMs: 5 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const kind = rng.pick(TIMEOUT_KINDS);
      const r = approvedButTimedOut(a, t0, kind);
      let tFail = r.tFail;
      let note = `${timeoutNote(kind)}; the terminal reversed and the bank applied it within the grace`;
      if (rng.chance(0.4)) {
        // The first reversal got lost; the terminal repeats it.
        const lost = new Reversal(a);
        lost.sent(tFail + rng.int(100, 3_000));
        tFail += rng.int(45_000, 120_000);
        note += ' (second try)';
      }
      const { rev, tFwd } = reversalToGateway(a, tFail);
      const { bank: reversal } = reversalApplied(rev, tFwd, r.tBank);
      const label = describe(ctx.label(this.name, t0, a.terminal.id), a);
      label.near_miss_of = 'ORPHAN_DEBIT';
      const status = orphanStatus(r.bank.event_time, [reversal.event_time], ctx.rules);
      expect(label, status === null ? [] : [{ kind: 'ORPHAN_DEBIT', cause: 'REVERSAL_NOT_APPLIED', status, key: r.bank.rrn, rrn: r.bank.rrn, event_time: r.bank.event_time }]);
      label.rrn = r.bank.rrn;
      label.note = note;
      return true;
    },
  },
  {
    name: 'REVERSAL_APPLIED_LATE',
    group: 'fault', weight: 4, guaranteed: 1, spanMs: 9 * MINUTE,
    run(ctx, t0) {
      return reversalAppliedLate(ctx, t0, this.name, false);
    },
  },
];

/**
 * The bank did not answer the reversal; the gateway's store-and-forward
 * retries it after the grace and the bank applies it then: REVERSAL_NOT_APPLIED,
 * AUTO_RESOLVED. With `lateArrival` the REVERSAL_APPLIED also reaches the
 * detector 2-8 minutes late (the status still ends AUTO_RESOLVED).
 */
export function reversalAppliedLate(ctx: Ctx, t0: number, name: string, lateArrival: boolean): boolean {
  const rng = ctx.rng;
  const grace = ctx.rules.debits.reversalGraceMs;
  const lateBy = lateArrival ? rng.int(2 * MINUTE, 8 * MINUTE) : 0;
  // Room for the retry after the grace, and for the (late) arrival before the end.
  if (t0 + MINUTE + grace + MINUTE + lateBy + 2 * MINUTE > ctx.endMs) return false;
  const a = poolAttempt(ctx, t0);
  if (a === null) return false;
  const kind = rng.pick(TIMEOUT_KINDS);
  const r = approvedButTimedOut(a, t0, kind);
  const { rev, tFwd } = reversalToGateway(a, r.tFail);
  rev.gwResponse(tFwd + rng.int(20_000, 30_000), '91');
  const latest = Math.min(r.tBank + 15 * MINUTE, ctx.endMs - lateBy - 2 * MINUTE);
  const tRetry = rng.int(r.tBank + grace + 30_000, Math.max(r.tBank + grace + 30_000, latest));
  rev.gwForwarded(tRetry);
  const { bank: reversal } = reversalApplied(rev, tRetry, r.tBank, lateArrival ? { lateByMs: lateBy } : undefined);
  const label = orphanLabel(ctx, name, t0, a, r.bank, 'REVERSAL_NOT_APPLIED', `${timeoutNote(kind)}; the bank did not answer the reversal, the gateway retried it and the bank applied it ${Math.round((reversal.event_time - r.bank.event_time) / 1000)} s after the debit`);
  const status = orphanStatus(r.bank.event_time, [reversal.event_time], ctx.rules);
  if (status === null) expect(label, []);
  else {
    label.expected[0].status = status;
    label.expected_status = status;
  }
  if (lateArrival) {
    label.late_event_id = reversal.event_id;
    label.late_stream = 'bank';
    label.late_by_ms = lateBy;
    label.streaming = 'ORPHAN_DEBIT emitted OPEN; the REVERSAL_APPLIED arrives late and makes it AUTO_RESOLVED';
    appendNote(label, 'the REVERSAL_APPLIED arrives late');
  } else {
    label.streaming = 'ORPHAN_DEBIT emitted OPEN, then AUTO_RESOLVED when the reversal is applied';
  }
  return true;
}

