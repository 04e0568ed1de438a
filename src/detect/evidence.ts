/** Turns attempts' events back into the evidence an analyst reads. */
import type { Evidence, EvidenceEvent } from '../events/anomaly.js';
import type { AttemptView } from './attempt-view.js';
import { B, frName, rcName, streamOf, typeName } from '../events/codes.js';

const REVERSAL_TYPES = new Set([B.REVERSAL_APPLIED, B.REVERSAL_REJECTED, B.REFUND_POSTED]);
/** A reversal in docs/semantics.md's sense (REVERSAL_REJECTED is not one). */
const CANCELLING_TYPES = new Set([B.REVERSAL_APPLIED, B.REFUND_POSTED]);

/**
 * Which of an attempt's events are behind a decision (detection.md: "the events
 * behind the decision"): an orphan rests on all of them (cause and outcome read
 * every stream); an amount mismatch on the earliest REQUEST_SENT, the debit and
 * its reversals; a duplicate on each debit and its reversals.
 */
export type EvidenceScope = 'ATTEMPT' | 'AMOUNT' | 'DEBIT';

/** A bank reversal message later than the debit's t + horizon changes no decision: not evidence. */
function inScope(scope: EvidenceScope, x: AttemptView, index: number, type: number, time: number, horizonMs: number): boolean {
  if (REVERSAL_TYPES.has(type) && time - x.debitAt > horizonMs) return false;
  if (scope === 'ATTEMPT') return true;
  if (index === x.debitIndex || CANCELLING_TYPES.has(type)) return true;
  return scope === 'AMOUNT' && index === x.requestIndex;
}

export function evidenceOf(attempts: readonly AttemptView[], scope: EvidenceScope, horizonMs: number): Evidence {
  const out: { terminal: EvidenceEvent[]; gateway: EvidenceEvent[]; bank: EvidenceEvent[] } = { terminal: [], gateway: [], bank: [] };
  for (const x of attempts) {
    for (let i = 0, count = x.eventCount; i < count; i++) {
      const type = x.eventType(i);
      const time = x.eventTime(i);
      if (!inScope(scope, x, i, type, time, horizonMs)) continue;
      const detail: Record<string, string | number | null> = {};
      const rc = rcName(x.responseCode(i));
      if (rc !== null) detail.response_code = rc;
      const fr = frName(x.failureReason(i));
      if (fr !== null) detail.failure_reason = fr;
      // Stryker disable next-line ConditionalExpression: → true is equivalent: every attempt in a debit anomaly's evidence has an rrn (→ false, killed, is hidden with it)
      const hasRrn = x.rrn !== null;
      if (hasRrn && type >= 8) detail[REVERSAL_TYPES.has(type) || (type >= 13 && type < 16) ? 'orig_rrn' : 'rrn'] = x.rrn;
      const ev: EvidenceEvent = {
        event_id: x.eventId(i),
        event_type: typeName(type),
        event_time: time,
        ...(Object.keys(detail).length > 0 ? { detail } : {}),
      };
      out[streamOf(type)].push(ev);
    }
  }
  for (const list of [out.terminal, out.gateway, out.bank]) {
    // Stryker disable next-line EqualityOperator: `<=` is equivalent: event ids are unique (`>`/`>=`, killed, are hidden with it)
    list.sort((a, b) => a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : 1));
  }
  return out;
}
