/**
 * Benchmark of the card patterns (stage 2, src/detect/patterns): facts per
 * second through CardPatterns with every kind enabled, and heap bytes per
 * active card. Run: node --expose-gc --import tsx bench/patterns.ts
 *
 * Workload (seeded, in (event_time, event_id) order, 4 h of bank time):
 * 300,000 ordinary cards with ~3 facts each and 100 hot cards with ~1,000
 * each (10% of the traffic); 85% approved, 20% small, 95% located (each card
 * has a home city and sometimes travels). advance() every 1,000 facts, as the
 * engine would, so released cards are part of the cost.
 */
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { DEFAULT_RULES } from '../src/config/rules.js';
import type { Anomaly } from '../src/events/anomaly.js';
import { CardPatterns } from '../src/detect/patterns/card-patterns.js';
import type { CardFact } from '../src/detect/patterns/types.js';

export interface Row {
  readonly name: string;
  readonly value: number | null;
  readonly unit: string;
  readonly note: string;
}

const CITIES: readonly (readonly [number, number])[] = [
  [52.52, 13.405], [48.137, 11.575], [50.11, 8.682], [53.551, 9.993], [51.227, 6.773], [48.856, 2.352],
  [51.507, -0.128], [40.417, -3.704], [41.903, 12.496], [52.229, 21.012], [59.329, 18.069], [47.498, 19.04],
  [50.075, 14.437], [48.208, 16.373], [45.464, 9.19], [41.385, 2.173], [38.722, -9.139], [55.676, 12.568],
];
const MERCHANTS = Array.from({ length: 5000 }, (_, i) => `M${String(i).padStart(14, '0')}`);
const TERMINALS = Array.from({ length: 20000 }, (_, i) => `T${String(i).padStart(7, '0')}`);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Workload {
  readonly n: number;
  next(): CardFact;
}

/** A generator, so the heap measurement can create facts on the fly (as the engine does) instead of holding them all. */
export function workload(n: number, seed = 42, normalCards = 300_000, hotCards = 100, spanMs = 4 * 3_600_000): Workload {
  const rnd = rng(seed);
  const start = Date.UTC(2024, 2, 10, 8);
  const step = spanMs / n;
  let i = 0;
  let t = start;
  return {
    n,
    next(): CardFact {
      i++;
      t += Math.floor(rnd() * 2 * step);
      const hot = rnd() < 0.1;
      const c = hot ? Math.floor(rnd() * hotCards) : Math.floor(rnd() * normalCards);
      const card = hot ? `hot-${c}` : `card-${c}`;
      const home = CITIES[c % CITIES.length];
      const away = rnd() < 0.005 ? CITIES[Math.floor(rnd() * CITIES.length)] : home;
      const approved = rnd() < 0.85;
      const small = rnd() < 0.2;
      const located = rnd() < 0.95;
      const txn = rnd() < 0.9 ? 'SALE' : rnd() < 0.5 ? 'PREAUTH' : 'REFUND';
      const id = i.toString(36).padStart(10, '0');
      return {
        event_id: `00000000-0000-4000-8000-${id.padStart(12, '0')}`,
        event_time: t,
        rrn: id.padStart(12, '0'),
        card_token: card,
        merchant_id: MERCHANTS[Math.floor(rnd() * MERCHANTS.length)],
        terminal_id: TERMINALS[Math.floor(rnd() * TERMINALS.length)],
        stan: String(i % 1_000_000).padStart(6, '0'),
        issuer_id: 'ISS00001',
        txn_type: txn,
        amount_minor: small ? 100 + Math.floor(rnd() * 1900) : 2_001 + Math.floor(rnd() * 200_000),
        currency: 'EUR',
        approved,
        debit: approved && txn !== 'REFUND',
        lat: located ? away[0] + (rnd() - 0.5) * 0.1 : null,
        lon: located ? away[1] + (rnd() - 0.5) * 0.1 : null,
        late: false,
      };
    },
  };
}

/** Wall-clock and CPU seconds (all threads of the process, GC helpers included) to push every fact. */
function drive(cp: CardPatterns, facts: readonly CardFact[]): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < facts.length; i++) {
    const f = facts[i];
    if ((i & 1023) === 0) cp.advance(f.event_time);
    cp.push(f);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

/** The workload's first n facts, held in an array (so only the detector is timed). */
export function generate(n: number, cards: number): CardFact[] {
  const gen = workload(n, 42, cards);
  const facts: CardFact[] = [];
  for (let i = 0; i < n; i++) facts.push(gen.next());
  return facts;
}

/** Facts generated up front, so only the detector is timed; best of `rounds` fresh detectors. */
function throughput(facts: readonly CardFact[], rounds: number): { wall: number; cpu: number; cp: CardPatterns; kinds: Map<string, number> } {
  const rules = DEFAULT_RULES;
  drive(new CardPatterns(() => rules, () => undefined), facts); // warm-up (JIT)
  let best = { wall: Infinity, cpu: Infinity, cp: null as unknown as CardPatterns, kinds: new Map<string, number>() };
  for (let round = 0; round < rounds; round++) {
    const kinds = new Map<string, number>();
    const cp = new CardPatterns(() => rules, (a: Anomaly) => void kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1));
    const { wall, cpu } = drive(cp, facts);
    if (wall < best.wall) best = { wall, cpu: Math.min(cpu, best.cpu), cp, kinds };
    else best.cpu = Math.min(cpu, best.cpu);
  }
  return best;
}

const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** Detector structures only: the facts are held by the caller anyway. Returns bytes per active card. */
function heapStructures(facts: readonly CardFact[]): number {
  const before = heapAfterGc();
  const cp = new CardPatterns(() => DEFAULT_RULES, () => undefined);
  drive(cp, facts);
  const after = heapAfterGc();
  return (after - before) / cp.activeCards();
}

/** Everything a card costs: facts made on the fly (as the engine does), so those the detector keeps count too. */
/** A CardPatterns fed n facts of the workload over `cards` normal cards, advancing every 1,024 facts. */
export function filledPatterns(n: number, cards: number): CardPatterns {
  const cp = new CardPatterns(() => DEFAULT_RULES, () => undefined);
  const g = workload(n, 42, cards);
  for (let i = 0; i < n; i++) {
    const f = g.next();
    if ((i & 1023) === 0) cp.advance(f.event_time);
    cp.push(f);
  }
  return cp;
}

function heapTotal(n: number, cards: number): { perCard: number; active: number } {
  const before = heapAfterGc();
  const cp = filledPatterns(n, cards);
  const after = heapAfterGc();
  return { perCard: (after - before) / cp.activeCards(), active: cp.activeCards() };
}

export async function benchPatterns(opts: { facts?: number; rounds?: number } = {}): Promise<Row[]> {
  const n = opts.facts ?? 1_000_000;
  const rounds = opts.rounds ?? 3;
  const rows: Row[] = [];
  for (const [label, cards] of [['300k cards', 300_000], ['3k busy cards', 3_000]] as const) {
    let facts: CardFact[] = generate(n, cards);
    const t = throughput(facts, rounds);
    const anomalies = [...t.kinds.values()].reduce((s, x) => s + x, 0);
    rows.push({ name: `throughput, ${label}`, value: Math.round(n / t.wall), unit: 'facts/s', note: `${Math.round((t.wall / n) * 1e9)} ns/fact wall clock; ${n.toLocaleString('en')} facts, all kinds on, best of ${rounds}` });
    rows.push({ name: `  per CPU-second, ${label}`, value: Math.round(n / t.cpu), unit: 'facts/s', note: 'process CPU time incl. GC threads: less sensitive to a busy machine' });
    rows.push({
      name: `  state and output, ${label}`, value: t.cp.activeCards(), unit: 'cards',
      note: `active at end, ${t.cp.counters.released.toLocaleString('en')} released; ${anomalies} anomalies: ${[...t.kinds].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
    });
    if (gc === undefined) {
      rows.push({ name: `  heap per active card, ${label}`, value: null, unit: 'bytes', note: 'not measured: run with node --expose-gc' });
      continue;
    }
    rows.push({ name: `  heap per active card (structures), ${label}`, value: Math.round(heapStructures(facts)), unit: 'bytes', note: 'Map entry, CardState, windows, expiry heap; the facts themselves not counted' });
    facts = [];
    const total = heapTotal(n, cards);
    rows.push({ name: `  heap per active card (total), ${label}`, value: Math.round(total.perCard), unit: 'bytes', note: `incl. the facts the windows keep; ${total.active.toLocaleString('en')} active cards` });
  }
  return rows;
}

export function printRows(rows: readonly Row[]): void {
  const w0 = Math.max(...rows.map((r) => r.name.length));
  const fmt = (r: Row): string => (r.value === null ? 'n/a' : r.value.toLocaleString('en'));
  const w1 = Math.max(...rows.map((r) => fmt(r).length));
  for (const r of rows) console.log(`${r.name.padEnd(w0)}  ${fmt(r).padStart(w1)} ${r.unit.padEnd(10)} ${r.note}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} at start`);
  printRows(await benchPatterns());
}
