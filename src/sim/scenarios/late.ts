/**
 * Late data: events that reach the detector 2-8 minutes after they happened
 * (max delay is 60 s). Only events whose lateness can change an anomaly's
 * status (a completion, a reversal) or cannot change any definition (an
 * isolated DEVICE_FAULT) are ever late; the batch answer is unaffected.
 *
 * For a streaming engine to decide before the late event arrives, the
 * arrival must come after the debit's decision, about t + grace + max delay +
 * (5 min - the fastest terminal clock's drift) in true time: the late events
 * of the RETRACTED stories arrive at least 7 minutes after the debit.
 */
import { FAULT_COMPONENTS } from '../../events/index.js';
import { deviceFault } from '../attempt.js';
import { orphanStatus } from '../expect.js';
import { approvedButTimedOut, happyPath, reversalToGateway } from '../flows.js';
import { expect } from '../labels.js';
import { describe, MINUTE, poolAttempt, type Scenario } from './common.js';
import { reversalAppliedLate } from './orphans.js';

export const LATE_SCENARIOS: readonly Scenario[] = [
  {
    name: 'LATE_COMPLETION',
    group: 'late', weight: 40, guaranteed: 2, spanMs: 10 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const lateBy = ctx.rng.int(400_000, 480_000);
      const { bank, completed } = happyPath(a, t0, { completion: { lateByMs: lateBy } });
      const label = describe(ctx.label(this.name, t0, a.terminal.id), a);
      label.rrn = bank.rrn;
      label.near_miss_of = 'ORPHAN_DEBIT';
      label.late_event_id = completed.event_id;
      label.late_stream = 'terminal';
      label.late_by_ms = lateBy;
      label.streaming = 'ORPHAN_DEBIT (NO_TERMINAL_OUTCOME) emitted OPEN, then RETRACTED when the late TXN_COMPLETED 00 arrives';
      label.note = 'a successful sale whose TXN_COMPLETED arrives late';
      return true;
    },
  },
  {
    name: 'LATE_REVERSAL_IN_GRACE',
    group: 'late', weight: 25, guaranteed: 1, spanMs: 13 * MINUTE,
    run(ctx, t0) {
      const a = poolAttempt(ctx, t0);
      if (a === null) return false;
      const rng = ctx.rng;
      const r = approvedButTimedOut(a, t0, 'RESPONSE_LOST');
      const { rev, tFwd } = reversalToGateway(a, r.tFail);
      // The bank's reversal queue is slow but still inside the grace.
      const tApplied = Math.max(tFwd + 50, r.tBank + rng.int(100_000, 200_000));
      const lateBy = rng.int(Math.max(2 * MINUTE, r.tBank + 7 * MINUTE - tApplied), 8 * MINUTE);
      const reversal = rev.bankApplied(tApplied, { lateByMs: lateBy });
      rev.gwResponse(tApplied + rng.int(20, 300), '00');
      const label = describe(ctx.label(this.name, t0, a.terminal.id), a);
      label.rrn = r.bank.rrn;
      label.near_miss_of = 'ORPHAN_DEBIT';
      const status = orphanStatus(r.bank.event_time, [reversal.event_time], ctx.rules);
      expect(label, status === null ? [] : [{ kind: 'ORPHAN_DEBIT', cause: 'REVERSAL_NOT_APPLIED', status, key: r.bank.rrn, rrn: r.bank.rrn, event_time: r.bank.event_time }]);
      label.late_event_id = reversal.event_id;
      label.late_stream = 'bank';
      label.late_by_ms = lateBy;
      label.streaming = 'ORPHAN_DEBIT (REVERSAL_NOT_APPLIED) emitted OPEN, then RETRACTED when the late REVERSAL_APPLIED (within the grace) arrives';
      label.note = `the terminal timed out and reversed; the bank applied it ${Math.round((reversal.event_time - r.bank.event_time) / 1000)} s after the debit, and that event arrives late`;
      return true;
    },
  },
  {
    name: 'LATE_REVERSAL_AFTER_GRACE',
    group: 'late', weight: 15, guaranteed: 1, spanMs: 17 * MINUTE,
    run(ctx, t0) {
      return reversalAppliedLate(ctx, t0, this.name, true);
    },
  },
  {
    name: 'LATE_DEVICE_FAULT',
    group: 'late', weight: 20, guaranteed: 1, spanMs: 9 * MINUTE,
    run(ctx, t0) {
      const rng = ctx.rng;
      const terminal = ctx.world.terminals[rng.int(0, ctx.world.terminals.length - 1)];
      if (!ctx.world.claimSignal(terminal, t0)) return false;
      const lateBy = rng.int(2 * MINUTE, 8 * MINUTE);
      const ev = deviceFault(ctx, terminal, t0, rng.pick(FAULT_COMPONENTS), { lateByMs: lateBy });
      const label = ctx.label(this.name, t0, terminal.id);
      label.merchant_id = terminal.merchant.id;
      label.near_miss_of = 'TERMINAL_FAULT_SPIKE';
      label.late_event_id = ev.event_id;
      label.late_stream = 'terminal';
      label.late_by_ms = lateBy;
      label.note = 'an isolated DEVICE_FAULT that arrives late (changes nothing)';
      return true;
    },
  },
];

