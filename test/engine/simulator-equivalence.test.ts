/**
 * On simulator output (every injected cause and pattern, drifting clocks,
 * redeliveries, late events, bad records) the full pipeline's final anomalies
 * equal the batch reference's, over several seeds and stream interleavings.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import { compareAnomalies, formatReport } from '../../src/eval/compare.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { parseLine } from '../../src/ingest/jsonl.js';
import { simulate, type SimOptions } from '../../src/sim/index.js';
import { rng } from '../support/scenarios.js';

type Item = { stream: Stream; event: TerminalEvent | GatewayEvent | BankEvent };

function simulated(seed: number, opts: Partial<SimOptions> = {}): Item[] {
  const items: Item[] = [];
  let n = 0;
  for (const r of simulate({ seed, minutes: 40, tps: 2, startMs: Date.UTC(2026, 2, 2, 7, 40), ...opts }).records) {
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

/** Bursty interleaving: a random stream delivers a random run of its events. */
function bursty(items: readonly Item[], mix: number): Item[] {
  const r = rng(mix);
  const queues = (['terminal', 'gateway', 'bank'] as const).map((s) => items.filter((i) => i.stream === s));
  const merged: Item[] = [];
  while (queues.some((q) => q.length > 0)) {
    const live = queues.filter((q) => q.length > 0);
    merged.push(...live[Math.floor(r() * live.length)].splice(0, 1 + Math.floor(r() * 200)));
  }
  return merged;
}

describe('pipeline equals the batch reference on simulator output', () => {
  it.each([1, 2, 3, 4, 5, 6])('seed %i, in arrival order and two random interleavings of the streams', (seed) => {
    const items = simulated(seed);
    const ref = reference(items);
    expect(ref.length).toBeGreaterThan(50);
    agree(items, ref);
    for (const mix of [seed * 7, seed * 13]) agree(bursty(items, mix), ref);
  });

  // Boundary scenarios (src/sim/scenarios/boundaries.ts): events exactly on every window edge and 1 ms either side.
  // 70 minutes so the card-velocity hour fits; one run crosses UTC midnight (per-day keys).
  it.each([
    { seed: 11, startMs: Date.UTC(2026, 2, 2, 9, 0) },
    { seed: 12, startMs: Date.UTC(2026, 2, 2, 23, 20) },
    { seed: 13, startMs: Date.UTC(2026, 2, 3, 23, 10) },
  ])('with boundary scenarios: seed $seed from $startMs', ({ seed, startMs }) => {
    const items = simulated(seed, { minutes: 70, tps: 1, startMs, boundaryRate: 0.08 });
    const ref = reference(items);
    const kinds = new Set(ref.map((a) => a.kind));
    for (const k of ['ORPHAN_DEBIT', 'DUPLICATE_DEBIT', 'CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL', 'TERMINAL_FAULT_SPIKE'] as const) expect(kinds).toContain(k);
    agree(items, ref);
    agree(bursty(items, seed), ref);
  });
});
