/**
 * Shared by the pattern-state checkpoint tests: the JSON round trip a
 * checkpoint goes through, a check that a snapshot is plain data (the
 * contract of issue 13), and seeded cut points.
 */
import { expect } from 'vitest';
import type { Anomaly } from '../../../src/events/anomaly.js';
import type { CardPatterns } from '../../../src/detect/patterns/card-patterns.js';
import type { TerminalFaultSpikes } from '../../../src/detect/patterns/fault-spike.js';
import type { CardFact, HardwareSignal } from '../../../src/detect/patterns/types.js';
import { rng } from '../../support/scenarios.js';

/** What a checkpoint does to the state: JSON out, JSON in. */
export function roundTrip<S>(s: S): S {
  return JSON.parse(JSON.stringify(s)) as S;
}

/** Objects, arrays, finite numbers, strings, booleans, null: nothing JSON would drop or change. */
export function expectPlainData(x: unknown): void {
  const bad: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) bad.push(`${path} is ${v}`);
    } else if (Array.isArray(v)) {
      v.forEach((e, i) => walk(e, `${path}[${i}]`));
    } else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      for (const [k, e] of Object.entries(v as object)) walk(e, `${path}.${k}`);
    } else {
      bad.push(`${path} is ${typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'null-prototype object'}` : typeof v}`);
    }
  };
  walk(x, 'state');
  expect(bad).toEqual([]);
}

/** `k` distinct seeded cut points in [1, n), sorted. */
export function randomCuts(seed: number, n: number, k: number): number[] {
  const r = rng(seed);
  const s = new Set<number>();
  while (s.size < Math.min(k, n - 1)) s.add(1 + Math.floor(r() * (n - 1)));
  return [...s].sort((a, b) => a - b);
}

export interface Run<S> {
  out: Anomaly[];
  /** Output length after each op. */
  emitted: number[];
  /** The snapshot taken at each cut (after its JSON round trip). */
  states: Map<number, S>;
  /** Snapshots taken (without a restore) after every PROBE_EVERY-th op: the state itself must match too, not only the output. */
  probes: S[];
  final: S;
}

const PROBE_EVERY = 40;

export interface Snapshottable<S> {
  snapshot(): S;
  restore(s: S): void;
}

/**
 * Runs `ops` through a detector; before op i for each i in `cuts` (i = ops.length: after the last), the detector
 * is snapshotted, the state sent through JSON and restored into a fresh one, which takes the rest.
 */
export function drive<D extends Snapshottable<S>, O, S = ReturnType<D['snapshot']>>(make: (emit: (a: Anomaly) => void) => D, ops: readonly O[], apply: (d: D, op: O) => void, cuts: readonly number[]): Run<S> {
  const out: Anomaly[] = [];
  const emit = (a: Anomaly): void => void out.push(a);
  let d = make(emit);
  const states = new Map<number, S>();
  const emitted: number[] = [];
  const cut = (i: number): void => {
    const before = d.snapshot();
    expectPlainData(before);
    const s = roundTrip(before);
    expect(s).toEqual(before); // JSON loses nothing
    d = make(emit);
    d.restore(s);
    expect(d.snapshot()).toEqual(s); // restore rebuilt every part the snapshot has
    states.set(i, s);
  };
  const probes: S[] = [];
  ops.forEach((op, i) => {
    if (cuts.includes(i)) cut(i);
    apply(d, op);
    emitted.push(out.length);
    if (i % PROBE_EVERY === PROBE_EVERY - 1) probes.push(d.snapshot());
  });
  if (cuts.includes(ops.length)) cut(ops.length);
  return { out, emitted, states, probes, final: d.snapshot() };
}


/** The interrupted run emitted exactly what the uninterrupted one did, and its state matched at every probe and at the end. */
export function expectSameRun<S>(run: Run<S>, base: Run<S>, label: string): void {
  expect(run.out, label).toEqual(base.out);
  expect(run.probes, label).toEqual(base.probes);
  expect(run.final, label).toEqual(base.final);
}

/** The calls a card-pattern detector takes. */
export type CardOp = { push: CardFact } | { advance: number };
export const applyCard = (cp: CardPatterns, op: CardOp): void => ('push' in op ? cp.push(op.push) : cp.advance(op.advance));

/** The calls a fault-spike detector takes. */
export type SignalOp = { push: HardwareSignal } | { advance: number } | { end: true };
export function applySignal(fs: TerminalFaultSpikes, op: SignalOp): void {
  if ('push' in op) fs.push(op.push);
  else if ('advance' in op) fs.advance(op.advance);
  else fs.end();
}
