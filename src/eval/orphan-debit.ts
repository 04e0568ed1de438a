/**
 * ORPHAN_DEBIT, docs/semantics.md: debit R at bank time t whose attempt's
 * terminal outcome is not SUCCESS and which has no reversal with time
 * <= t + reversal_grace. The batch reference never emits RETRACTED: it sees the
 * late evidence together with the rest and simply does not report the debit.
 */
import type { Rules } from '../config/rules.js';
import type { Anomaly, OrphanCause } from '../events/anomaly.js';
import type { TerminalEvent } from '../events/index.js';
import { reversedAfterGrace, reversedWithinGrace, terminalOutcome, type Dataset, type Debit } from './dataset.js';
import { debitFields, evidence, makeAnomaly, reversalEvidence } from './record.js';

/** The first cause of docs/semantics.md's ordered list that holds. Assumes `d` is an orphan. */
export function orphanCause(ds: Dataset, d: Debit): OrphanCause {
  const R = d.rrn;
  const terminal: readonly TerminalEvent[] = ds.terminalOf(d.attempt);
  const gateway = ds.gatewayWithRrn(R);

  // 1. The gateway received a reversal of R (and, the debit being an orphan, the bank applied none in time).
  if (ds.gatewayWithOrigRrn(R).some((e) => e.event_type === 'REVERSAL_RECEIVED')) return 'REVERSAL_NOT_APPLIED';
  // 2. The terminal sent one for this attempt; the gateway never received it (else 1 would hold).
  if (terminal.some((e) => e.event_type === 'REVERSAL_SENT' && e.terminal_id === d.attempt.terminal_id && e.orig_stan === d.attempt.stan)) return 'REVERSAL_LOST';
  // 3. No gateway event of any type carries rrn R.
  if (gateway.length === 0) return 'NO_GATEWAY_RECORD';
  // 4.
  if (gateway.some((e) => e.event_type === 'ISSUER_TIMEOUT')) return 'ISSUER_LATE_APPROVAL';
  // 5. Issuer said 00, the gateway told the terminal something else (or nothing: null code).
  if (gateway.some((e) => e.event_type === 'ISSUER_RESPONSE' && e.response_code === '00')
    && gateway.some((e) => e.event_type === 'RESPONSE_SENT' && e.response_code !== '00')) return 'GATEWAY_RESPONSE_MISMATCH';
  // 6.
  if (gateway.some((e) => e.event_type === 'RESPONSE_SENT' && e.response_code === '00')
    && !terminal.some((e) => e.event_type === 'RESPONSE_RECEIVED')) return 'RESPONSE_LOST_TO_TERMINAL';
  // 7. Both times are the same terminal's clock, so comparing them is safe despite drift.
  const approvals = terminal.filter((e) => e.event_type === 'RESPONSE_RECEIVED' && e.response_code === '00');
  const failures = terminal.filter((e) => e.event_type === 'TXN_FAILED');
  if (approvals.some((a) => failures.some((f) => f.event_time >= a.event_time))) return 'TERMINAL_FAILED_AFTER_APPROVAL';
  // 8.
  if (terminalOutcome(terminal) === 'NONE') return 'NO_TERMINAL_OUTCOME';
  return 'UNEXPLAINED';
}

export function isOrphan(ds: Dataset, d: Debit, rules: Rules): boolean {
  return terminalOutcome(ds.terminalOf(d.attempt)) !== 'SUCCESS' && !reversedWithinGrace(ds, d, rules.debits.reversalGraceMs);
}

export function orphanDebits(ds: Dataset, rules: Rules): Anomaly[] {
  const { reversalGraceMs, resolutionHorizonMs } = rules.debits;
  const out: Anomaly[] = [];
  for (const d of ds.debits) {
    if (!isOrphan(ds, d, rules)) continue;
    out.push(makeAnomaly('ORPHAN_DEBIT', d.rrn, rules, {
      ...debitFields(d.event, d.attempt),
      cause: orphanCause(ds, d),
      status: reversedAfterGrace(ds, d, reversalGraceMs, resolutionHorizonMs) ? 'AUTO_RESOLVED' : 'OPEN',
      evidence: evidence({
        terminal: ds.terminalOf(d.attempt),
        gateway: [...ds.gatewayWithRrn(d.rrn), ...ds.gatewayWithOrigRrn(d.rrn)],
        bank: [...ds.bankWithRrn(d.rrn), ...reversalEvidence(ds.bankWithOrigRrn(d.rrn), d.t, resolutionHorizonMs)],
      }),
    }));
  }
  return out;
}
