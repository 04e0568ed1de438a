/**
 * The ORPHAN_DEBIT decision re-derived from the stored events, one rule at a
 * time, in the order of ../shared/spec/detection.md and docs/semantics.md.
 *
 * Deliberately independent of the engine (src/detect/orphan-debit.ts reads
 * packed engine state): this walk reads plain events as ClickHouse stores
 * them, so a test can hold it against the cause the engine stored, and an
 * analyst can check each step against the timeline.
 */
import type { OrphanCause } from '../events/anomaly.js';
import type { CaseEvent, EventRef, Explanation, RuleStep, RulesApplied, StepResult } from './types.js';

const DEBIT_TXN_TYPES = new Set(['SALE', 'PREAUTH']);
const GATEWAY_REVERSALS = new Set(['REVERSAL_RECEIVED', 'REVERSAL_FORWARDED', 'REVERSAL_RESPONSE']);
const BANK_REVERSALS = new Set(['REVERSAL_APPLIED', 'REVERSAL_REJECTED', 'REFUND_POSTED']);
const GIVES_BACK = new Set(['REVERSAL_APPLIED', 'REFUND_POSTED']);

const byTime = (a: CaseEvent, b: CaseEvent) => a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);
const ref = (e: CaseEvent, note?: string): EventRef => ({ stream: e.stream, event_type: e.event_type, event_id: e.event_id, event_time: e.event_time, ...(note ? { note } : {}) });
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const dur = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);

/** The events of one attempt, split the way docs/semantics.md links them. */
export interface AttemptEvents {
  readonly debit: CaseEvent | null;
  readonly terminal_id: string | null;
  readonly stan: string | null;
  readonly linkedBy: string;
  readonly terminal: readonly CaseEvent[];
  readonly gateway: readonly CaseEvent[];
  readonly bank: readonly CaseEvent[];
}

/** Links rrn → attempt and picks the attempt's events out of `all` (any superset). */
export function attemptEvents(all: readonly CaseEvent[], rrn: string | null, fallback: { terminal_id: string; stan: string } | null): AttemptEvents {
  const sorted = [...all].sort(byTime);
  const debit = rrn === null ? null : sorted.find((e) => e.stream === 'bank' && e.event_type === 'AUTH_APPROVED' && e.rrn === rrn && DEBIT_TXN_TYPES.has(e.txn_type ?? '')) ?? null;
  const gwLink = rrn === null ? undefined : sorted.find((e) => e.stream === 'gateway' && e.rrn === rrn && !GATEWAY_REVERSALS.has(e.event_type));
  const bankEcho = rrn === null ? undefined : sorted.find((e) => e.stream === 'bank' && e.rrn === rrn && !BANK_REVERSALS.has(e.event_type));
  const link = gwLink ?? bankEcho;
  const terminal_id = link?.terminal_id ?? fallback?.terminal_id ?? null;
  const stan = link?.stan ?? fallback?.stan ?? null;
  const linkedBy = gwLink ? `gateway ${gwLink.event_type}` : bankEcho ? `bank ${bankEcho.event_type} (the gateway never named rrn ${rrn})` : 'terminal_id:stan as given';
  const terminal = sorted.filter((e) => e.stream === 'terminal' && e.terminal_id === terminal_id && (
    e.event_type === 'REVERSAL_SENT' ? e.orig_stan === stan : e.event_type !== 'DEVICE_FAULT' && e.stan === stan));
  const gateway = rrn === null ? [] : sorted.filter((e) => e.stream === 'gateway' && (GATEWAY_REVERSALS.has(e.event_type) ? e.orig_rrn === rrn : e.rrn === rrn));
  const bank = rrn === null ? [] : sorted.filter((e) => e.stream === 'bank' && (BANK_REVERSALS.has(e.event_type) ? e.orig_rrn === rrn : e.rrn === rrn));
  return { debit, terminal_id, stan, linkedBy, terminal, gateway, bank };
}

type Check = { holds: boolean; because: string; evidence: EventRef[] };

/** The cause table, in precedence order; each check reads only the attempt's events. */
function causeChecks(a: AttemptEvents, rrn: string, reversalInGrace: boolean): [OrphanCause, () => Check][] {
  const g = (type: string) => a.gateway.filter((e) => e.event_type === type && (GATEWAY_REVERSALS.has(type) || e.rrn === rrn));
  const t = (type: string) => a.terminal.filter((e) => e.event_type === type);
  const none = (what: string) => `no ${what}`;
  return [
    ['REVERSAL_NOT_APPLIED', () => {
      const rr = g('REVERSAL_RECEIVED');
      const bankRev = a.bank.filter((e) => BANK_REVERSALS.has(e.event_type));
      const after = (e: CaseEvent) => `${e.event_type} ${a.debit ? `${((e.event_time - a.debit.event_time) / 1000).toFixed(1)} s after the debit` : ''}`.trim();
      return { holds: rr.length > 0 && !reversalInGrace, evidence: [...rr, ...bankRev].map((e) => ref(e)),
        because: rr.length > 0 ? `the gateway received a reversal of ${rrn} (REVERSAL_RECEIVED) but the bank applied none within the grace (bank: ${bankRev.length === 0 ? 'no reversal at all' : bankRev.map(after).join(', ')})` : `${none('gateway REVERSAL_RECEIVED')} with orig_rrn ${rrn}` };
    }],
    ['REVERSAL_LOST', () => {
      const rs = t('REVERSAL_SENT');
      return { holds: rs.length > 0 && g('REVERSAL_RECEIVED').length === 0, evidence: rs.map((e) => ref(e)),
        because: rs.length > 0 ? `the terminal sent REVERSAL_SENT (orig_stan ${a.stan}) ${rs.length} time(s), and the gateway never received it` : `${none('terminal REVERSAL_SENT')} with orig_stan ${a.stan}` };
    }],
    ['NO_GATEWAY_RECORD', () => {
      const own = a.gateway.filter((e) => e.rrn === rrn);
      return { holds: own.length === 0, evidence: own.slice(0, 1).map((e) => ref(e)),
        because: own.length === 0 ? `the gateway has no event with rrn ${rrn}` : `the gateway has ${own.length} event(s) with rrn ${rrn}, first ${own[0].event_type}` };
    }],
    ['ISSUER_LATE_APPROVAL', () => {
      const to = g('ISSUER_TIMEOUT');
      return { holds: to.length > 0, evidence: to.map((e) => ref(e)),
        because: to.length > 0 ? 'the gateway gave up on the issuer (ISSUER_TIMEOUT), which approved anyway' : none('gateway ISSUER_TIMEOUT') };
    }],
    ['GATEWAY_RESPONSE_MISMATCH', () => {
      const ir00 = g('ISSUER_RESPONSE').filter((e) => e.response_code === '00');
      const sentNon00 = g('RESPONSE_SENT').filter((e) => e.response_code !== '00');
      return { holds: ir00.length > 0 && sentNon00.length > 0, evidence: [...ir00, ...sentNon00].map((e) => ref(e, `response_code ${e.response_code ?? 'null'}`)),
        because: `issuer answered 00: ${ir00.length > 0 ? 'yes' : 'no'}; gateway sent the terminal a non-00 RESPONSE_SENT: ${sentNon00.length > 0 ? `yes (${sentNon00.map((e) => e.response_code ?? 'null').join(', ')})` : 'no'}` };
    }],
    ['RESPONSE_LOST_TO_TERMINAL', () => {
      const sent00 = g('RESPONSE_SENT').filter((e) => e.response_code === '00');
      const rcvd = t('RESPONSE_RECEIVED');
      return { holds: sent00.length > 0 && rcvd.length === 0, evidence: [...sent00, ...rcvd].map((e) => ref(e)),
        because: `gateway sent RESPONSE_SENT 00: ${sent00.length > 0 ? 'yes' : 'no'}; terminal RESPONSE_RECEIVED: ${rcvd.length > 0 ? `yes (${rcvd.length})` : 'none'}` };
    }],
    ['TERMINAL_FAILED_AFTER_APPROVAL', () => {
      const r00 = t('RESPONSE_RECEIVED').filter((e) => e.response_code === '00')[0];
      const failedAfter = r00 === undefined ? [] : t('TXN_FAILED').filter((e) => e.event_time >= r00.event_time);
      return { holds: r00 !== undefined && failedAfter.length > 0, evidence: [...(r00 ? [r00] : []), ...failedAfter].map((e) => ref(e, e.failure_reason ?? undefined)),
        because: r00 === undefined ? none('terminal RESPONSE_RECEIVED 00') : failedAfter.length > 0 ? `the terminal received 00, then TXN_FAILED (${failedAfter.map((e) => e.failure_reason ?? '?').join(', ')}) on its own clock` : 'the terminal received 00 and no TXN_FAILED came after it (terminal clock)' };
    }],
    ['NO_TERMINAL_OUTCOME', () => {
      // Outcome NONE: no TXN_COMPLETED 00 (a gate already) and no TXN_FAILED; a non-00 TXN_COMPLETED is no outcome.
      const failed = t('TXN_FAILED');
      return { holds: failed.length === 0, evidence: [...a.terminal.filter((e) => e.event_type === 'TXN_COMPLETED'), ...failed].map((e) => ref(e)),
        because: failed.length === 0 ? 'terminal outcome NONE: no TXN_COMPLETED 00 and no TXN_FAILED (the terminal died mid-transaction)' : `terminal outcome FAILED (${failed.map((e) => e.failure_reason ?? '?').join(', ')})` };
    }],
    ['UNEXPLAINED', () => ({ holds: true, evidence: [], because: 'none of the causes above holds' })],
  ];
}

/** The gates: a debit, not completed at the terminal, not reversed within the grace. */
function gates(a: AttemptEvents, rrn: string | null, r: RulesApplied): { steps: RuleStep[]; orphan: boolean; reversalAfterGrace: CaseEvent | null; reversalInGrace: boolean } {
  const steps: RuleStep[] = [];
  const d = a.debit;
  steps.push({ rule: 'debit', result: d ? 'holds' : 'fails', evidence: d ? [ref(d)] : [],
    because: d ? `bank AUTH_APPROVED ${d.txn_type} for rrn ${rrn} at ${iso(d.event_time)} (bank clock): the customer was charged` : `no bank AUTH_APPROVED SALE/PREAUTH${rrn ? ` for rrn ${rrn}` : ' (the attempt has no rrn)'}: nobody was charged, so no orphaned debit` });
  if (!d) return { steps, orphan: false, reversalAfterGrace: null, reversalInGrace: false };
  const done = a.terminal.find((e) => e.event_type === 'TXN_COMPLETED' && e.response_code === '00');
  steps.push({ rule: 'not completed at the terminal', result: done ? 'fails' : 'holds', evidence: done ? [ref(done)] : a.terminal.filter((e) => e.event_type === 'TXN_FAILED').map((e) => ref(e)),
    because: done ? 'the terminal completed the sale (TXN_COMPLETED 00): not an orphan' : `terminal outcome ${a.terminal.some((e) => e.event_type === 'TXN_FAILED') ? 'FAILED' : 'NONE'} (no TXN_COMPLETED 00 for ${a.terminal_id}:${a.stan})` });
  const back = a.bank.filter((e) => GIVES_BACK.has(e.event_type));
  const inGrace = back.find((e) => e.event_time - d.event_time <= r.reversalGraceMs);
  const afterGrace = back.find((e) => e.event_time - d.event_time > r.reversalGraceMs && e.event_time - d.event_time <= r.resolutionHorizonMs) ?? null;
  if (!done) {
    steps.push({ rule: 'no reversal within the grace', result: inGrace ? 'fails' : 'holds', evidence: back.map((e) => ref(e, `${((e.event_time - d.event_time) / 1000).toFixed(1)} s after the debit`)),
      because: inGrace ? `${inGrace.event_type} ${((inGrace.event_time - d.event_time) / 1000).toFixed(1)} s after the debit, within reversal_grace ${dur(r.reversalGraceMs)}: the money went back in time` : `no REVERSAL_APPLIED/REFUND_POSTED of ${rrn} within reversal_grace ${dur(r.reversalGraceMs)} after the debit (bank clock)` });
  }
  return { steps, orphan: !done && !inGrace, reversalAfterGrace: afterGrace, reversalInGrace: inGrace !== undefined };
}

export function explainOrphan(a: AttemptEvents, rrn: string | null, rules: RulesApplied): Explanation {
  const attempt = a.terminal_id !== null && a.stan !== null ? { terminal_id: a.terminal_id, stan: a.stan, linked_by: a.linkedBy } : null;
  const g = gates(a, rrn, rules);
  const steps = [...g.steps];
  let cause: OrphanCause | null = null;
  if (rrn !== null && a.debit !== null) {
    for (const [name, check] of causeChecks(a, rrn, g.reversalInGrace)) {
      if (!g.orphan || cause !== null) {
        steps.push({ rule: name, result: 'not reached', because: g.orphan ? `${cause} came first` : 'not an orphan: causes are not evaluated', evidence: [] });
        continue;
      }
      const c = check();
      const result: StepResult = c.holds ? 'holds' : 'fails';
      steps.push({ rule: name, result, because: c.because, evidence: c.evidence });
      if (c.holds) cause = name;
    }
  }
  const status = !g.orphan ? null : g.reversalAfterGrace ? 'AUTO_RESOLVED' : 'OPEN';
  if (g.orphan) {
    const r = g.reversalAfterGrace;
    steps.push({ rule: 'status', result: 'holds', evidence: r ? [ref(r)] : [],
      because: r ? `AUTO_RESOLVED: ${r.event_type} after the grace but within resolution_horizon ${dur(rules.resolutionHorizonMs)}` : `OPEN: no reversal of ${rrn} within resolution_horizon ${dur(rules.resolutionHorizonMs)}` });
  }
  return { rrn, attempt, steps, orphan: g.orphan, cause, status, rules };
}
