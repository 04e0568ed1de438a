/**
 * CARD_TESTING, docs/semantics.md: per card_token, bank time. Small attempts are
 * bank AUTH_APPROVED or AUTH_DECLINED (any txn_type) with amount_minor <=
 * maxAmountMinor. Fires at small attempt e when the window holds >= minAttempts
 * of them, >= minDeclined declined, over >= minMerchants distinct merchant_ids.
 */
import type { Rules } from '../config/rules.js';
import type { Anomaly } from '../events/anomaly.js';
import { utcDay } from '../events/anomaly.js';
import type { BankEvent } from '../events/index.js';
import { groupBy, type Dataset } from './dataset.js';
import { evidence, makeAnomaly } from './record.js';
import { bankTriggerFields, relatedRrns } from './pattern-fields.js';
import { dailyTriggers, Tally } from './window.js';

export function cardTesting(ds: Dataset, rules: Rules): Anomaly[] {
  const r = rules.cardTesting;
  const small = ds.bank.filter((e) => (e.event_type === 'AUTH_APPROVED' || e.event_type === 'AUTH_DECLINED') && e.amount_minor <= r.maxAmountMinor);
  const out: Anomaly[] = [];
  for (const [card, events] of groupBy(small, (e) => e.card_token)) {
    let count = 0;
    let declined = 0;
    const merchants = new Tally();
    const triggers = dailyTriggers<BankEvent>(events, r.windowMs, {
      add(e) {
        count++;
        if (e.event_type === 'AUTH_DECLINED') declined++;
        merchants.add(e.merchant_id);
      },
      remove(e) {
        count--;
        if (e.event_type === 'AUTH_DECLINED') declined--;
        merchants.remove(e.merchant_id);
      },
      holds: () => count >= r.minAttempts && declined >= r.minDeclined && merchants.distinct >= r.minMerchants,
    });
    for (const { trigger, window } of triggers) {
      out.push(makeAnomaly('CARD_TESTING', `${card}|${utcDay(trigger.event_time)}`, rules, {
        ...bankTriggerFields(trigger),
        status: 'OPEN',
        related_rrns: relatedRrns(trigger, window),
        evidence: evidence({ bank: window }),
      }));
    }
  }
  return out;
}
