/**
 * Checkpoint cost of the card patterns (issue 13): bytes per active card of
 * CardPatterns.snapshot() as JSON and gzipped, and the time to snapshot,
 * encode, decode and restore; then the incremental checkpoint (STATE_FORMAT
 * 2): a full capture (captureCards(true)) and a delta capture after ~5% of
 * the cards changed (captureCards(false)), each item serialized one by one as
 * the checkpoint chain does, and the cost of the change tracking on push().
 * Run: node --import tsx bench/pattern-snapshot.ts [--cards 187000] (~164k active cards, as 60 min × 100 tps)
 *
 * Workload: bench/patterns.ts's (seeded, in order, all kinds on, default
 * rules) with ~3 facts per ordinary card over 4 h of bank time, plus 100 hot
 * cards with ~10% of the traffic. Every card touched is still active at the
 * end (IMPOSSIBLE_TRAVEL keeps a located debit ~22 h), so this is the state a
 * checkpoint in the middle of a busy day holds.
 */
import { cpus, loadavg } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DEFAULT_RULES } from '../src/config/rules.js';
import { CardPatterns } from '../src/detect/patterns/card-patterns.js';
import type { ItemDelta } from '../src/util/item-delta.js';
import { filledPatterns, generate, printRows, workload, type Row } from './patterns.js';
import { itemJson } from '../src/util/item-delta.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};

/** Median wall-clock and process-CPU milliseconds of `rounds` runs (CPU time suffers less from a busy machine). */
function ms(f: () => void, rounds = 5): { wall: number; cpu: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    f();
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1e3);
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(rounds / 2)];
  return { wall: median(walls), cpu: median(cpus) };
}

const timed = (name: string, t: { wall: number; cpu: number }, note = ''): Row => ({
  name, value: Math.round(t.wall), unit: 'ms', note: `median of 5 wall clock; ${Math.round(t.cpu)} ms process CPU${note}`,
});

function main(): void {
  if (process.argv.includes('--incremental-only')) {
    printRows([...deltaRows(arg('cards', 187_000)), ...trackingRows()]);
    return;
  }
  // ~187k ordinary cards drawn 3 times each leave ~164k active (some are never drawn).
  const cards = arg('cards', 187_000);
  const n = cards * 3;
  const cp = filledPatterns(n, cards);
  const active = cp.activeCards();
  const state = cp.snapshot();
  const json = JSON.stringify(state);
  const gz = gzipSync(json);
  const gz1 = gzipSync(json, { level: 1 });
  const held = state.cards.reduce((k, [, c]) => k + c.facts.length, 0);
  const per = (bytes: number): number => Math.round(bytes / active);
  const tSnap = ms(() => cp.snapshot());
  const tJson = ms(() => JSON.stringify(cp.snapshot()));
  const tGzip = ms(() => gzipSync(json));
  const tGzip1 = ms(() => gzipSync(json, { level: 1 }));
  const tGunzip = ms(() => gunzipSync(gz));
  const tParse = ms(() => JSON.parse(json));
  const tRestore = ms(() => new CardPatterns(() => DEFAULT_RULES, () => undefined).restore(JSON.parse(json)));
  const rows: Row[] = [
    { name: 'active cards', value: active, unit: 'cards', note: `${n.toLocaleString('en')} facts pushed; ${held.toLocaleString('en')} facts held (${(held / active).toFixed(2)} per card)` },
    { name: 'snapshot, JSON', value: json.length, unit: 'bytes', note: `${per(json.length)} bytes per active card` },
    { name: 'snapshot, JSON gzipped', value: gz.length, unit: 'bytes', note: `${per(gz.length)} bytes per active card (zlib default level 6)` },
    { name: 'snapshot, JSON gzip level 1', value: gz1.length, unit: 'bytes', note: `${per(gz1.length)} bytes per active card` },
    timed('snapshot() to plain data', tSnap),
    timed('snapshot() + JSON.stringify', tJson),
    timed('gzip (level 6)', tGzip),
    timed('gzip level 1', tGzip1),
    timed('gunzip', tGunzip),
    timed('JSON.parse', tParse),
    timed('JSON.parse + restore()', tRestore, '; into a fresh CardPatterns'),
  ];
  printRows(rows);
  printRows([...deltaRows(cards), ...trackingRows()]);
}

/**
 * The change tracking's cost on the hot path: the same facts (600k over 200k cards) through a detector never
 * captured (tracking off) and one captured at the start and every 60k facts (tracking on; the captures' own time
 * left out), alternating, best process CPU of 3 each.
 */
function trackingRows(): Row[] {
  const facts = generate(600_000, 200_000);
  const run = (track: boolean): number => {
    const cp = new CardPatterns(() => DEFAULT_RULES, () => undefined);
    const drain = (d: ItemDelta): void => void [...d.upserts];
    if (track) drain(cp.captureCards(true));
    let cpuUs = 0;
    let c0 = process.cpuUsage();
    for (let i = 0; i < facts.length; i++) {
      const f = facts[i];
      if ((i & 1023) === 0) cp.advance(f.event_time);
      cp.push(f);
      if (track && i % 60_000 === 59_999) {
        const c = process.cpuUsage(c0);
        cpuUs += c.user + c.system;
        drain(cp.captureCards(false));
        c0 = process.cpuUsage();
      }
    }
    const c = process.cpuUsage(c0);
    return ((cpuUs + c.user + c.system) * 1e3) / facts.length;
  };
  run(false); // warm-up (JIT)
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < 3; i++) {
    off.push(run(false));
    on.push(run(true));
  }
  const note = '600,000 facts over 200k cards, advance every 1,024; best process CPU of 3 (alternating)';
  return [
    { name: 'push()+advance(), tracking off', value: Math.round(Math.min(...off)), unit: 'ns/fact', note },
    { name: 'push()+advance(), tracking on', value: Math.round(Math.min(...on)), unit: 'ns/fact', note: `${note}; a delta capture every 60k facts, not timed` },
  ];
}

/** Serializes a capture as the chain does: one JSON line per item; bytes, items, removes. */
function serialize(skeleton: unknown, d: ItemDelta): { bytes: number; items: number; removes: number; biggest: number; hotBytes: number } {
  let bytes = JSON.stringify(skeleton).length + JSON.stringify(d.removes).length;
  let items = 0;
  let biggest = 0;
  let hotBytes = 0;
  for (const [k, x] of d.upserts) {
    const b = `[${JSON.stringify(k)},${itemJson(x)}]`.length + 1;
    bytes += b;
    if (b > biggest) biggest = b;
    if (k.startsWith('hot-')) hotBytes += b;
    items++;
  }
  return { bytes, items, removes: d.removes.length, biggest, hotBytes };
}

/**
 * The same workload, continued: the fill, then rounds of ~5% of the active cards' worth of facts (8,200 at ~164k
 * cards, ~80 s at 100 tps), each followed by a delta capture. The first round pushes before any capture (tracking
 * off), the rest after (tracking on): the difference is the tracking's cost per push.
 */
function deltaRows(cards: number): Row[] {
  const n = cards * 3;
  const rounds = 6;
  const chunk = Math.round(cards * 0.044);
  const g = workload(n + rounds * chunk, 42, cards, 100, 4 * 3_600_000 * (1 + (rounds * chunk) / n));
  const cp = new CardPatterns(() => DEFAULT_RULES, () => undefined);
  let pushed = 0;
  const push = (k: number): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < k; i++, pushed++) {
      const f = g.next();
      if ((pushed & 1023) === 0) cp.advance(f.event_time);
      cp.push(f);
    }
    return Number(process.hrtime.bigint() - t0) / k;
  };
  push(n);
  const untrackedNs = push(chunk);
  const timedCapture = (full: boolean): ReturnType<typeof serialize> & { wall: number; cpu: number; skeleton: number } => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const skeleton = cp.captureSkeleton();
    const r = serialize(skeleton, cp.captureCards(full));
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { wall, cpu: (c.user + c.system) / 1e3, ...r, skeleton: JSON.stringify(skeleton).length };
  };
  const fulls = [0, 1, 2].map(() => timedCapture(true));
  const deltas: (ReturnType<typeof timedCapture> & { pushNs: number })[] = [];
  for (let i = 1; i < rounds; i++) {
    const pushNs = push(chunk);
    deltas.push({ ...timedCapture(false), pushNs });
  }
  const med = <T>(xs: T[], f: (x: T) => number): number => xs.map(f).sort((a, b) => a - b)[xs.length >> 1];
  const active = cp.activeCards();
  const full = { wall: med(fulls, (x) => x.wall), cpu: med(fulls, (x) => x.cpu), bytes: med(fulls, (x) => x.bytes) };
  const hot = { share: med(deltas, (x) => x.hotBytes / x.bytes), biggest: med(deltas, (x) => x.biggest) };
  const d = { wall: med(deltas, (x) => x.wall), cpu: med(deltas, (x) => x.cpu), bytes: med(deltas, (x) => x.bytes), items: med(deltas, (x) => x.items), removes: med(deltas, (x) => x.removes) };
  return [
    { name: 'incremental: active cards', value: active, unit: 'cards', note: `${chunk.toLocaleString('en')} facts between two captures` },
    { name: 'full capture + per-item JSON', value: Math.round(full.wall), unit: 'ms', note: `median of 3 wall clock; ${Math.round(full.cpu)} ms process CPU; ${full.bytes.toLocaleString('en')} bytes, ${Math.round(full.bytes / active)} per card` },
    { name: 'delta capture + per-item JSON', value: Math.round(d.wall), unit: 'ms', note: `median of ${rounds - 1} wall clock; ${Math.round(d.cpu)} ms process CPU; ${d.bytes.toLocaleString('en')} bytes; ${d.items.toLocaleString('en')} upserts (${(100 * d.items / active).toFixed(1)}%), ${d.removes.toLocaleString('en')} removes` },
    { name: 'delta: the 100 hot cards\' share', value: Math.round(100 * hot.share), unit: '% bytes', note: `a changed card is written whole: the biggest item ${hot.biggest.toLocaleString('en')} bytes` },
    { name: 'skeleton, JSON', value: deltas[0].skeleton, unit: 'bytes', note: 'frame, counters, card count' },
    { name: 'push(), tracking off', value: Math.round(untrackedNs), unit: 'ns/fact', note: `${chunk.toLocaleString('en')} facts before the first capture` },
    { name: 'push(), tracking on', value: Math.round(med(deltas, (x) => x.pushNs)), unit: 'ns/fact', note: `median of ${rounds - 1} rounds after a capture` },
  ];
}

console.log(`node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} at start`);
main();
