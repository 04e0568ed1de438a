/**
 * Card facts with equal bank event_time reach the card patterns in
 * (event_time, event_id) order (src/engine/card-facts.ts: one release batch is
 * sorted), whatever order the bank events arrived in. detection.md: a card
 * pattern fires at "the first trigger that day", and a new version follows
 * only from evidence arriving after the decision. Here every fact is held
 * before the watermark passes any of them, so nothing is late: exactly one
 * version, version 1, triggered by the sixth attempt in (event_time, event_id)
 * order. Expectations by hand (issue 17, the tie-break survivors of card-facts.ts).
 */
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import type { BankEvent } from '../../src/events/index.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import { EventBuilder, T0 } from '../eval/builders.js';

const RULES = buildRules({
  orphanDebit: { enabled: false }, duplicateDebit: { enabled: false }, amountMismatch: { enabled: false }, terminalFaultSpike: { enabled: false },
  cardVelocity: { enabled: false }, impossibleTravel: { enabled: false },
});
const M = ['MERCHANT0000001', 'MERCHANT0000002', 'MERCHANT0000003'];

/**
 * Eight small declined attempts (100 minor units) of one card, all at T0, event ids in attempt order, merchants
 * 1, 2, 3, 1, 2, 3, 1, 2. CARD_TESTING (detection.md: within 600 s at least 6 small attempts, at least 4 declined,
 * at least 3 merchants) first holds at the sixth. (Any six of them would do: handed over from the eighth down,
 * the patterns would first see 3-8 and fire at the eighth, then revise.)
 */
function attempts(): BankEvent[] {
  return [1, 2, 3, 4, 5, 6, 7, 8].map((i) => {
    const b = new EventBuilder({ merchant_id: M[(i - 1) % 3], stan: String(i).padStart(6, '0'), rrn: `RRN00000000${i}`, amount_minor: 100 }, { firstId: i * 10 });
    return b.bank('AUTH_DECLINED', { event_time: T0 });
  });
}

function versions(order: readonly BankEvent[]): Anomaly[] {
  const out: Anomaly[] = [];
  const { engine } = createPipeline(() => RULES, { anomaly: (a) => out.push(a) });
  for (const e of order) engine.push('bank', e);
  engine.end();
  return out.filter((a) => a.kind === 'CARD_TESTING');
}

describe('card facts of equal event_time, one release batch', () => {
  const a = attempts();
  for (const [name, order] of [
    ['in event_id order', a],
    ['in reverse event_id order', [...a].reverse()],
    ['interleaved', [a[7], a[0], a[6], a[1], a[5], a[2], a[4], a[3]]],
    ['the sixth first', [a[5], a[7], a[6], a[4], a[3], a[2], a[1], a[0]]],
  ] as const) {
    it(`${name}: one CARD_TESTING version, triggered by the sixth attempt`, () => {
      const out = versions(order);
      expect(out.map((x) => [x.version, x.status, x.rrn, x.event_time])).toEqual([[1, 'OPEN', 'RRN000000006', T0]]);
      // Its evidence: the six attempts up to the trigger (not the seventh and eighth).
      expect(out[0]!.related_rrns).toEqual(['RRN000000001', 'RRN000000002', 'RRN000000003', 'RRN000000004', 'RRN000000005']);
    });
  }
});
