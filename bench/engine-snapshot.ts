/**
 * Engine checkpoint size and cost (issue 13): snapshot bytes per open attempt
 * (JSON and gzip), and the time to snapshot + stringify, to gzip, and to parse
 * + restore, for three states:
 * - attempts seen by the terminal only (TXN_STARTED, REQUEST_SENT: 2 events);
 * - attempts waiting for the issuer (+ gateway REQUEST_RECEIVED, FORWARDED_TO_ISSUER: 4 events);
 * - a realistic held state: the synthetic stream of bench/engine.ts (9 events
 *   per attempt, 1% orphans), every attempt decided and closed but still
 *   retained for late evidence (retention 25 min > the 200 s of event time).
 *
 *   node --import tsx bench/engine-snapshot.ts [--attempts 100000]
 */
import { gzipSync } from 'node:zlib';
import { DEFAULT_RULES } from '../src/config/rules.js';
import { CardPatterns } from '../src/detect/patterns/card-patterns.js';
import { Engine, type EngineOptions } from '../src/engine/engine.js';
import { AttemptRefs, type EngineState } from '../src/engine/state/index.js';
import type { GatewayEvent, TerminalEvent } from '../src/events/index.js';
import { printTable, syntheticEvents, type Row } from './engine.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
};

const T = Date.UTC(2026, 2, 2, 8);
const id = (n: number) => `c4e0b0a1-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** Open attempts that never complete: 2 terminal events each, and 2 gateway events when `gateway`. */
function openAttempts(e: Engine, n: number, gateway: boolean): void {
  let k = 0;
  for (let i = 0; i < n; i++) {
    const key = { terminal_id: `T${String(i % 20000).padStart(7, '0')}`, merchant_id: `M${String(i % 4000).padStart(14, '0')}`, stan: String(Math.floor(i / 20000)).padStart(6, '0') };
    const txn = { txn_type: 'SALE', amount_minor: 1000 + (i % 9000), currency: 'EUR', card_token: `tok_${i}` } as const;
    const term: Omit<TerminalEvent, 'event_id' | 'event_type'> = {
      ...key, ...txn, event_time: T + i * 2, masked_pan: null, entry_mode: null, response_code: null, failure_reason: null, fault_component: null, orig_stan: null, lat: 48.8, lon: 2.3,
    };
    e.pushTerminal({ ...term, event_id: id(k++), event_type: 'TXN_STARTED' });
    e.pushTerminal({ ...term, event_id: id(k++), event_type: 'REQUEST_SENT', event_time: T + i * 2 + 50 });
    if (!gateway) continue;
    const gw: Omit<GatewayEvent, 'event_id' | 'event_type'> = {
      ...key, ...txn, event_time: T + i * 2 + 80, rrn: String(100000000000 + i), issuer_id: 'ISS01', network: 'VISA', response_code: null, latency_ms: null, orig_rrn: null,
    };
    e.pushGateway({ ...gw, event_id: id(k++), event_type: 'REQUEST_RECEIVED' });
    e.pushGateway({ ...gw, event_id: id(k++), event_type: 'FORWARDED_TO_ISSUER', event_time: T + i * 2 + 90 });
  }
}

/** Wall and CPU time since `t0` (the machine may be shared: CPU time is the cost). */
interface Mark { wall: number; cpu: NodeJS.CpuUsage }
const mark = (): Mark => ({ wall: performance.now(), cpu: process.cpuUsage() });
const ms = (t0: Mark) => {
  const c = process.cpuUsage(t0.cpu);
  return `${Math.round((c.user + c.system) / 1000)} ms CPU (${Math.round(performance.now() - t0.wall)} ms wall)`;
};

function measure(label: string, build: (opts: EngineOptions) => Engine): Row[] {
  const opts = (): EngineOptions => ({
    rules: () => DEFAULT_RULES, output: { anomaly: () => undefined, transaction: () => undefined },
    cardPatterns: new CardPatterns(() => DEFAULT_RULES, () => undefined),
  });
  const e = build(opts());
  const open = e.openAttempts();
  let t0 = mark();
  const state = e.snapshot(new AttemptRefs(), 0);
  const json = JSON.stringify(state);
  const snapMs = ms(t0);
  t0 = mark();
  const gz = gzipSync(json);
  const gzMs = ms(t0);
  t0 = mark();
  const gz1 = gzipSync(json, { level: 1 });
  const gz1Ms = ms(t0);
  t0 = mark();
  const restored = Engine.restore(opts(), JSON.parse(json) as EngineState, new AttemptRefs(), 0);
  const restoreMs = ms(t0);
  if (restored.openAttempts() !== open) throw new Error('restore lost attempts');
  const per = (b: number) => `${Math.round(b / open)} B`;
  return [
    { benchmark: `${label}: JSON per open attempt`, value: per(json.length), note: `${open.toLocaleString('en')} open; whole snapshot ${(json.length / 1e6).toFixed(1)} MB` },
    { benchmark: `${label}: gzip per open attempt`, value: per(gz.length), note: `whole snapshot ${(gz.length / 1e6).toFixed(1)} MB gzipped (level 6), gzip took ${gzMs}` },
    { benchmark: `${label}: gzip level 1 per open attempt`, value: per(gz1.length), note: `gzip level 1 took ${gz1Ms}` },
    { benchmark: `${label}: snapshot + stringify`, value: snapMs },
    { benchmark: `${label}: parse + restore`, value: restoreMs },
  ];
}

const n = arg('attempts', 100_000);
const rows = [
  ...measure('2 events (terminal only)', (o) => { const e = new Engine(o); openAttempts(e, n, false); return e; }),
  ...measure('4 events (waiting for the issuer)', (o) => { const e = new Engine(o); openAttempts(e, n, true); return e; }),
  ...measure('held, decided (7-9 events)', (o) => {
    const e = new Engine(o);
    for (const x of syntheticEvents(n)) e.push(x.stream, x.event);
    return e;
  }),
];
console.log(printTable(rows));
