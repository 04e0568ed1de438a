/**
 * Runs a hand-derived scenario through both sides of posguard's differential
 * design: the batch reference (src/eval) and the streaming pipeline (stage 1
 * engine + card patterns + fault spikes, as `posguard replay` builds it), the
 * latter in several arrival orders. Every order must give the reference's
 * anomalies field for field (src/eval/compare.ts, strict). Returns the
 * reference's anomalies, so a test that asserted on `referenceAnomalies(...)`
 * gets the engine check by calling `checkedReference(...)` instead.
 *
 * The orders stay within what docs/semantics.md promises exactness for: each
 * event arrives at most `maxDelayMs + allowedLatenessMs` after its own stamp,
 * or whole streams are read one after another (the watermark waits for every
 * stream).
 */
import type { Rules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { createPipeline } from '../../src/runtime/pipeline.js';
import { compareAnomalies, formatReport } from '../../src/eval/compare.js';
import type { ReferenceInput } from '../../src/eval/dataset.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { rng } from './scenarios.js';

/** The three streams' events, each in its file's order. */
export type StreamsInput = ReferenceInput;

export interface Arrival {
  readonly stream: Stream;
  readonly event: TerminalEvent | GatewayEvent | BankEvent;
}

export interface ArrivalOrder {
  readonly name: string;
  readonly arrange: (input: StreamsInput, rules: Rules) => Arrival[];
}

const STREAMS: readonly Stream[] = ['terminal', 'gateway', 'bank'];

function tagged(input: StreamsInput, stream: Stream): Arrival[] {
  return (input[stream] as readonly Arrival['event'][]).map((event) => ({ stream, event }));
}

/** The replay merge (src/ingest/jsonl-source.ts): each stream in file order, the head with the smallest event_time next; ties by `tieOrder`. */
function headMerge(input: StreamsInput, tieOrder: readonly Stream[]): Arrival[] {
  const queues = tieOrder.map((s) => tagged(input, s));
  const pos = queues.map(() => 0);
  const out: Arrival[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < queues.length; i++) {
      if (pos[i] >= queues[i].length) continue;
      if (best < 0 || queues[i][pos[i]].event.event_time < queues[best][pos[best]].event.event_time) best = i;
    }
    if (best < 0) return out;
    out.push(queues[best][pos[best]++]);
  }
}

/** Each event arrives its own stamp + a seeded delay in [0, maxDelayMs]: shuffled, never late. */
function delayed(seed: number, latenessToo: boolean) {
  return (input: StreamsInput, rules: Rules): Arrival[] => {
    const r = rng(seed);
    const spanMs = rules.time.maxDelayMs + (latenessToo ? rules.time.allowedLatenessMs : 0);
    const all = STREAMS.flatMap((s) => tagged(input, s)).map((a, i) => ({ a, i, at: a.event.event_time + Math.floor(r() * (spanMs + 1)) }));
    return all.sort((x, y) => x.at - y.at || x.i - y.i).map((x) => x.a);
  };
}

export const REPLAY_MERGE: ArrivalOrder = { name: 'replay merge (terminal, gateway, bank on ties)', arrange: (input) => headMerge(input, ['terminal', 'gateway', 'bank']) };
export const REPLAY_MERGE_REVERSED: ArrivalOrder = { name: 'replay merge, ties reversed (bank, gateway, terminal)', arrange: (input) => headMerge(input, ['bank', 'gateway', 'terminal']) };
export const STREAM_AFTER_STREAM: ArrivalOrder = {
  name: 'whole streams one after another: bank, gateway, terminal',
  arrange: (input) => (['bank', 'gateway', 'terminal'] as const).flatMap((s) => tagged(input, s)),
};

/** Orders that keep each stream's file order: where "the first occurrence" of a redelivered id is defined by the file. */
export const FILE_ORDERS: readonly ArrivalOrder[] = [REPLAY_MERGE, REPLAY_MERGE_REVERSED, STREAM_AFTER_STREAM];

/** Orders by each event's stamp plus a seeded delay: the streams' files may be in any order. */
export const SHUFFLED_ORDERS: readonly ArrivalOrder[] = [
  { name: 'seeded shuffle within max_delay (seed 1)', arrange: delayed(1, false) },
  { name: 'seeded shuffle within max_delay + allowed_lateness (seed 2)', arrange: delayed(2, true) },
  { name: 'seeded shuffle within max_delay + allowed_lateness (seed 3)', arrange: delayed(3, true) },
];

export const ARRIVAL_ORDERS: readonly ArrivalOrder[] = [...FILE_ORDERS, ...SHUFFLED_ORDERS];

/** Every version the pipeline emits for `arrivals`, in emission order. */
export function runPipeline(arrivals: readonly Arrival[], rules: Rules): Anomaly[] {
  const versions: Anomaly[] = [];
  const { engine } = createPipeline(() => rules, { anomaly: (a) => versions.push(a) });
  for (const a of arrivals) engine.push(a.stream, a.event);
  engine.end();
  return versions;
}

/** Throws, naming the order and listing every difference, unless the pipeline's final anomalies equal `reference` in every order. */
export function expectEngineMatches(input: StreamsInput, reference: readonly Anomaly[], rules: Rules, orders: readonly ArrivalOrder[] = ARRIVAL_ORDERS): void {
  for (const order of orders) {
    const report = compareAnomalies(runPipeline(order.arrange(input, rules), rules), reference);
    if (!report.agree) throw new Error(`streaming engine (${order.name}) differs from the batch reference:\n${formatReport(report)}`);
  }
}

/**
 * The reference's anomalies for `input`, after checking the streaming engine finds exactly these in every
 * arrival order (or in `orders`, for a case whose meaning depends on the file order).
 */
export function checkedReference(input: StreamsInput, rules: Rules, orders: readonly ArrivalOrder[] = ARRIVAL_ORDERS): Anomaly[] {
  const reference = referenceAnomalies(input, rules);
  expectEngineMatches(input, reference, rules, orders);
  return reference;
}
