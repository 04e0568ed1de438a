/**
 * Reads what the debit definitions of docs/semantics.md need from one
 * attempt's events, in a single pass. Shared by the three debit kinds.
 */
import { B, G, RC_00, T } from '../events/codes.js';
import type { AttemptView } from './attempt-view.js';

export interface DebitFacts {
  debitAt: number;
  completed00: boolean;
  failed: boolean;
  responseReceived: boolean;
  /** Earliest terminal time of a RESPONSE_RECEIVED 00, +Inf when none. */
  response00At: number;
  /** Latest terminal time of a TXN_FAILED, -Inf when none. */
  lastFailedAt: number;
  reversalSent: boolean;
  gatewayOwn: boolean;
  reversalReceived: boolean;
  issuerTimeout: boolean;
  issuerResponse00: boolean;
  responseSentNon00: boolean;
  responseSent00: boolean;
  /** Bank reversal (REVERSAL_APPLIED or REFUND_POSTED) times, relative to the debit. */
  reversedWithinGrace: boolean;
  reversedAfterGraceWithinHorizon: boolean;
  reversedWithinHorizon: boolean;
}

export function debitFacts(x: AttemptView, graceMs: number, horizonMs: number): DebitFacts {
  const t = x.debitAt;
  const f: DebitFacts = {
    debitAt: t, completed00: false, failed: false, responseReceived: false,
    response00At: Infinity, lastFailedAt: -Infinity, reversalSent: false, gatewayOwn: false,
    reversalReceived: false, issuerTimeout: false, issuerResponse00: false, responseSentNon00: false,
    responseSent00: false, reversedWithinGrace: false, reversedAfterGraceWithinHorizon: false, reversedWithinHorizon: false,
  };
  for (let i = 0, count = x.eventCount; i < count; i++) {
    const time = x.eventTime(i);
    const type = x.eventType(i);
    const rc = x.responseCode(i);
    switch (type) {
      case T.TXN_COMPLETED: if (rc === RC_00) f.completed00 = true; break;
      case T.TXN_FAILED:
        f.failed = true;
        // Stryker disable next-line EqualityOperator: `>=` is equivalent: on equality the same value is stored again (`<`/`<=`, killed, are hidden with it)
        if (time > f.lastFailedAt) f.lastFailedAt = time;
        break;
      case T.RESPONSE_RECEIVED:
        f.responseReceived = true;
        if (rc === RC_00 &&
          // Stryker disable next-line EqualityOperator: `<=` is equivalent: on equality the same value is stored again (`>`/`>=`, killed, are hidden with it)
          time < f.response00At) f.response00At = time;
        break;
      case T.REVERSAL_SENT: f.reversalSent = true; break;
      case G.REVERSAL_RECEIVED: f.reversalReceived = true; break;
      case G.ISSUER_TIMEOUT: f.issuerTimeout = true; break;
      case G.ISSUER_RESPONSE: if (rc === RC_00) f.issuerResponse00 = true; break;
      case G.RESPONSE_SENT: if (rc === RC_00) f.responseSent00 = true; else f.responseSentNon00 = true; break;
      case B.REVERSAL_APPLIED:
      case B.REFUND_POSTED: {
        const d = time - t;
        if (d <= graceMs) f.reversedWithinGrace = true;
        else if (d <= horizonMs) f.reversedAfterGraceWithinHorizon = true;
        if (d <= horizonMs) f.reversedWithinHorizon = true;
        break;
      }
    }
    // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator: equivalent: only gateway events (types 8-15) carry the own-rrn flag, so the range is redundant and namesOwnRrn decides
    const gatewayEvent = type >= 8 && type < 16;
    if (gatewayEvent && x.namesOwnRrn(i)) f.gatewayOwn = true;
  }
  return f;
}
