import { describe, expect, it } from 'vitest';
import { applyAlignment, heldInputs, InputAlignment, type AlignedInput } from '../../../src/ingest/kafka/alignment.js';
import type { PartitionTarget } from '../../../src/ingest/kafka/partition-targets.js';
import type { Stream } from '../../../src/events/index.js';

const MIN = 60_000;
const at = (topic: string, partition: number, maxEventTime: number, caughtUp = false): AlignedInput => ({ topic, partition, maxEventTime, caughtUp });
const names = (xs: readonly AlignedInput[]) => xs.map((i) => `${i.topic}:${i.partition}`).sort();

describe('InputAlignment: pausing input that runs ahead in event time', () => {
  it('pauses a topic-partition more than aheadMs past the slowest one still behind, and only that one', () => {
    const a = new InputAlignment(10 * MIN);
    const c = a.decide([at('bank', 0, 100 * MIN), at('terminal', 0, 50 * MIN), at('gateway', 0, 59 * MIN)]);
    expect(names(c.pause)).toEqual(['bank:0']);
    expect(c.resume).toEqual([]);
    expect(a.isPaused('bank', 0)).toBe(true);
  });

  it('exactly aheadMs ahead is not paused; 1 ms more is', () => {
    const a = new InputAlignment(10 * MIN);
    expect(a.decide([at('bank', 0, 60 * MIN), at('terminal', 0, 50 * MIN)]).pause).toEqual([]);
    expect(names(a.decide([at('bank', 0, 60 * MIN + 1), at('terminal', 0, 50 * MIN)]).pause)).toEqual(['bank:0']);
  });

  it('resumes once the slowest comes within aheadMs, and pauses nothing twice', () => {
    const a = new InputAlignment(10 * MIN);
    a.decide([at('bank', 1, 100 * MIN), at('terminal', 1, 50 * MIN)]);
    expect(a.decide([at('bank', 1, 100 * MIN), at('terminal', 1, 80 * MIN)]).pause).toEqual([]);
    const c = a.decide([at('bank', 1, 100 * MIN), at('terminal', 1, 90 * MIN)]);
    expect(names(c.resume)).toEqual(['bank:1']);
    expect(a.pauses).toBe(1);
  });

  it('a caught-up input holds nothing back (a quiet or empty stream never stops the others), and is never paused', () => {
    const a = new InputAlignment(10 * MIN);
    const c = a.decide([at('bank', 0, 100 * MIN), at('terminal', 0, 5 * MIN, true), at('gateway', 0, 99 * MIN)]);
    expect(c.pause).toEqual([]);
    // paused while behind, resumed when it reaches its log end even though still ahead
    a.decide([at('bank', 0, 100 * MIN), at('terminal', 0, 5 * MIN)]);
    expect(a.isPaused('bank', 0)).toBe(true);
    expect(names(a.decide([at('bank', 0, 100 * MIN, true), at('terminal', 0, 5 * MIN)]).resume)).toEqual(['bank:0']);
  });

  it('an input that has read nothing yet holds nothing back (it would never get a batch to release the others if empty)', () => {
    const a = new InputAlignment(10 * MIN);
    expect(a.decide([at('bank', 0, 100 * MIN), at('terminal', 0, -Infinity), at('gateway', 0, 95 * MIN)]).pause).toEqual([]);
  });

  it('the slowest input is never paused: the input always moves', () => {
    const a = new InputAlignment(1);
    const inputs = [at('t', 0, 7), at('t', 1, 3), at('t', 2, 1_000), at('g', 2, 999)];
    const c = a.decide(inputs);
    expect(names(c.pause)).toEqual(['g:2', 't:0', 't:2']);
    expect(a.isPaused('t', 1)).toBe(false);
  });

  it('across partitions too: a partition far ahead of another partition is paused', () => {
    const a = new InputAlignment(10 * MIN);
    expect(names(a.decide([at('terminal', 0, 300 * MIN), at('terminal', 3, 100 * MIN)]).pause)).toEqual(['terminal:0']);
  });

  it('0 turns it off', () => {
    const a = new InputAlignment(0);
    expect(a.enabled).toBe(false);
    expect(a.decide([at('bank', 0, 1e12), at('terminal', 0, 0)]).pause).toEqual([]);
  });

  it('retain forgets revoked inputs; pausedInputs names the rest for the consumer', () => {
    const a = new InputAlignment(MIN);
    a.decide([at('pos.bank', 0, 100 * MIN), at('pos.bank', 2, 100 * MIN), at('pos.terminal', 0, 0)]);
    a.retain(new Set(['pos.bank:2', 'pos.terminal:0']));
    expect(a.pausedInputs()).toEqual([{ topic: 'pos.bank', partitions: [2] }]);
  });
});

describe('heldInputs and applyAlignment', () => {
  const target = (next: number, maxT: Partial<Record<Stream, number>>): PartitionTarget =>
    ({ next: () => next, maxEventTime: (s: Stream) => maxT[s] ?? -Infinity }) as unknown as PartitionTarget;

  it('one input per held partition and stream; caught up when the position reaches the log end (unknown end: behind)', () => {
    const topics = { terminal: 'T', gateway: 'G', bank: 'B' };
    const ends: Record<string, number> = { 'T:0': 10, 'G:0': 5, 'T:1': 4 };
    const xs = heldInputs([0, 1], topics, (p) => (p === 0 ? target(5, { terminal: 1, bank: 3 }) : target(4, {})), (t, p) => ends[`${t}:${p}`]);
    expect(xs).toEqual([
      at('T', 0, 1), at('G', 0, -Infinity, true), at('B', 0, 3),
      at('T', 1, -Infinity, true), at('G', 1, -Infinity), at('B', 1, -Infinity),
    ]);
  });

  it('pauses and resumes per topic-partition and counts the pauses', () => {
    const calls: string[] = [];
    const consumer = {
      pause: (x: { topic: string; partitions?: number[] }[]) => calls.push(`pause ${JSON.stringify(x)}`),
      resume: (x: { topic: string; partitions?: number[] }[]) => calls.push(`resume ${JSON.stringify(x)}`),
    };
    const stats = { alignmentPauses: 0 };
    applyAlignment(consumer as never, { pause: [at('B', 1, 9)], resume: [at('T', 0, 1)] }, stats);
    expect(calls).toEqual(['pause [{"topic":"B","partitions":[1]}]', 'resume [{"topic":"T","partitions":[0]}]']);
    expect(stats.alignmentPauses).toBe(1);
  });
});

describe('InputFlow: the sink pause and the alignment pauses together', () => {
  it('while the sink holds every topic nothing is aligned; when it resumes the topics, the aligned partitions are paused again', async () => {
    const { InputFlow } = await import('../../../src/ingest/kafka/input-flow.js');
    const calls: string[] = [];
    const consumer = {
      pause: (x: unknown) => calls.push(`pause ${JSON.stringify(x)}`),
      resume: (x: unknown) => calls.push(`resume ${JSON.stringify(x)}`),
    };
    let backlog = 0;
    let drained!: () => void;
    const stats = { pauses: 0, alignmentPauses: 0 };
    const flow = new InputFlow({
      topics: ['T', 'B'], alignAheadMs: 10, sinkHighWaterRows: 100, stats, draining: () => false,
      output: { backlog: () => backlog, drain: () => new Promise<void>((r) => (drained = r)) },
    });
    flow.align(consumer as never, () => [at('B', 0, 100), at('T', 0, 0)]);
    expect(calls.splice(0)).toEqual(['pause [{"topic":"B","partitions":[0]}]']);
    backlog = 100;
    flow.backpressure(consumer as never);
    expect(calls.splice(0)).toEqual(['pause [{"topic":"T"},{"topic":"B"}]']);
    flow.align(consumer as never, () => [at('B', 0, 5), at('T', 0, 0)]); // would resume B:0, but the sink holds everything
    expect(calls).toEqual([]);
    drained();
    await new Promise((r) => setImmediate(r));
    expect(calls.splice(0)).toEqual(['resume [{"topic":"T"},{"topic":"B"}]', 'pause [{"topic":"B","partitions":[0]}]']);
    expect(stats).toEqual({ pauses: 1, alignmentPauses: 1 });
    flow.reset(consumer as never);
    expect(calls.splice(0)).toEqual(['resume [{"topic":"B","partitions":[0]}]']);
  });
});
