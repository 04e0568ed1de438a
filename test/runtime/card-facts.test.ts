/**
 * Stage 2 over the card-facts topic (issue 14), without a broker: stage-1
 * engines (one per input partition) publish their card facts and watermark
 * markers into an in-memory topic of M partitions; one stage-2 task per
 * partition reads it. However the partitions progress against each other,
 * whatever the marker throttle, with records read twice (at least once), the
 * card patterns equal the batch reference. Plus the record format's checks,
 * idle sources and takeovers.
 */
import { describe, expect, it } from 'vitest';
import { buildRules } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { Engine } from '../../src/engine/engine.js';
import { compareAnomalies, formatReport } from '../../src/eval/compare.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { parseLine } from '../../src/ingest/jsonl.js';
import { partitionForKey } from '../../src/ingest/kafka/partitioner.js';
import { CardFactsPublisher, type CardFactsOutput } from '../../src/runtime/kafka/card-facts/publisher.js';
import { decodeCardFactsRecord, encodeFactRecord, encodeWatermark } from '../../src/runtime/kafka/card-facts/record.js';
import { CardFactsTask } from '../../src/runtime/kafka/card-facts/stage2-task.js';
import type { CardFact } from '../../src/detect/patterns/types.js';
import { simulate } from '../../src/sim/index.js';
import { rng } from '../support/scenarios.js';

// Card patterns only: the other kinds stay in stage 1 and are compared elsewhere.
const RULES = buildRules({ orphanDebit: { enabled: false }, amountMismatch: { enabled: false }, duplicateDebit: { enabled: false }, terminalFaultSpike: { enabled: false } });
const CARD_KINDS = ['CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL'];

type Item = { stream: Stream; event: TerminalEvent | GatewayEvent | BankEvent };

function simulated(seed: number): Item[] {
  const items: Item[] = [];
  let n = 0;
  for (const r of simulate({ seed, minutes: 50, tps: 2, startMs: Date.UTC(2026, 2, 2, 7, 40) }).records) {
    const p = parseLine(r.stream, 'sim', ++n, r.line);
    if (p.ok) items.push({ stream: r.stream, event: p.event });
  }
  return items;
}

function reference(items: readonly Item[]): Anomaly[] {
  const by = (s: Stream) => items.filter((i) => i.stream === s).map((i) => i.event);
  return referenceAnomalies({ terminal: by('terminal') as TerminalEvent[], gateway: by('gateway') as GatewayEvent[], bank: by('bank') as BankEvent[] }, RULES);
}

/** An in-memory topic: M partitions of record values, appended in order. */
class Topic implements CardFactsOutput {
  readonly parts: Buffer[][];
  constructor(m: number) {
    this.parts = Array.from({ length: m }, () => []);
  }
  send(partition: number, _key: string | null, value: Buffer): void {
    this.parts[partition].push(value);
  }
}

interface Distributed {
  readonly anomalies: Anomaly[];
  readonly tasks: CardFactsTask[];
  readonly topic: Topic;
}

/**
 * N stage-1 engines and M stage-2 tasks, progressing in random bursts against each other. `rereads`: a
 * stage-2 task now and then reads again the last records it read (a redelivery after a crash before its commit).
 * `laggard`: input partition 0 starts only once the others are done (a stage-1 task far behind, by more than
 * the allowed lateness), so stage 2 must wait for it rather than decide without its facts.
 */
function distributed(items: readonly Item[], n: number, m: number, mix: number, rereads: boolean, laggard: boolean): Distributed {
  const r = rng(mix);
  let clock = 0;
  const topic = new Topic(m);
  const anomalies: Anomaly[] = [];
  const publishers = Array.from({ length: n }, (_, p) => new CardFactsPublisher({ source: p, partitions: m, epoch: 0, out: topic, now: () => clock, markerEveryMs: Math.floor(r() * 50) }));
  const engines = publishers.map((pub) => new Engine({ rules: () => RULES, output: { anomaly: () => undefined }, cardPatterns: pub }));
  const tasks = Array.from({ length: m }, (_, q) => new CardFactsTask(q, n, () => RULES, (a) => anomalies.push(a), () => clock));
  const read = new Array<number>(m).fill(0);
  const queues = Array.from({ length: n }, (_, p) => items.filter((i) => partitionForKey(i.event.terminal_id, n) === p));
  const readSome = (q: number, k: number) => {
    if (rereads && read[q] > 0 && r() < 0.05) read[q] = Math.max(0, read[q] - 1 - Math.floor(r() * 20));
    for (const end = Math.min(topic.parts[q].length, read[q] + k); read[q] < end; read[q]++) expect(tasks[q].record(topic.parts[q][read[q]])).toBeNull();
  };
  const started = new Set<number>();
  while (queues.some((q) => q.length > 0)) {
    clock += 10;
    const live = queues.filter((q, i) => q.length > 0 && !(laggard && i === 0 && queues.some((o, j) => j > 0 && o.length > 0)));
    const p = queues.indexOf(live[Math.floor(r() * live.length)]);
    for (const i of queues[p].splice(0, 1 + Math.floor(r() * 120))) engines[p].push(i.stream, i.event);
    started.add(p);
    // A stage-1 task speaks only once it runs: one that starts late must hold stage 2 back meanwhile.
    for (const s of started) publishers[s].heartbeat(false);
    readSome(Math.floor(r() * m), Math.floor(r() * 400));
  }
  for (const e of engines) e.end();
  for (let q = 0; q < m; q++) readSome(q, Infinity);
  return { anomalies, tasks, topic };
}

describe('stage 2 over the card-facts topic', () => {
  it.each([
    { seed: 1, n: 4, m: 3 },
    { seed: 2, n: 3, m: 2 },
    { seed: 3, n: 2, m: 4 },
  ])('equals the batch reference for the card patterns: seed $seed, $n input partitions, $m card-facts partitions', ({ seed, n, m }) => {
    const items = simulated(seed);
    const ref = reference(items);
    for (const k of CARD_KINDS) expect(ref.filter((a) => a.kind === k).length, k).toBeGreaterThan(0);
    for (const [mix, rereads, laggard] of [[seed * 7, false, false], [seed * 13, true, false], [seed * 17, false, true]] as const) {
      const run = distributed(items, n, m, mix, rereads, laggard);
      const report = compareAnomalies(run.anomalies, ref);
      if (!report.agree) throw new Error(formatReport(report));
      for (const t of run.tasks) {
        expect(t.pending()).toBe(0);
        expect(t.frontier).toBe(Infinity);
        expect(t.counters.bad).toBe(0);
      }
      // Every card-facts partition got facts, and markers from every source.
      expect(run.tasks.every((t) => t.counters.facts > 0 && t.counters.markers >= n)).toBe(true);
    }
  });

  it('holds a partition back until every source has spoken, and stops waiting for a source declared idle', () => {
    const got: Anomaly[] = [];
    const task = new CardFactsTask(0, 2, () => RULES, (a) => got.push(a), () => 0);
    const t0 = Date.UTC(2026, 2, 2, 8);
    expect(task.record(encodeFactRecord(0, fact('a', t0)))).toBeNull();
    expect(task.record(encodeWatermark(0, t0 + 1_000, 0, false))).toBeNull();
    // Source 1 has said nothing: −∞, nothing released.
    expect(task.frontier).toBe(-Infinity);
    expect(task.pending()).toBe(1);
    expect(task.record(encodeWatermark(1, -Infinity, 0, true))).toBeNull();
    expect(task.frontier).toBe(t0 + 1_000);
    expect(task.pending()).toBe(0);
    // A replayed older marker never moves the frontier back; a new epoch counts as a takeover.
    expect(task.record(encodeWatermark(0, t0, 1, false))).toBeNull();
    expect(task.frontier).toBe(t0 + 1_000);
    expect(task.counters.takeovers).toBe(1);
    // The idle source speaks again: counted in the minimum from then on.
    expect(task.record(encodeWatermark(1, t0 + 500, 0, false))).toBeNull();
    expect(task.record(encodeWatermark(0, t0 + 9_000, 1, false))).toBeNull();
    expect(task.frontier).toBe(t0 + 1_000);
    expect(task.record(encodeWatermark(1, t0 + 5_000, 0, false))).toBeNull();
    expect(task.frontier).toBe(t0 + 5_000);
  });

  it('names what is wrong with a bad record, counts it, and goes on', () => {
    const task = new CardFactsTask(0, 2, () => RULES, () => undefined, () => 0);
    const good = JSON.parse(encodeFactRecord(0, fact('a', 1)).toString()) as unknown[];
    const cases: [Buffer | null, RegExp][] = [
      [null, /empty record/],
      [Buffer.from('{"x":'), /not JSON/],
      [Buffer.from('{"type":"F"}'), /not a card-facts record/],
      [Buffer.from(JSON.stringify(['F', 2, ...good.slice(2)])), /format 2, this posguard reads format 1/],
      [Buffer.from(JSON.stringify(['F', 1, -1, ...good.slice(3)])), /source -1 is not a partition number/],
      [Buffer.from(JSON.stringify(['F', 1, 5, ...good.slice(3)])), /source 5 is not one of the 2 input partitions/],
      [Buffer.from(JSON.stringify(['F', 1, 0, '', good[4]])), /card_token missing/],
      [Buffer.from(JSON.stringify(['F', 1, 0, 'tok', (good[4] as unknown[]).map((x, i) => (i === 1 ? 'soon' : x))])), /fact field event_time: "soon" is not valid/],
      [Buffer.from(JSON.stringify(['F', 1, 0, 'tok', (good[4] as unknown[]).slice(1)])), /not an array of 13 fields/],
      [Buffer.from(JSON.stringify(['W', 1, 0, 'later', 0, 0])), /frontier "later" is not a time/],
      [Buffer.from(JSON.stringify(['W', 1, 0, 5, 0, 2])), /idle 2 is not 0 or 1/],
      [Buffer.from(JSON.stringify(['W', 1, 0, 5, 0])), /a watermark record has 6 fields, not 5/],
    ];
    for (const [value, reason] of cases) expect(task.record(value)).toMatch(reason);
    expect(task.counters.bad).toBe(cases.length);
    expect(task.record(Buffer.from(JSON.stringify(good)))).toBeNull();
    expect(task.counters.facts).toBe(1);
  });

  it('round-trips a fact and a watermark (the end of input as "Inf")', () => {
    const f = fact('tok_9', 1_700_000_000_123);
    const d = decodeCardFactsRecord(encodeFactRecord(3, f));
    expect(d).toEqual({ ok: true, record: { type: 'fact', source: 3, fact: f } });
    expect(decodeCardFactsRecord(encodeWatermark(2, Infinity, 7, true))).toEqual({ ok: true, record: { type: 'watermark', source: 2, frontierMs: Infinity, epoch: 7, idle: true } });
  });

  it('publishes each fact to its card\'s partition, and markers to every partition, throttled', () => {
    let now = 0;
    const topic = new Topic(3);
    const pub = new CardFactsPublisher({ source: 1, partitions: 3, epoch: 4, out: topic, now: () => now, markerEveryMs: 100 });
    pub.push(fact('tok_a', 10));
    pub.push(fact('tok_b', 20));
    expect(topic.parts[partitionForKey('tok_a', 3)].length + topic.parts[partitionForKey('tok_b', 3)].length).toBeGreaterThanOrEqual(2);
    const markers = () => topic.parts.map((p) => p.filter((v) => v.toString().startsWith('["W"')).length);
    pub.advance(30);
    expect(markers()).toEqual([1, 1, 1]);
    now = 50;
    pub.advance(40);
    pub.heartbeat(false);
    expect(markers()).toEqual([1, 1, 1]); // throttled
    now = 100;
    pub.heartbeat(false);
    expect(markers()).toEqual([2, 2, 2]);
    const last = decodeCardFactsRecord(topic.parts[0].at(-1)!);
    expect(last).toEqual({ ok: true, record: { type: 'watermark', source: 1, frontierMs: 40, epoch: 4, idle: false } });
    // Idleness changes go out at once; the end of input too.
    now = 120;
    pub.heartbeat(true);
    expect(markers()).toEqual([3, 3, 3]);
    pub.advance(Infinity);
    expect(markers()).toEqual([4, 4, 4]);
  });
});

function fact(card: string, t: number): CardFact {
  return {
    event_id: `00000000-0000-4000-8000-${String(t % 1e12).padStart(12, '0')}`, event_time: t, rrn: '100000000001', card_token: card, merchant_id: 'MERCHANT0000001',
    terminal_id: 'T0000001', stan: '000001', issuer_id: 'ISS', txn_type: 'SALE', amount_minor: 500, currency: 'EUR', approved: true, debit: true, lat: 48.85, lon: 2.35, late: false,
  };
}
