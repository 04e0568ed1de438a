/**
 * The fault simulator: realistic terminal, gateway and bank-core streams with
 * injected faults, fraud-like patterns, near misses, clock drift, delays,
 * redeliveries, late and broken records, and a label for each injected story.
 *
 * Same options, same bytes: every random choice comes from the seed
 * (./rng.ts), never from Math.random or the wall clock.
 *
 *   const { records, labels } = simulate({ seed: 7, minutes: 10, tps: 50, startMs });
 *   for (const r of records) produce(r.stream, r.line);   // arrival order
 *   // labels is complete once records is exhausted
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_RULES } from '../config/rules.js';
import { PosguardError } from '../errors.js';
import { mkdirPrivate, openPrivateFile } from '../util/private-files.js';
import { STREAMS, type Stream } from '../events/index.js';
import type { SimLabel } from './labels.js';
import { type ResolvedOptions, Simulator } from './simulator.js';
import type { IssuerOutageOptions } from './scenarios/issuer-outage.js';
import type { SimOptions, SimRecord } from './types.js';

export type { SimOptions, SimRecord } from './types.js';
export type { ExpectedAnomaly, SimLabel } from './labels.js';
export { BAD_KINDS, type BadKind } from './bad-records.js';
export { ISSUER_OUTAGE_SCENARIO, type IssuerOutageOptions } from './scenarios/issuer-outage.js';

/** Defaults of the CLI: a run that holds every scenario at least once (the longest needs 37.5 minutes). */
export const SIM_DEFAULTS = {
  seed: 1,
  minutes: 45,
  tps: 5,
  /** Fixed, so output never depends on the wall clock. */
  startMs: Date.UTC(2026, 2, 2, 8, 0, 0),
  faultRate: 0.03,
  badRecordRate: 0.0002,
  redeliveryRate: 0.005,
  lateEventRate: 0.0005,
} as const;

export const SIM_LIMITS = { maxMinutes: 7 * 24 * 60, maxTps: 2_000 } as const;

export interface Simulation {
  /** Every line, in global arrival order; a one-shot iterator that generates as it goes (bounded memory). */
  readonly records: Iterable<SimRecord>;
  /** Filled while `records` is consumed; complete once it is exhausted. */
  readonly labels: SimLabel[];
}

export function resolveSimOptions(o: SimOptions): ResolvedOptions {
  const usage = (msg: string) => new PosguardError('PG_USAGE', `simulate: ${msg}`);
  if (!Number.isSafeInteger(o.seed)) throw usage(`seed must be an integer, got ${String(o.seed)}`);
  if (!(Number.isFinite(o.minutes) && o.minutes > 0 && o.minutes <= SIM_LIMITS.maxMinutes)) throw usage(`minutes must be in (0, ${SIM_LIMITS.maxMinutes}], got ${String(o.minutes)}`);
  if (!(Number.isFinite(o.tps) && o.tps > 0 && o.tps <= SIM_LIMITS.maxTps)) throw usage(`tps must be in (0, ${SIM_LIMITS.maxTps}], got ${String(o.tps)}`);
  if (!(Number.isSafeInteger(o.startMs) && o.startMs > 0)) throw usage(`startMs must be positive epoch milliseconds, got ${String(o.startMs)}`);
  const rate = (name: string, v: number | undefined, def: number): number => {
    const x = v ?? def;
    if (!(Number.isFinite(x) && x >= 0 && x <= 1)) throw usage(`${name} must be in [0, 1], got ${String(v)}`);
    return x;
  };
  return {
    seed: o.seed,
    minutes: o.minutes,
    tps: o.tps,
    startMs: o.startMs,
    faultRate: rate('faultRate', o.faultRate, SIM_DEFAULTS.faultRate),
    badRecordRate: rate('badRecordRate', o.badRecordRate, SIM_DEFAULTS.badRecordRate),
    redeliveryRate: rate('redeliveryRate', o.redeliveryRate, SIM_DEFAULTS.redeliveryRate),
    lateEventRate: rate('lateEventRate', o.lateEventRate, SIM_DEFAULTS.lateEventRate),
    rules: o.rules ?? DEFAULT_RULES,
    issuerOutage: resolveOutage(o, usage),
    boundaryRate: rate('boundaryRate', o.boundaryRate, 0),
  };
}

function resolveOutage(o: SimOptions, usage: (msg: string) => PosguardError): IssuerOutageOptions | null {
  const out = o.issuerOutage;
  if (out === undefined) return null;
  if (typeof out.issuerId !== 'string' || out.issuerId === '') throw usage('issuerOutage.issuerId must be an issuer id');
  if (!(Number.isSafeInteger(out.fromMs) && Number.isSafeInteger(out.toMs) && out.fromMs < out.toMs)) throw usage(`issuerOutage: fromMs must be before toMs (epoch ms), got ${String(out.fromMs)}..${String(out.toMs)}`);
  if (out.rate !== undefined && !(Number.isFinite(out.rate) && out.rate > 0 && out.rate <= 1)) throw usage(`issuerOutage.rate must be in (0, 1], got ${String(out.rate)}`);
  return out;
}

export function simulate(opts: SimOptions): Simulation {
  const labels: SimLabel[] = [];
  const sim = new Simulator(resolveSimOptions(opts), labels);
  return { records: sim.records(), labels };
}

export const SIM_FILES: Readonly<Record<Stream | 'labels', string>> = {
  terminal: 'terminal.jsonl',
  gateway: 'gateway.jsonl',
  bank: 'bank.jsonl',
  labels: 'labels.jsonl',
};

export interface SimulationCounts {
  /** Lines written per file (events, redeliveries and bad lines). */
  counts: Record<string, number>;
  labels: number;
}

/** Flush a file's buffer once it holds this many characters (streaming write, no giant strings). */
const FLUSH_CHARS = 1 << 20;

/**
 * Writes DIR/terminal.jsonl, gateway.jsonl, bank.jsonl (arrival order) and
 * labels.jsonl. Counts: lines per stream file, plus `bad`, `redelivered`,
 * `late` and `events` (distinct events).
 */
export async function writeSimulation(dir: string, opts: SimOptions): Promise<SimulationCounts> {
  const sim = simulate(opts); // validates options before touching the disk
  try {
    await mkdirPrivate(dir);
  } catch (e) {
    throw unwritable(dir, e);
  }
  const files = new Map<SimFile, FileHandle>();
  const write: WriteChunk = async (key, text) => {
    try {
      await (files.get(key) as FileHandle).write(text);
    } catch (e) {
      throw unwritable(join(dir, SIM_FILES[key]), e);
    }
  };
  try {
    for (const key of [...STREAMS, 'labels'] as const) files.set(key, await openSimFile(dir, key));
    const counts = await writeRecords(sim.records, write);
    // After the records: labels are complete only once the records are exhausted.
    await writeLabels(sim.labels, write);
    return { counts, labels: sim.labels.length };
  } finally {
    await Promise.allSettled([...files.values()].map((fh) => fh.close()));
  }
}

type SimFile = Stream | 'labels';
type WriteChunk = (key: SimFile, text: string) => Promise<void>;

function unwritable(path: string, e: unknown): PosguardError {
  return new PosguardError('PG_OUTPUT_UNWRITABLE', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e, context: { path } });
}

async function openSimFile(dir: string, key: SimFile): Promise<FileHandle> {
  const path = join(dir, SIM_FILES[key]);
  try {
    return await openPrivateFile(path);
  } catch (e) {
    throw unwritable(path, e);
  }
}

/** The three stream files in arrival order, with the counts of SimulationCounts. */
async function writeRecords(records: Iterable<SimRecord>, write: WriteChunk): Promise<Record<string, number>> {
  // Lines are collected per file and joined once per chunk: no rope strings, no giant strings.
  const buf: Record<Stream, string[]> = { terminal: [], gateway: [], bank: [] };
  const size: Record<Stream, number> = { terminal: 0, gateway: 0, bank: 0 };
  const counts: Record<string, number> = { terminal: 0, gateway: 0, bank: 0, events: 0, redelivered: 0, late: 0, bad: 0 };
  for (const r of records) {
    const s = r.stream;
    buf[s].push(r.line);
    size[s] += r.line.length + 1;
    counts[s]++;
    if (r.bad !== undefined) counts.bad++;
    else if (r.redelivery) counts.redelivered++;
    else counts.events++;
    if (r.late) counts.late++;
    if (size[s] >= FLUSH_CHARS) {
      await write(s, buf[s].join('\n') + '\n');
      buf[s] = [];
      size[s] = 0;
    }
  }
  for (const s of STREAMS) if (buf[s].length > 0) await write(s, buf[s].join('\n') + '\n');
  return counts;
}

async function writeLabels(labels: readonly SimLabel[], write: WriteChunk): Promise<void> {
  const labelLines: string[] = [];
  let labelSize = 0;
  for (const l of labels) {
    const line = JSON.stringify(l);
    labelLines.push(line);
    labelSize += line.length + 1;
    if (labelSize >= FLUSH_CHARS) {
      await write('labels', labelLines.join('\n') + '\n');
      labelLines.length = 0;
      labelSize = 0;
    }
  }
  if (labelLines.length > 0) await write('labels', labelLines.join('\n') + '\n');
}
