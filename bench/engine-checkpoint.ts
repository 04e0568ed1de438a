/**
 * Incremental engine checkpoints (issue 13, STATE_FORMAT 2): the `posguard
 * run` wiring (bench/run-workload.ts) filled with `minutes` of simulated
 * traffic, then one FULL capture (every engine's skeleton, the shared
 * index's, every attempt item) and DELTA captures after each further
 * `interval` seconds of traffic, against the full snapshot of today
 * (Engine.snapshot + JSON). Prints CPU time (the machine may be shared) and
 * bytes of each part; item bytes are each item's JSON line as the chain
 * writes it.
 *
 *   node --expose-gc --import tsx bench/engine-checkpoint.ts [minutes=60] [tps=100] [intervalS=60] [deltas=3] [--gc]
 *
 * --gc: a full garbage collection before each barrier, so that the figures are the barrier's own work
 * (without it a major GC of the multi-GB heap may land inside one of the measured steps).
 */
import { deflateSync } from 'node:zlib';
import { AttemptRefs } from '../src/engine/state/attempt-refs.js';
import { AttemptTable } from '../src/engine/state/attempt-table.js';
import { itemJson } from '../src/util/item-delta.js';
import { SIM_DEFAULTS, simulate } from '../src/sim/index.js';
import { arrivalFeeder, checkpointBenchArgs, cpuMs, mark, mb, runWorkload, took } from './run-workload.js';

const { minutes, tps, intervalMs, deltas } = checkpointBenchArgs(process.argv);
const heapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1e6;
};

const w = runWorkload();
const engines = () => [...w.tasks].map(([p, t]) => [p, t.engine] as const);
const open = () => engines().reduce((n, [, e]) => n + e.openAttempts(), 0);
const records = simulate({ seed: 3, minutes: minutes + Math.ceil((deltas * intervalMs) / 60_000) + 1, tps, startMs: SIM_DEFAULTS.startMs }).records[Symbol.iterator]();
const feedUntil = arrivalFeeder(w, records);

let clock = SIM_DEFAULTS.startMs + minutes * 60_000;
const t0 = mark();
const events = feedUntil(clock);
console.log(`${minutes} min × ${tps} tps: ${events} events in ${took(t0)}; ${open()} open attempts, shared index ${w.duplicates.entries} debits`);

// Today's full snapshot of the engines and the shared index, for comparison.
{
  const t = mark();
  const refs = new AttemptRefs();
  const json = JSON.stringify({ engines: engines().map(([p, e]) => e.snapshot(refs, p)), shared: w.duplicates.snapshot(refs) });
  console.log(`full snapshot (STATE_FORMAT 1, engines + shared index): ${mb(json.length)} JSON, snapshot + stringify ${took(t)}`);
}

const heapBefore = heapMb();
const table = new AttemptTable();
function barrier(full: boolean): void {
  if (process.argv.includes('--gc')) heapMb();
  const t = mark();
  const es = engines().map(([p, e]) => e.captureSkeleton(table, p));
  const esMs = cpuMs(t);
  const sh = mark();
  const shared = w.duplicates.captureSkeleton(table);
  const shMs = cpuMs(sh);
  const j = mark();
  const sk = JSON.stringify({ engines: es, shared });
  if (full) {
    const parts: Record<string, number> = {};
    for (const e of es) for (const [k, v] of Object.entries(e)) {
      if (k === 'p') for (const [c, x] of Object.entries(v as object)) parts[`p.${c}`] = (parts[`p.${c}`] ?? 0) + JSON.stringify(x).length;
      else parts[k] = (parts[k] ?? 0) + JSON.stringify(v).length;
    }
    console.log(`engine skeleton parts: ${Object.entries(parts).map(([k, n]) => `${k} ${mb(n)}`).join(', ')}`);
  }
  const skMs = `${took(t)} (engines ${esMs}, shared index ${shMs} (${mb(JSON.stringify(shared).length)}), JSON ${cpuMs(j)})`;
  const c = mark();
  const d = table.capture(full);
  const capMs = took(c);
  const s = mark();
  let bytes = 0;
  let items = 0;
  const sample: string[] = [];
  for (const [k, v] of d.upserts) {
    // As the segment writes it (segment.ts): the item's text as it comes (attemptJson), else its JSON.
    const line = `[${JSON.stringify(k)},${itemJson(v)}]\n`;
    bytes += line.length;
    if (items++ < 20_000) sample.push(line);
  }
  const serMs = took(s);
  const z = deflateSync(sample.join(''), { level: 1 }).length;
  const perItem = bytes / Math.max(items, 1);
  console.log(`${full ? 'FULL ' : 'delta'}: skeletons ${mb(sk.length)} in ${skMs}; capture() ${capMs}; ${items} items (${((100 * items) / table.size).toFixed(1)}% of ${table.size}), ${d.removes.length} removes, ${mb(bytes)} JSON lines in ${serMs}; ${perItem.toFixed(0)} B per item (zlib 1: ${(z / Math.max(sample.length, 1)).toFixed(0)} B)`);
}
barrier(true);
console.log(`heap held by the table after the first capture: ${(heapMb() - heapBefore).toFixed(1)} MB (the sid/dirty/seen fields live in the attempts already)`);
for (let i = 0; i < deltas; i++) {
  clock += intervalMs;
  const n = feedUntil(clock);
  process.stdout.write(`+${intervalMs / 1000} s (${n} events, ${open()} open) → `);
  barrier(false);
}
