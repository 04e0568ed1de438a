/**
 * One default-size run, checked line by line against the contract, and as a
 * whole against an independent batch reading of docs/semantics.md (./oracle.ts):
 * the anomalies in the data are exactly the ones the labels announce.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { ORPHAN_CAUSES } from '../../src/events/anomaly.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../../src/events/index.js';
import { looksLikePan } from '../../src/util/pan.js';
import { validateEvent } from '../../src/ingest/validate.js';
import { BAD_KINDS, SIM_DEFAULTS, type SimLabel, simulate } from '../../src/sim/index.js';
import { SCENARIOS } from '../../src/sim/scenarios/index.js';
import { oracle, type OracleAnomaly } from './oracle.js';

interface Run {
  events: { terminal: TerminalEvent[]; gateway: GatewayEvent[]; bank: BankEvent[] };
  labels: SimLabel[];
  lines: Record<Stream, number>;
  bad: { stream: Stream; sha: string; reason: string; rejected: boolean }[];
  redeliveries: { line: string; sameAsFirst: boolean }[];
  late: { eventId: string; stream: Stream; byMs: number }[];
  outOfOrder: Record<Stream, number>;
  arrivalSorted: boolean;
  invalid: string[];
  duplicateIds: number;
  drift: Record<Stream, { min: number; max: number }>;
  delay: { min: number; max: number };
  perTerminalDrift: Map<string, Set<number>>;
  pans: string[];
  found: OracleAnomaly[];
}

let run: Run;

beforeAll(() => {
  const sim = simulate({ ...SIM_DEFAULTS });
  const r: Run = {
    events: { terminal: [], gateway: [], bank: [] },
    labels: sim.labels,
    lines: { terminal: 0, gateway: 0, bank: 0 },
    bad: [],
    redeliveries: [],
    late: [],
    outOfOrder: { terminal: 0, gateway: 0, bank: 0 },
    arrivalSorted: true,
    invalid: [],
    duplicateIds: 0,
    drift: { terminal: { min: Infinity, max: -Infinity }, gateway: { min: Infinity, max: -Infinity }, bank: { min: Infinity, max: -Infinity } },
    delay: { min: Infinity, max: -Infinity },
    perTerminalDrift: new Map(),
    pans: [],
    found: [],
  };
  const firstLine = new Map<string, string>();
  const lastTime: Record<Stream, number> = { terminal: -Infinity, gateway: -Infinity, bank: -Infinity };
  let lastArrival = -Infinity;
  for (const rec of sim.records) {
    r.lines[rec.stream]++;
    if (rec.arrivalMs < lastArrival) r.arrivalSorted = false;
    lastArrival = rec.arrivalMs;
    if (rec.bad !== undefined) {
      let rejected = true;
      try {
        rejected = !validateEvent(rec.stream, JSON.parse(rec.line)).ok;
      } catch {
        rejected = true;
      }
      r.bad.push({ stream: rec.stream, sha: createHash('sha256').update(rec.line).digest('hex'), reason: rec.bad, rejected });
      continue;
    }
    const v = validateEvent(rec.stream, JSON.parse(rec.line));
    if (!v.ok) {
      r.invalid.push(`${v.reason}: ${rec.line}`);
      continue;
    }
    const ev = v.event;
    if (rec.key !== ev.terminal_id) r.invalid.push(`key ${rec.key} is not the terminal_id: ${rec.line}`);
    if (rec.redelivery) {
      r.delay.max = Math.max(r.delay.max, rec.arrivalMs - rec.trueMs);
      r.redeliveries.push({ line: rec.line, sameAsFirst: firstLine.get(ev.event_id) === rec.line });
      continue;
    }
    if (firstLine.has(ev.event_id)) r.duplicateIds++;
    firstLine.set(ev.event_id, rec.line);
    for (const [k, val] of Object.entries(ev)) if (typeof val === 'string' && k !== 'masked_pan' && looksLikePan(val)) r.pans.push(`${k}=${val}`);
    const drift = ev.event_time - rec.trueMs;
    const d = r.drift[rec.stream];
    d.min = Math.min(d.min, drift);
    d.max = Math.max(d.max, drift);
    if (rec.stream === 'terminal') {
      let set = r.perTerminalDrift.get(ev.terminal_id);
      if (set === undefined) r.perTerminalDrift.set(ev.terminal_id, (set = new Set()));
      set.add(drift);
    }
    if (rec.late) r.late.push({ eventId: ev.event_id, stream: rec.stream, byMs: rec.arrivalMs - rec.trueMs });
    else {
      r.delay.min = Math.min(r.delay.min, rec.arrivalMs - rec.trueMs);
      r.delay.max = Math.max(r.delay.max, rec.arrivalMs - rec.trueMs);
    }
    if (ev.event_time < lastTime[rec.stream]) r.outOfOrder[rec.stream]++;
    lastTime[rec.stream] = ev.event_time;
    (r.events[rec.stream] as unknown[]).push(ev);
  }
  r.found = oracle(r.events, DEFAULT_RULES);
  run = r;
}, 60_000);

describe('simulate: the default run', () => {
  it('writes only valid contract events besides the labelled bad records', () => {
    expect(run.invalid).toEqual([]);
    expect(run.duplicateIds).toBe(0);
    expect(run.lines.terminal).toBeGreaterThan(20_000);
    expect(run.lines.gateway).toBeGreaterThan(20_000);
    expect(run.lines.bank).toBeGreaterThan(5_000);
  });

  it('labels every bad record, each one rejected by the validator, every kind in every file', () => {
    const labelled = new Set(run.labels.filter((l) => l.scenario === 'BAD_RECORD').map((l) => `${l.stream}|${l.line_sha256}`));
    expect(run.bad.length).toBe(labelled.size);
    for (const b of run.bad) {
      expect(labelled.has(`${b.stream}|${b.sha}`)).toBe(true);
      expect(b.rejected, b.reason).toBe(true);
    }
    for (const stream of ['terminal', 'gateway', 'bank'] as const) {
      for (const kind of BAD_KINDS) expect(run.bad.some((b) => b.stream === stream && b.reason.startsWith(kind)), `${stream} ${kind}`).toBe(true);
    }
  });

  it('keeps clear card numbers out of every valid record', () => {
    expect(run.pans).toEqual([]);
    for (const e of run.events.terminal) if (e.card_token !== null) expect(e.card_token).toMatch(/^tok_[0-9a-f]{24}$/);
  });

  it('releases records in arrival order, which is not event-time order', () => {
    expect(run.arrivalSorted).toBe(true);
    for (const s of ['terminal', 'gateway', 'bank'] as const) expect(run.outOfOrder[s]).toBeGreaterThan(run.lines[s] / 10);
  });

  it('delays events by at most max delay, except the labelled late ones (2-8 minutes)', () => {
    expect(run.delay.min).toBeGreaterThanOrEqual(0);
    expect(run.delay.max).toBeLessThanOrEqual(DEFAULT_RULES.time.maxDelayMs);
    const labelled = new Set(run.labels.filter((l) => l.late_event_id !== undefined).map((l) => l.late_event_id));
    expect(run.late.length).toBeGreaterThanOrEqual(5);
    expect(new Set(run.late.map((l) => l.eventId))).toEqual(labelled);
    for (const l of run.late) {
      expect(l.byMs).toBeGreaterThanOrEqual(120_000);
      expect(l.byMs).toBeLessThanOrEqual(480_000);
    }
  });

  it('redelivers some events with the same id and bytes', () => {
    expect(run.redeliveries.length).toBeGreaterThan(50);
    expect(run.redeliveries.every((r) => r.sameAsFirst)).toBe(true);
  });

  it('drifts each terminal clock steadily within +/-5 min, gateway and bank within 1 s', () => {
    expect(run.drift.terminal.min).toBeGreaterThanOrEqual(-300_000);
    expect(run.drift.terminal.max).toBeLessThanOrEqual(300_000);
    expect(run.drift.terminal.max - run.drift.terminal.min).toBeGreaterThan(500_000);
    for (const drifts of run.perTerminalDrift.values()) expect(drifts.size).toBe(1);
    for (const s of ['gateway', 'bank'] as const) {
      expect(run.drift[s].min).toBeGreaterThanOrEqual(-1_000);
      expect(run.drift[s].max).toBeLessThanOrEqual(1_000);
    }
  });

  it('injects every scenario, orphan cause and pattern, with near misses', () => {
    const names = new Set(run.labels.map((l) => l.scenario));
    for (const s of SCENARIOS) expect(names.has(s.name), s.name).toBe(true);
    const expected = run.labels.flatMap((l) => l.expected);
    for (const cause of ORPHAN_CAUSES) expect(expected.some((e) => e.kind === 'ORPHAN_DEBIT' && e.cause === cause), cause).toBe(true);
    for (const kind of ['DUPLICATE_DEBIT', 'AMOUNT_MISMATCH', 'CARD_TESTING', 'CARD_VELOCITY', 'IMPOSSIBLE_TRAVEL', 'TERMINAL_FAULT_SPIKE']) {
      expect(expected.some((e) => e.kind === kind), kind).toBe(true);
    }
    expect(expected.some((e) => e.kind === 'ORPHAN_DEBIT' && e.status === 'AUTO_RESOLVED')).toBe(true);
    for (const l of run.labels.filter((x) => x.near_miss_of !== undefined && x.scenario.startsWith('NEAR_MISS'))) expect(l.expected, l.scenario).toEqual([]);
  });

  it('contains exactly the anomalies the labels announce (batch reading of docs/semantics.md)', () => {
    const found = run.found;
    const fmt = (a: { kind: string; key: string; cause?: string; status: string }) => `${a.kind}|${a.key}|${a.cause ?? ''}|${a.status}`;
    const announced = run.labels.flatMap((l) => l.expected.map((e) => `${fmt(e)} (${l.scenario} ${l.scenario_id})`));
    const byKey = new Map(announced.map((s) => [s.slice(0, s.indexOf(' (')), s]));
    expect(byKey.size).toBe(announced.length);
    const missing = [...byKey.keys()].filter((k) => !found.some((f) => fmt(f) === k)).map((k) => byKey.get(k));
    const extra = found.map(fmt).filter((k) => !byKey.has(k));
    expect(missing).toEqual([]);
    expect(extra).toEqual([]);
  });

  it('announces the related rrns and triggers the oracle finds', () => {
    const found = run.found;
    const expected = new Map(run.labels.flatMap((l) => l.expected).map((e) => [`${e.kind}|${e.key}`, e]));
    for (const f of found) {
      const e = expected.get(`${f.kind}|${f.key}`);
      expect(e, `${f.kind}|${f.key}`).toBeDefined();
      if (f.rrn !== undefined && f.kind !== 'TERMINAL_FAULT_SPIKE') expect(e?.rrn).toBe(f.rrn);
      if (f.kind === 'DUPLICATE_DEBIT' || f.kind === 'IMPOSSIBLE_TRAVEL' || f.kind === 'CARD_TESTING') expect(e?.related_rrns).toEqual(f.related);
    }
  });

  it('looks like card traffic: 5-10% declines, several currencies, a few refunds and voids', () => {
    const auths = run.events.bank.filter((e) => e.event_type === 'AUTH_APPROVED' || e.event_type === 'AUTH_DECLINED');
    const declined = auths.filter((e) => e.event_type === 'AUTH_DECLINED').length / auths.length;
    expect(declined).toBeGreaterThan(0.05);
    expect(declined).toBeLessThan(0.1);
    const currencies = new Map<string, number>();
    for (const e of auths) currencies.set(e.currency, (currencies.get(e.currency) ?? 0) + 1);
    expect((currencies.get('EUR') ?? 0) / auths.length).toBeGreaterThan(0.6);
    expect(currencies.size).toBeGreaterThanOrEqual(4);
    expect(run.events.bank.some((e) => e.event_type === 'REFUND_POSTED')).toBe(true);
    expect(run.events.terminal.some((e) => e.txn_type === 'VOID')).toBe(true);
    expect(run.events.terminal.some((e) => e.txn_type === 'PREAUTH')).toBe(true);
    const rrns = run.events.gateway.filter((e) => e.event_type === 'REQUEST_RECEIVED').map((e) => e.rrn);
    expect(new Set(rrns).size).toBe(rrns.length);
    for (const r of rrns.slice(0, 1000)) expect(r).toMatch(/^\d{12}$/);
  });
});
