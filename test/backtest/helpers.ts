/** Shared by the backtest tests: simulated events and the batch reference's difference between two rule sets. */
import type { Rules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import type { BacktestResult } from '../../src/backtest/types.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import type { BankEvent, GatewayEvent, TerminalEvent } from '../../src/events/index.js';
import { parseLine } from '../../src/ingest/jsonl.js';
import { simulate, type SimOptions } from '../../src/sim/index.js';

export interface Events { terminal: TerminalEvent[]; gateway: GatewayEvent[]; bank: BankEvent[] }

/** The simulator's valid events (what `posguard demo` writes to events_raw), per stream. */
export function simulatedEvents(sim: SimOptions): Events {
  const ev: Events = { terminal: [], gateway: [], bank: [] };
  let n = 0;
  for (const r of simulate(sim).records) {
    const p = parseLine(r.stream, 'sim', ++n, r.line);
    if (p.ok) (ev[r.stream] as unknown[]).push(p.event);
  }
  return ev;
}

export interface Diff { added: string[]; removed: string[]; changed: string[] }

/** The reference's answer: anomaly ids that differ between the two runs, within [from, to). */
export function referenceDiff(base: readonly Anomaly[], cand: readonly Anomaly[], fromMs: number, toMs: number): Diff {
  const inPeriod = (xs: readonly Anomaly[]) => new Map(xs.filter((a) => a.event_time >= fromMs && a.event_time < toMs).map((a) => [a.anomaly_id, a]));
  const b = inPeriod(base);
  const c = inPeriod(cand);
  const same = (x: Anomaly, y: Anomaly) => x.cause === y.cause && x.status === y.status && x.event_time === y.event_time
    && x.rrn === y.rrn && x.amount_minor === y.amount_minor && x.related_rrns.join() === y.related_rrns.join();
  return {
    added: [...c.keys()].filter((k) => !b.has(k)).sort(),
    removed: [...b.keys()].filter((k) => !c.has(k)).sort(),
    changed: [...c.keys()].filter((k) => b.has(k) && !same(b.get(k)!, c.get(k)!)).sort(),
  };
}

export function referenceDiffOf(events: Events, baseline: Rules, candidate: Rules, fromMs: number, toMs: number): Diff {
  return referenceDiff(referenceAnomalies(events, baseline), referenceAnomalies(events, candidate), fromMs, toMs);
}

export function backtestDiff(r: BacktestResult): Diff {
  const ids = (change: string) => r.entries.filter((e) => e.change === change).map((e) => e.anomaly_id).sort();
  return { added: ids('added'), removed: ids('removed'), changed: ids('changed') };
}
