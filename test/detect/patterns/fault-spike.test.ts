import { describe, expect, it } from 'vitest';
import { anomalyId, utcDay } from '../../../src/events/anomaly.js';
import { isHardwareSignal, TerminalFaultSpikes } from '../../../src/detect/patterns/fault-spike.js';
import type { HardwareSignal } from '../../../src/detect/patterns/types.js';
import { collector, DAY, HOUR, MIN, rules, shuffled, signal, stable, T0 } from './helpers.js';
import { expectPipelineAgreesOnSignals } from './through-engine.js';

const R = rules();
const sortById = <T extends { anomaly_id: string }>(xs: T[]): T[] => [...xs].sort((a, b) => (a.anomaly_id < b.anomaly_id ? -1 : 1));
const DRIFT = R.time.terminalMaxDriftMs;

function run(signals: readonly HardwareSignal[], r = R) {
  expectPipelineAgreesOnSignals(signals, r);
  const { out, emit } = collector();
  const fs = new TerminalFaultSpikes(() => r, emit);
  for (const s of signals) fs.push(s);
  fs.end();
  return { out, fs };
}

describe('TERMINAL_FAULT_SPIKE', () => {
  it('fires at the 3rd hardware signal within 900 s; 2 in 15 minutes do not', () => {
    const s = [
      signal({ t: T0 }),
      signal({ t: T0 + 5 * MIN, type: 'TXN_FAILED', reason: 'PRINTER_ERROR', amount: 1234, currency: 'EUR' }),
      signal({ t: T0 + 10 * MIN, type: 'TXN_FAILED', reason: 'CARD_READ_ERROR', amount: 999, currency: 'PLN' }),
    ];
    const { out } = run(s);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      kind: 'TERMINAL_FAULT_SPIKE', anomaly_id: anomalyId('TERMINAL_FAULT_SPIKE', `T0000001|${utcDay(T0)}`),
      status: 'OPEN', version: 1, severity: 'warning', event_time: s[2].event_time, terminal_id: 'T0000001',
      stan: s[2].stan, rrn: null, card_token: null, issuer_id: null, amount_minor: 999, currency: 'PLN', related_rrns: [],
    });
    expect(out[0].evidence.terminal.map((e) => [e.event_id, e.event_type])).toEqual([
      [s[0].event_id, 'DEVICE_FAULT'], [s[1].event_id, 'TXN_FAILED'], [s[2].event_id, 'TXN_FAILED'],
    ]);
    expect(out[0].evidence.terminal[1].detail).toMatchObject({ failure_reason: 'PRINTER_ERROR' });
    expect(out[0].evidence.bank).toEqual([]);
    expect(run(s.slice(0, 2)).out).toHaveLength(0);
  });

  it('a DEVICE_FAULT trigger has no amount', () => {
    const { out } = run([signal({ t: T0 }), signal({ t: T0 + MIN }), signal({ t: T0 + 2 * MIN })]);
    expect(out[0]).toMatchObject({ amount_minor: null, currency: null });
  });

  it('window boundary on the terminal clock: exactly 900 s counts, +1 ms does not', () => {
    expect(run([signal({ t: T0 }), signal({ t: T0 + MIN }), signal({ t: T0 + 15 * MIN })]).out).toHaveLength(1);
    expect(run([signal({ t: T0 }), signal({ t: T0 + MIN }), signal({ t: T0 + 15 * MIN + 1 })]).out).toHaveLength(0);
  });

  it('terminals are independent', () => {
    expect(run([signal({ t: T0 }), signal({ t: T0 + MIN }), signal({ t: T0 + 2 * MIN, terminal: 'T0000002' })]).out).toHaveLength(0);
  });

  it('waits until the watermark passes the stamp plus the maximum terminal drift', () => {
    const { out, emit } = collector();
    const fs = new TerminalFaultSpikes(() => R, emit);
    const last = T0 + 2 * MIN;
    for (const t of [T0, T0 + MIN, last]) fs.push(signal({ t }));
    fs.advance(last + DRIFT - 1);
    expect(out).toHaveLength(0);
    expect(fs.pendingSignals()).toBe(1);
    fs.advance(last + DRIFT);
    expect(out).toHaveLength(1);
    expect(fs.pendingSignals()).toBe(0);
  });

  it('one per terminal and UTC day; the next day gives a new id', () => {
    const burst = (t: number) => [signal({ t }), signal({ t: t + MIN }), signal({ t: t + 2 * MIN })];
    const { out } = run([...burst(T0), ...burst(T0 + 2 * HOUR), ...burst(T0 + DAY)]);
    expect(out).toHaveLength(2);
    expect(out[1].anomaly_id).toBe(anomalyId('TERMINAL_FAULT_SPIKE', `T0000001|${utcDay(T0 + DAY)}`));
    expect(out[1].anomaly_id).not.toBe(out[0].anomaly_id);
  });

  it('out-of-order input gives the same anomalies as ordered input', () => {
    const signals: HardwareSignal[] = [];
    for (let term = 0; term < 6; term++) {
      for (let i = 0; i < 40; i++) {
        // irregular gaps, some bursts, equal stamps too
        const t = T0 + term * 7 * MIN + Math.floor(((i * 7919) % 97) / 97 * 6 * HOUR);
        signals.push(signal({ t, terminal: `T000000${term}` }));
      }
    }
    const ordered = [...signals].sort((a, b) => a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : 1));
    const reference = run(ordered).out.map(stable);
    expect(reference.length).toBeGreaterThan(0);
    for (let seed = 1; seed <= 5; seed++) {
      // Streaming: each signal arrives up to max_delay after its stamp (arrival order != stamp order);
      // the watermark follows the latest stamp seen, as a real engine's would.
      const delay = new Map(shuffled(signals, seed).map((x, i) => [x.event_id, (i * 7_919) % R.time.maxDelayMs]));
      const arrival = [...signals].sort((a, b) => a.event_time + delay.get(a.event_id)! - (b.event_time + delay.get(b.event_id)!));
      const { out, emit } = collector();
      const fs = new TerminalFaultSpikes(() => R, emit);
      let latest = -Infinity;
      for (const x of arrival) {
        fs.push(x);
        latest = Math.max(latest, x.event_time);
        fs.advance(latest - R.time.maxDelayMs);
      }
      fs.end();
      expect(fs.counters.late).toBe(0);
      expect(sortById(out.map(stable))).toEqual(sortById(reference));
      // and fully shuffled, decided at the end
      expect(run(shuffled(signals, seed)).out.map(stable)).toEqual(reference);
    }
  });

  it('a late signal (after the watermark passed it) is inserted and re-evaluated', () => {
    const { out, emit } = collector();
    const fs = new TerminalFaultSpikes(() => R, emit);
    const s1 = signal({ t: T0 });
    const s2 = signal({ t: T0 + 2 * MIN });
    const s3 = signal({ t: T0 + 4 * MIN });
    fs.push(s1);
    fs.push(s3);
    fs.advance(T0 + 5 * MIN + DRIFT);
    expect(out).toHaveLength(0);
    fs.push(s2);
    fs.advance(T0 + 6 * MIN + DRIFT);
    expect(out).toHaveLength(1);
    expect(out[0].stan).toBe(s3.stan);
    expect(out[0].evidence.terminal.map((e) => e.event_id)).toEqual([s1.event_id, s2.event_id, s3.event_id]);
  });

  it('ignores duplicate event_ids, pending or processed', () => {
    const a = signal({ t: T0 });
    const b = signal({ t: T0 + MIN });
    const { out, emit } = collector();
    const fs = new TerminalFaultSpikes(() => R, emit);
    fs.push(a);
    fs.push(a);
    fs.push(b);
    fs.advance(T0 + MIN + DRIFT);
    fs.push(b);
    fs.end();
    expect(out).toHaveLength(0);
    expect(fs.counters.duplicates).toBe(2);
  });

  it('releases terminals once their window (and fired day) has passed', () => {
    const { emit } = collector();
    const fs = new TerminalFaultSpikes(() => R, emit);
    for (let i = 0; i < 100; i++) fs.push(signal({ t: T0, terminal: `T${String(i).padStart(7, '0')}` }));
    fs.advance(T0 + DRIFT);
    expect(fs.activeTerminals()).toBe(100);
    fs.advance(T0 + DRIFT + 15 * MIN + R.time.allowedLatenessMs + 1);
    expect(fs.activeTerminals()).toBe(0);
    fs.end();
    expect(fs.activeTerminals()).toBe(0);
  });

  it('disabled: nothing emitted', () => {
    const off = rules({ terminalFaultSpike: { enabled: false } });
    expect(run([signal({ t: T0 }), signal({ t: T0 + MIN }), signal({ t: T0 + 2 * MIN })], off).out).toHaveLength(0);
  });

  it('isHardwareSignal: DEVICE_FAULT, and TXN_FAILED with CARD_READ_ERROR or PRINTER_ERROR', () => {
    expect(isHardwareSignal({ event_type: 'DEVICE_FAULT' })).toBe(true);
    expect(isHardwareSignal({ event_type: 'TXN_FAILED', failure_reason: 'CARD_READ_ERROR' })).toBe(true);
    expect(isHardwareSignal({ event_type: 'TXN_FAILED', failure_reason: 'PRINTER_ERROR' })).toBe(true);
    expect(isHardwareSignal({ event_type: 'TXN_FAILED', failure_reason: 'TIMEOUT' })).toBe(false);
    expect(isHardwareSignal({ event_type: 'TXN_COMPLETED', failure_reason: null })).toBe(false);
  });
});
