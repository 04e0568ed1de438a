/**
 * On simulator output (every injected cause and pattern, drifting clocks,
 * redeliveries, late events, bad records) the full pipeline's final anomalies
 * equal the batch reference's, over several seeds and stream interleavings.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/detect/anomaly.js';
import { createPipeline } from '../../src/engine/pipeline.js';
import { compareAnomalies, formatReport } from '../../src/eval/compare.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { parseLine } from '../../src/ingest/jsonl.js';
import { simulate } from '../../src/sim/index.js';
import { rng } from '../support/scenarios.js';

type Item = { stream: Stream; event: TerminalEvent | GatewayEvent | BankEvent };

function simulated(seed: number): Item[] {
  const items: Item[] = [];
  let n = 0;
  for (const r of simulate({ seed, minutes: 40, tps: 2, startMs: Date.UTC(2026, 2, 2, 7, 40) }).records) {
    const p = parseLine(r.stream, 'sim', ++n, r.line);
    if (p.ok) items.push({ stream: r.stream, event: p.event });
  }
  return items;
}

function detect(items: readonly Item[]): Anomaly[] {
  const out: Anomaly[] = [];
  const { engine } = createPipeline(() => DEFAULT_RULES, { anomaly: (a) => out.push(a) });
  for (const i of items) engine.push(i.stream, i.event);
  engine.end();
  return out;
}

function reference(items: readonly Item[]): Anomaly[] {
  const by = (s: Stream) => items.filter((i) => i.stream === s).map((i) => i.event);
  return referenceAnomalies({ terminal: by('terminal') as TerminalEvent[], gateway: by('gateway') as GatewayEvent[], bank: by('bank') as BankEvent[] }, DEFAULT_RULES);
}

function agree(items: readonly Item[], ref: Anomaly[]): void {
  const report = compareAnomalies(detect(items), ref);
  if (!report.agree) throw new Error(formatReport(report));
}

describe('pipeline equals the batch reference on simulator output', () => {
  it.each([1, 2, 3, 4, 5, 6])('seed %i, in arrival order and two random interleavings of the streams', (seed) => {
    const items = simulated(seed);
    const ref = reference(items);
    expect(ref.length).toBeGreaterThan(50);
    agree(items, ref);
    for (const mix of [seed * 7, seed * 13]) {
      const r = rng(mix);
      const queues = (['terminal', 'gateway', 'bank'] as const).map((s) => items.filter((i) => i.stream === s));
      const merged: Item[] = [];
      // Bursty interleaving: a random stream delivers a random run of its events.
      while (queues.some((q) => q.length > 0)) {
        const live = queues.filter((q) => q.length > 0);
        merged.push(...live[Math.floor(r() * live.length)].splice(0, 1 + Math.floor(r() * 200)));
      }
      agree(merged, ref);
    }
  });
});
