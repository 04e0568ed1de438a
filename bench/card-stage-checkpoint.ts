/**
 * Incremental card checkpoints (issue 13, STATE_FORMAT 2) on `posguard run`'s
 * wiring (bench/run-workload.ts) filled with `minutes` of simulated traffic:
 * the card stage's full snapshot of today (snapshot() + JSON), one FULL
 * capture (skeleton + every card item) and DELTA captures after each further
 * `interval` seconds of traffic. Item bytes are each item's JSON line as the
 * chain writes it; CPU time as well as wall (the machine may be shared).
 *
 *   node --import tsx bench/card-stage-checkpoint.ts [minutes=60] [tps=100] [intervalS=60] [deltas=3]
 */
import { SIM_DEFAULTS, simulate } from '../src/sim/index.js';
import { arrivalFeeder, checkpointBenchArgs, mark, mb, runWorkload, took } from './run-workload.js';
import { itemJson } from '../src/util/item-delta.js';

const { minutes, tps, intervalMs, deltas } = checkpointBenchArgs(process.argv);

const w = runWorkload();
const stage = w.stage;
const records = simulate({ seed: 3, minutes: minutes + Math.ceil((deltas * intervalMs) / 60_000) + 1, tps, startMs: SIM_DEFAULTS.startMs }).records[Symbol.iterator]();
const feedUntil = arrivalFeeder(w, records);

let clock = SIM_DEFAULTS.startMs + minutes * 60_000;
const t0 = mark();
const events = feedUntil(clock);
console.log(`${minutes} min × ${tps} tps: ${events} events in ${took(t0)}; ${stage.patterns.activeCards()} active cards, ${stage.pending()} facts held in the stage`);
{
  const t = mark();
  const json = JSON.stringify(stage.snapshot());
  console.log(`full snapshot() + JSON.stringify (one string): ${mb(json.length)} in ${took(t)}`);
}

function barrier(full: boolean): void {
  const t = mark();
  const skeleton = JSON.stringify(stage.captureSkeleton());
  const d = stage.captureCards(full);
  let bytes = 0;
  let items = 0;
  let biggest = 0;
  for (const [k, v] of d.upserts) {
    const n = `[${JSON.stringify(k)},${itemJson(v)}]`.length + 1;
    bytes += n;
    biggest = Math.max(biggest, n);
    items++;
  }
  const cards = stage.patterns.activeCards();
  console.log(`${d.full ? 'FULL ' : 'delta'}: skeleton ${mb(skeleton.length)}; ${items} items (${((100 * items) / cards).toFixed(1)}% of ${cards}), ${d.removes.length} removes; `
    + `${mb(bytes)} JSON lines, ${(bytes / Math.max(items, 1)).toFixed(0)} B per item (biggest ${biggest}); capture + serialize ${took(t)}`);
}
barrier(true);
for (let i = 0; i < deltas; i++) {
  clock += intervalMs;
  const n = feedUntil(clock);
  process.stdout.write(`+${intervalMs / 1000} s (${n} events) → `);
  barrier(false);
}
