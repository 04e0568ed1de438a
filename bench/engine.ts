/**
 * Engine benchmarks: throughput on pre-parsed events (one core), throughput
 * including JSONL parsing and validation, and heap bytes per open attempt.
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_RULES } from '../src/config/rules.js';
import { Engine } from '../src/engine/engine.js';
import { createPipeline } from '../src/runtime/pipeline.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../src/events/index.js';
import { parseLine } from '../src/ingest/jsonl.js';

export interface Row {
  benchmark: string;
  value: string;
  note?: string;
}

type Ev = { stream: Stream; event: TerminalEvent | GatewayEvent | BankEvent };

function uuid(n: number): string {
  const h = n.toString(16).padStart(12, '0');
  return `5a1c0de0-0000-4000-8000-${h}`;
}

/** A realistic happy-path stream: 9 events per attempt, 1% orphans, arrival jitter within the attempt. */
export function syntheticEvents(attempts: number, startMs = Date.UTC(2026, 2, 2, 8)): Ev[] {
  const out: Ev[] = [];
  let id = 0;
  for (let i = 0; i < attempts; i++) {
    const t = startMs + i * 2; // 500 attempts/s
    const tid = `T${String(i % 5000).padStart(7, '0')}`;
    const mid = `M${String(i % 1000).padStart(14, '0')}`;
    const stan = String(Math.floor(i / 5000) % 1_000_000).padStart(6, '0');
    const rrn = String(100000000000 + i);
    const card = `tok_${(i * 7919) % 200000}`;
    const amount = 1000 + (i % 5000);
    const common = { terminal_id: tid, merchant_id: mid, stan };
    const term = (event_type: TerminalEvent['event_type'], dt: number, rc: string | null = null): Ev => ({
      stream: 'terminal',
      event: { ...common, event_id: uuid(id++), event_time: t + dt, event_type, txn_type: 'SALE', amount_minor: amount, currency: 'EUR', card_token: card, masked_pan: null, entry_mode: event_type === 'TXN_STARTED' ? 'CHIP' : null, response_code: rc, failure_reason: null, fault_component: null, orig_stan: null, lat: event_type === 'TXN_STARTED' ? 48.8 : null, lon: event_type === 'TXN_STARTED' ? 2.3 : null },
    });
    const gw = (event_type: GatewayEvent['event_type'], dt: number, rc: string | null = null): Ev => ({
      stream: 'gateway',
      event: { ...common, event_id: uuid(id++), event_time: t + dt, event_type, rrn, txn_type: 'SALE', amount_minor: amount, currency: 'EUR', card_token: card, issuer_id: 'ISS01', network: 'VISA', response_code: rc, latency_ms: event_type === 'ISSUER_RESPONSE' ? 300 : null, orig_rrn: null },
    });
    const orphan = i % 100 === 0;
    out.push(term('TXN_STARTED', 0), term('REQUEST_SENT', 50), gw('REQUEST_RECEIVED', 80), gw('FORWARDED_TO_ISSUER', 90));
    out.push({ stream: 'bank', event: { ...common, event_id: uuid(id++), event_time: t + 300, event_type: 'AUTH_APPROVED', rrn, txn_type: 'SALE', amount_minor: amount, currency: 'EUR', card_token: card, issuer_id: 'ISS01', account_ref: 'acct', auth_code: 'ABC123', response_code: '00', orig_rrn: null } });
    out.push(gw('ISSUER_RESPONSE', 400, '00'), gw('RESPONSE_SENT', 420, '00'));
    if (!orphan) out.push(term('RESPONSE_RECEIVED', 500, '00'), term('TXN_COMPLETED', 700, '00'));
  }
  return out;
}

function timeIt(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

export function benchEngineThroughput(attempts = 300_000): Row[] {
  const events = syntheticEvents(attempts);
  let anomalies = 0;
  const run = () => {
    const { engine: e } = createPipeline(() => DEFAULT_RULES, { anomaly: () => anomalies++, transaction: () => undefined });
    for (const x of events) e.push(x.stream, x.event);
    e.end();
  };
  run(); // warm-up
  const secs = Math.min(timeIt(run), timeIt(run));
  const rows: Row[] = [{ benchmark: 'engine, pre-parsed events (1 core)', value: `${Math.round(events.length / secs).toLocaleString('en')} events/s`, note: `${events.length.toLocaleString('en')} events, all 7 kinds, golden records built` }];

  // Including JSONL parse + contract validation.
  const lines = events.map((x) => [x.stream, JSON.stringify(x.event)] as const);
  const runParsed = () => {
    const { engine: e } = createPipeline(() => DEFAULT_RULES, { anomaly: () => undefined, transaction: () => undefined });
    for (let i = 0; i < lines.length; i++) {
      const p = parseLine(lines[i][0], 'bench', i, lines[i][1]);
      if (p.ok) e.push(lines[i][0], p.event);
    }
    e.end();
  };
  runParsed();
  const secsParsed = Math.min(timeIt(runParsed), timeIt(runParsed));
  rows.push({ benchmark: 'engine incl. JSON.parse + validation', value: `${Math.round(lines.length / secsParsed).toLocaleString('en')} events/s` });
  const parseOnly = timeIt(() => {
    for (let i = 0; i < lines.length; i++) parseLine(lines[i][0], 'bench', i, lines[i][1]);
  });
  rows.push({ benchmark: '  of which JSON.parse + validation alone', value: `${Math.round(lines.length / parseOnly).toLocaleString('en')} events/s` });
  return rows;
}

/** Heap per open attempt: 1M attempts with TXN_STARTED + REQUEST_SENT + gateway REQUEST_RECEIVED + FORWARDED_TO_ISSUER (waiting for the issuer). */
export function benchHeapPerAttempt(open = 1_000_000, withGateway = true): Row[] {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return [{ benchmark: 'heap bytes per open attempt', value: 'n/a', note: 'run with node --expose-gc' }];
  const e = new Engine({ rules: () => DEFAULT_RULES, output: { anomaly: () => undefined } });
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const t = Date.UTC(2026, 2, 2, 8);
  const evTerm = (i: number, type: TerminalEvent['event_type'], id: number): TerminalEvent => ({
    event_id: uuid(id), event_time: t, terminal_id: `T${String(i % 20000).padStart(7, '0')}`, merchant_id: `M${String(i % 4000).padStart(14, '0')}`,
    stan: String(Math.floor(i / 20000)).padStart(6, '0'), event_type: type, txn_type: 'SALE', amount_minor: 1234, currency: 'EUR', card_token: `tok_${i}`,
    masked_pan: null, entry_mode: null, response_code: null, failure_reason: null, fault_component: null, orig_stan: null, lat: 48.8, lon: 2.3,
  });
  const evGw = (i: number, type: GatewayEvent['event_type'], id: number): GatewayEvent => ({
    event_id: uuid(id), event_time: t, terminal_id: `T${String(i % 20000).padStart(7, '0')}`, merchant_id: `M${String(i % 4000).padStart(14, '0')}`,
    stan: String(Math.floor(i / 20000)).padStart(6, '0'), event_type: type, rrn: String(100000000000 + i), txn_type: 'SALE', amount_minor: 1234,
    currency: 'EUR', card_token: `tok_${i}`, issuer_id: 'ISS01', network: 'VISA', response_code: null, latency_ms: null, orig_rrn: null,
  });
  let id = 0;
  for (let i = 0; i < open; i++) {
    e.pushTerminal(evTerm(i, 'TXN_STARTED', id++));
    e.pushTerminal(evTerm(i, 'REQUEST_SENT', id++));
    if (withGateway) {
      e.pushGateway(evGw(i, 'REQUEST_RECEIVED', id++));
      e.pushGateway(evGw(i, 'FORWARDED_TO_ISSUER', id++));
    }
  }
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const perAttempt = (after - before) / e.openAttempts();
  const note = withGateway
    ? `${e.openAttempts().toLocaleString('en')} open, waiting for the issuer: 4 events each (2 terminal, 2 gateway), card + rrn strings included`
    : `${e.openAttempts().toLocaleString('en')} open, terminal side only: TXN_STARTED + REQUEST_SENT`;
  const rows: Row[] = [{ benchmark: `heap bytes per open attempt (${withGateway ? '4' : '2'} events)`, value: `${Math.round(perAttempt)} B`, note }];
  return rows;
}

export function printTable(rows: Row[]): string {
  const w0 = Math.max(...rows.map((r) => r.benchmark.length), 9);
  const w1 = Math.max(...rows.map((r) => r.value.length), 5);
  const lines = [`${'benchmark'.padEnd(w0)}  ${'value'.padEnd(w1)}  note`, `${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ----`];
  for (const r of rows) lines.push(`${r.benchmark.padEnd(w0)}  ${r.value.padEnd(w1)}  ${r.note ?? ''}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('engine.ts')) {
  // Heap in its own process (bench/run.ts passes --heap), so throughput garbage does not blur it.
  const rows = process.argv.includes('--heap')
    ? benchHeapPerAttempt(1_000_000, !process.argv.includes('--terminal-only'))
    : benchEngineThroughput(process.argv.includes('--small') ? 50_000 : 200_000);
  console.log(printTable(rows));
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(rows, null, 2));
}
