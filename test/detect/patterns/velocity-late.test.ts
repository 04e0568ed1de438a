/**
 * CARD_VELOCITY and late facts that do not change a fired window's decision
 * (docs/semantics.md: a new version only when the anomaly changed). The sum
 * counts debits in the trigger's currency only, so a late debit in another
 * currency neither moves the trigger nor joins its evidence: no new version.
 */
import { describe, expect, it } from 'vitest';
import { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import { collector, fact, MIN, only, T0 } from './helpers.js';

describe('CARD_VELOCITY: late facts', () => {
  it('a late debit in another currency inside a fired sum window changes nothing', () => {
    const r = only('cardVelocity');
    const eur = [fact({ t: T0, amount: 2_500_000 }), fact({ t: T0 + 10 * MIN, amount: 2_500_000 })];
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    for (const f of eur) cp.push(f);
    expect(out.map((a) => [a.rrn, a.version])).toEqual([[eur[1].rrn, 1]]);
    cp.push(fact({ t: T0 + 5 * MIN, amount: 700, currency: 'USD', late: true }));
    expect(out.map((a) => [a.rrn, a.version])).toEqual([[eur[1].rrn, 1]]);
  });

  it('a late debit in the same currency inside the window joins the evidence: version 2, same trigger', () => {
    const r = only('cardVelocity');
    const eur = [fact({ t: T0, amount: 2_500_000 }), fact({ t: T0 + 10 * MIN, amount: 2_500_000 })];
    const { out, emit } = collector();
    const cp = new CardPatterns(() => r, emit);
    for (const f of eur) cp.push(f);
    const late = fact({ t: T0 + 5 * MIN, amount: 700, late: true });
    cp.push(late);
    expect(out.map((a) => [a.rrn, a.version])).toEqual([[eur[1].rrn, 1], [eur[1].rrn, 2]]);
    expect(out[1].related_rrns).toEqual([eur[0].rrn, late.rrn].sort());
  });
});
