/** Fields a fraud-like pattern's anomaly takes from its trigger (docs/semantics.md). */
import type { BankEvent } from '../events/index.js';

export function bankTriggerFields(e: BankEvent) {
  return {
    event_time: e.event_time,
    terminal_id: e.terminal_id,
    merchant_id: e.merchant_id,
    card_token: e.card_token,
    rrn: e.rrn,
    stan: e.stan,
    issuer_id: e.issuer_id,
    amount_minor: e.amount_minor,
    currency: e.currency,
  };
}

/** The rrns of the other events that made it fire (the trigger itself excluded), sorted, once each. */
export function relatedRrns(trigger: { event_id: string }, events: readonly { event_id: string; rrn: string }[]): string[] {
  return [...new Set(events.filter((e) => e.event_id !== trigger.event_id).map((e) => e.rrn))].sort();
}
