/**
 * Segment encoding benchmark (checkpoint/segment.ts, STATE_FORMAT 2): how long
 * a barrier holds the input to serialize N items into a segment (the part
 * inside the barrier), how long until every frame is deflated, the segment's
 * size, and the heap it takes, against format 1's way (one JSON string of
 * everything). Items are synthetic, shaped like an open attempt's own state
 * (about 0.7 KB of JSON each, every 8th with non-ASCII text); no broker.
 * Then a restore's side of the same segment: the merge as a restore runs it
 * (applySegmentYielding, the event loop handed back between frames) and the
 * later parse of every item (parseItems), with the GC time inside both.
 *
 *   node --expose-gc --import tsx bench/segment.ts [--items 200000] [--rounds 3]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { SegmentEncoder } from '../src/runtime/kafka/checkpoint/segment.js';
import { applySegment, applySegmentYielding, emptyItems } from '../src/runtime/kafka/checkpoint/segment-read.js';
import { parseItems } from '../src/util/item-delta.js';
import { drain, yieldToIo } from '../src/util/yield.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};
const N = arg('items', 200_000);
const ROUNDS = arg('rounds', 3);

function item(i: number): unknown {
  return {
    rrn: `RRN${(100_000_000 + i).toString()}`, terminal: `T${i % 5000}`, merchant: i % 8 === 0 ? `Café "Ünïcödé" № ${i % 900} 🍕` : `M${i % 900}`, card: `tok_${(i * 2654435761) % 1e9}`,
    amountMinor: 1000 + (i % 9000), currency: 'EUR', state: i % 3 === 0 ? 'AUTHORIZED' : 'CAPTURED',
    times: { auth: 1_700_000_000_000 + i * 37, capture: 1_700_000_000_000 + i * 41, deadline: 1_700_000_900_000 + i },
    facts: Array.from({ length: 4 }, (_, k) => ({ stream: ['terminal', 'gateway', 'bank'][k % 3], at: 1_700_000_000_000 + i + k, code: `C${k}` })),
    refs: [i - 1, i + 1], owner: i % 4, flags: [true, false, i % 7 === 0], version: 3,
  };
}
const items = new Map<string, unknown>();
for (let i = 0; i < N; i++) items.set(String(i), item(i));

let gcMs = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

/** A restore's merge of the segment, then the parse of every item; wall ms of each and GC ms inside both. */
async function restoreSide(bytes: Buffer): Promise<string> {
  gc();
  await yieldToIo();
  const gc0 = gcMs;
  const t0 = performance.now();
  const into = emptyItems();
  await applySegmentYielding(into, bytes, 1, true, yieldToIo);
  const t1 = performance.now();
  drain(parseItems(into.attempts));
  const t2 = performance.now();
  if (into.attempts.size !== N) throw new Error('lost items');
  await yieldToIo();
  return `merge ${(t1 - t0).toFixed(0)} ms + parse ${(t2 - t1).toFixed(0)} ms = ${(t2 - t0).toFixed(0)} ms (GC ${(gcMs - gc0).toFixed(0)} ms)`;
}

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
  console.log(`round ${r}: restore side: ${await restoreSide(bytes)}`);
  console.log(`round ${r}: ${N} items, ${(figures.jsonBytes / 1e6).toFixed(1)} MB JSON → segment ${(bytes.length / 1e6).toFixed(1)} MB; held ${heldMs.toFixed(0)} ms (heap +${heldHeap.toFixed(0)} MB, buffers +${heldExt.toFixed(0)} MB), deflated ${doneMs.toFixed(0)} ms, read+merge ${readMs.toFixed(0)} ms; format 1 way: one string ${(whole.length / 1e6).toFixed(1)} MB in ${oneStringMs.toFixed(0)} ms (heap +${oneHeap.toFixed(0)} MB)`);
}
