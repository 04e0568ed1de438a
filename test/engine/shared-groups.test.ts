/**
 * Several engines (one per input partition) sharing the duplicate-debit
 * index find the duplicates whose two charges sit in different partitions,
 * whatever the order the partitions progress in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import { SharedDuplicates } from '../../src/engine/shared-duplicates.js';
import { compareAnomalies, formatReport } from '../../src/eval/compare.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import { randomScenario, rng } from '../support/scenarios.js';

const RULES = buildRules({
  orphanDebit: { enabled: false }, amountMismatch: { enabled: false },
  cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false }, terminalFaultSpike: { enabled: false },
});
const PARTITION: Record<string, number> = { TERM0001: 0, TERM0002: 1, TERM0003: 1 };

describe('engines sharing the duplicate index', () => {
  it('equal the batch reference when a merchant\'s terminals sit in different partitions', () => {
    let crossing = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 2 ** 31 }), (seed, mix) => {
        const { builder, arrivals } = randomScenario(seed, 30);
        const ref = referenceAnomalies(builder.streams(), RULES);
        const out: Anomaly[] = [];
        const groups = new SharedDuplicates();
        const engines = [0, 1].map(() => new Engine({ rules: () => RULES, output: { anomaly: (a) => out.push(a) }, duplicateGroups: groups }));
        // Partitions progress independently, in bursts: one may run far ahead of the other
        // (a lagging or idle partition); debits leave the shared index only once both are past them.
        const queues = [0, 1].map((p) => arrivals.filter((a) => PARTITION[a.event.terminal_id] === p));
        const r = rng(mix);
        const bias = r();
        while (queues.some((q) => q.length > 0)) {
          const p = queues[0].length === 0 ? 1 : queues[1].length === 0 ? 0 : r() < bias ? 0 : 1;
          for (const a of queues[p].splice(0, 1 + Math.floor(r() * 40))) engines[p].push(a.stream, a.event);
        }
        for (const e of engines) e.end();
        const report = compareAnomalies(out, ref);
        if (!report.agree) throw new Error(formatReport(report));
        crossing += ref.filter((a) => a.related_rrns.length > 0).length;
      }),
      { numRuns: Number(process.env.PG_PROPERTY_RUNS ?? 40) },
    );
    expect(crossing).toBeGreaterThan(50);
  });
});
