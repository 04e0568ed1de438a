/** Turns attempts' packed events back into the evidence an analyst reads. */
import type { Evidence, EvidenceEvent } from './anomaly.js';
import { B, frName, frOf, rcName, rcOf, streamOf, typeName, typeOf } from '../engine/codes.js';
import { EV, H_DEBIT_AT, H_DEBIT_IDX, H_REQ_IDX, HEADER, type Txn } from '../engine/txn.js';
import { unpackUuid } from '../engine/uuid.js';

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
function inScope(scope: EvidenceScope, x: Txn, index: number, type: number, time: number, horizonMs: number): boolean {
  if (REVERSAL_TYPES.has(type) && time - x.n[H_DEBIT_AT] > horizonMs) return false;
  if (scope === 'ATTEMPT') return true;
  if (index === x.n[H_DEBIT_IDX] || CANCELLING_TYPES.has(type)) return true;
  return scope === 'AMOUNT' && index === x.n[H_REQ_IDX];
}

export function evidenceOf(txns: readonly Txn[], scope: EvidenceScope, horizonMs: number): Evidence {
  const out: { terminal: EvidenceEvent[]; gateway: EvidenceEvent[]; bank: EvidenceEvent[] } = { terminal: [], gateway: [], bank: [] };
  for (const x of txns) {
    const n = x.n;
    for (let p = HEADER, len = x.len; p < len; p += EV) {
      const w = n[p];
      const type = typeOf(w);
      if (!inScope(scope, x, (p - HEADER) / EV, type, n[p + 1], horizonMs)) continue;
      const detail: Record<string, string | number | null> = {};
      const rc = rcName(rcOf(w));
      if (rc !== null) detail.response_code = rc;
      const fr = frName(frOf(w));
      if (fr !== null) detail.failure_reason = fr;
      if (x.rrn !== null && type >= 8) detail[REVERSAL_TYPES.has(type) || (type >= 13 && type < 16) ? 'orig_rrn' : 'rrn'] = x.rrn;
      const ev: EvidenceEvent = {
        event_id: unpackUuid(n[p + 2], n[p + 3], n[p + 4]),
        event_type: typeName(type),
        event_time: n[p + 1],
        ...(Object.keys(detail).length > 0 ? { detail } : {}),
      };
      out[streamOf(type)].push(ev);
    }
  }
  for (const list of [out.terminal, out.gateway, out.bank]) {
    list.sort((a, b) => a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : 1));
  }
  return out;
}
