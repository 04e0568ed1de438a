/**
 * Segment encoding benchmark (checkpoint/segment.ts, STATE_FORMAT 2): how long
 * a barrier holds the input to serialize N items into a segment (the part
 * inside the barrier), how long until every frame is deflated, the segment's
 * size, and the heap it takes, against format 1's way (one JSON string of
 * everything). Items are synthetic, shaped like an open attempt's own state
 * (about 0.7 KB of JSON each); no broker.
 *
 *   node --expose-gc --import tsx bench/segment.ts [--items 200000] [--rounds 3]
 */
import { SegmentEncoder, applySegment, emptyItems } from '../src/runtime/kafka/checkpoint/segment.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};
const N = arg('items', 200_000);
const ROUNDS = arg('rounds', 3);

function item(i: number): unknown {
  return {
    rrn: `RRN${(100_000_000 + i).toString()}`, terminal: `T${i % 5000}`, merchant: `M${i % 900}`, card: `tok_${(i * 2654435761) % 1e9}`,
    amountMinor: 1000 + (i % 9000), currency: 'EUR', state: i % 3 === 0 ? 'AUTHORIZED' : 'CAPTURED',
    times: { auth: 1_700_000_000_000 + i * 37, capture: 1_700_000_000_000 + i * 41, deadline: 1_700_000_900_000 + i },
    facts: Array.from({ length: 4 }, (_, k) => ({ stream: ['terminal', 'gateway', 'bank'][k % 3], at: 1_700_000_000_000 + i + k, code: `C${k}` })),
    refs: [i - 1, i + 1], owner: i % 4, flags: [true, false, i % 7 === 0], version: 3,
  };
}
const items = new Map<string, unknown>();
for (let i = 0; i < N; i++) items.set(String(i), item(i));

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const heapMb = () => process.memoryUsage().heapUsed / 1e6;
const extMb = () => (process.memoryUsage().external + process.memoryUsage().arrayBuffers) / 1e6;

for (let r = 1; r <= ROUNDS; r++) {
  gc();
  const h0 = heapMb();
  const e0 = extMb();
  let t0 = performance.now();
  const enc = new SegmentEncoder(1);
  enc.table('attempts', { full: true, upserts: items, removes: [] });
  enc.table('cards', { full: true, upserts: [], removes: [] });
  const { figures, frames } = enc.finish();
  const heldMs = performance.now() - t0;
  const heldHeap = heapMb() - h0;
  const heldExt = extMb() - e0;
  const parts: Buffer[] = [];
  for await (const f of frames()) parts.push(f);
  const doneMs = performance.now() - t0;
  const bytes = Buffer.concat(parts);
  t0 = performance.now();
  const into = emptyItems();
  applySegment(into, bytes, 1, true);
  const readMs = performance.now() - t0;
  if (into.attempts.size !== N) throw new Error('lost items');
  gc();
  const h1 = heapMb();
  t0 = performance.now();
  const whole = JSON.stringify([...items]);
  const oneStringMs = performance.now() - t0;
  const oneHeap = heapMb() - h1;
  console.log(`round ${r}: ${N} items, ${(figures.jsonBytes / 1e6).toFixed(1)} MB JSON → segment ${(bytes.length / 1e6).toFixed(1)} MB; held ${heldMs.toFixed(0)} ms (heap +${heldHeap.toFixed(0)} MB, buffers +${heldExt.toFixed(0)} MB), deflated ${doneMs.toFixed(0)} ms, read+merge ${readMs.toFixed(0)} ms; format 1 way: one string ${(whole.length / 1e6).toFixed(1)} MB in ${oneStringMs.toFixed(0)} ms (heap +${oneHeap.toFixed(0)} MB)`);
}
