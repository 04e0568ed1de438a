/**
 * Size and cost of a `posguard run` checkpoint (issue 13): the simulator's
 * traffic through four partition tasks sharing one card stage and one
 * duplicate index (as `posguard run` wires them), then one barrier's
 * snapshot, encoded as JSON with zlib at levels 1, 6 and 9, gzip 6 and
 * brotli 4 and 9. Prints per encoding the bytes and the time to encode and
 * decode, and bytes per open attempt and per active card.
 *
 *   node --import tsx bench/checkpoint-state.ts [minutes] [tps]
 */
import { brotliCompressSync, brotliDecompressSync, constants, deflateSync, gzipSync, gunzipSync, inflateSync } from 'node:zlib';
import { Ledger } from '../src/runtime/kafka/ledger.js';
import { ReversalRouter } from '../src/runtime/kafka/reversal-router.js';
import { snapshotGeneration } from '../src/runtime/kafka/checkpoint/snapshot.js';
import { SegmentEncoder } from '../src/runtime/kafka/checkpoint/segment.js';
import { SIM_DEFAULTS, simulate } from '../src/sim/index.js';
import { runWorkload } from './run-workload.js';

const minutes = Number(process.argv[2] ?? 20);
const tps = Number(process.argv[3] ?? 20);
const { tasks, stage, duplicates, feed } = runWorkload();
let events = 0;
for (const r of simulate({ seed: 3, minutes, tps, startMs: SIM_DEFAULTS.startMs }).records) if (feed(r)) events++;
const parts = { tasks, stage, ledger: new Ledger(), duplicates, reversals: new ReversalRouter(), cardEpoch: 0 };
const floorPlan = { entries: [], committed: () => undefined, current: () => true };
let t0 = performance.now();
// The item tables (a base: every item) into a segment as the barrier writes it (checkpoint/segment.ts).
const segment = new SegmentEncoder(1);
const snap = snapshotGeneration(parts, 1, 'g', floorPlan, new Map(), Date.now(), {
  full: () => true,
  consume: (t) => {
    segment.table('attempts', t.attempts);
    segment.table('cards', t.cards);
  },
});
const segmentFigures = segment.finish().figures;
const snapshotMs = performance.now() - t0;
t0 = performance.now();
const json = Buffer.from(JSON.stringify(snap.records.map((r) => r.record)), 'utf8');
const jsonMs = performance.now() - t0;
const open = [...tasks.values()].reduce((n, t) => n + t.engine.openAttempts(), 0);
const cards = stage.patterns.activeCards();
console.log(`${minutes} min × ${tps} tps: ${events} events, ${open} open attempts, ${cards} active cards; snapshot ${snapshotMs.toFixed(0)} ms (segment: ${segmentFigures.upserts} items, ${(segmentFigures.jsonBytes / 1e6).toFixed(2)} MB JSON), JSON ${(json.length / 1e6).toFixed(2)} MB in ${jsonMs.toFixed(0)} ms`);
const codecs: [string, (b: Buffer) => Buffer, (b: Buffer) => Buffer][] = [
  ['zlib 1', (b) => deflateSync(b, { level: 1 }), inflateSync],
  ['zlib 6', (b) => deflateSync(b, { level: 6 }), inflateSync],
  ['zlib 9', (b) => deflateSync(b, { level: 9 }), inflateSync],
  ['gzip 6', (b) => gzipSync(b), gunzipSync],
  ['brotli 4', (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }), brotliDecompressSync],
  ['brotli 9', (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }), brotliDecompressSync],
];
for (const [name, enc, dec] of codecs) {
  const times: number[] = [];
  const dtimes: number[] = [];
  let size = 0;
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    const z = enc(json);
    const b = performance.now();
    dec(z);
    dtimes.push(performance.now() - b);
    times.push(b - a);
    size = z.length;
  }
  const med = (x: number[]) => x.sort((p, q) => p - q)[2].toFixed(0);
  console.log(`${name.padEnd(9)} ${(size / 1e3).toFixed(0).padStart(7)} kB (${(json.length / size).toFixed(1)}×), encode ${med(times)} ms, decode ${med(dtimes)} ms; ${(size / Math.max(open, 1)).toFixed(0)} B per open attempt, ${(size / Math.max(cards, 1)).toFixed(0)} B per active card`);
}
