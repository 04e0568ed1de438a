/**
 * CARD_VELOCITY, docs/semantics.md: per card, bank time, over the card's debits
 * (reversed or not). Fires at debit e when the window holds >= minDebits debits,
 * or the debits in e's currency sum to >= minSumMinor.
 */
import type { Rules } from '../config/rules.js';
import type { Anomaly } from '../events/anomaly.js';
import { utcDay } from '../events/anomaly.js';
import type { BankEvent } from '../events/index.js';
import { groupBy, type Dataset } from './dataset.js';
import { evidence, makeAnomaly } from './record.js';
import { bankTriggerFields, relatedRrns } from './pattern-fields.js';
import { dailyTriggers, Tally } from './window.js';

export function cardVelocity(ds: Dataset, rules: Rules): Anomaly[] {
  const r = rules.cardVelocity;
  const out: Anomaly[] = [];
  for (const [card, debits] of groupBy(ds.debits.map((d) => d.event), (e) => e.card_token)) {
    let count = 0;
    const sums = new Tally();
    const triggers = dailyTriggers<BankEvent>(debits, r.windowMs, {
      add(e) {
        count++;
        sums.add(e.currency, e.amount_minor);
      },
      remove(e) {
        count--;
        sums.remove(e.currency, e.amount_minor);
      },
      holds: (e) => count >= r.minDebits || sums.get(e.currency) >= r.minSumMinor,
    });
    for (const { trigger, window } of triggers) {
      // The debits that made it fire: all of the window when the count holds, else those in the trigger's currency.
      const behind = window.length >= r.minDebits ? window : window.filter((e) => e.currency === trigger.currency);
      out.push(makeAnomaly('CARD_VELOCITY', `${card}|${utcDay(trigger.event_time)}`, rules, {
        ...bankTriggerFields(trigger),
        status: 'OPEN',
        related_rrns: relatedRrns(trigger, behind),
        evidence: evidence({ bank: behind }),
      }));
    }
  }
  return out;
}
