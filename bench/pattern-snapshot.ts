/**
 * Checkpoint cost of the card patterns (issue 13): bytes per active card of
 * CardPatterns.snapshot() as JSON and gzipped, and the time to snapshot,
 * encode, decode and restore. Run: node --import tsx bench/pattern-snapshot.ts [--cards 50000]
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
import { filledPatterns, printRows, type Row } from './patterns.js';

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
  // ~57k ordinary cards drawn 3 times each leave ~50k active (some are never drawn).
  const cards = arg('cards', 57_000);
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
}

console.log(`node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} at start`);
main();
