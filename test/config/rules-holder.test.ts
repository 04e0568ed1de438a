import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RULES, loadRulesFile } from '../../src/config/rules.js';
import { RulesHolder } from '../../src/config/rules-holder.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { CardPatterns } from '../../src/detect/patterns/card-patterns.js';
import { TerminalFaultSpikes } from '../../src/detect/patterns/fault-spike.js';
import type { CardFact, HardwareSignal } from '../../src/detect/patterns/types.js';

const T0 = Date.UTC(2024, 2, 10, 12);
const MIN = 60_000;
let n = 0;
const debit = (t: number): CardFact => {
  const id = String(++n).padStart(6, '0');
  return {
    event_id: `ev-${id}`, event_time: t, rrn: `rrn${id}`, card_token: 'card-A', merchant_id: 'M00000000000001',
    terminal_id: 'T0000001', stan: id, issuer_id: 'ISS1', txn_type: 'SALE', amount_minor: 10_000, currency: 'EUR',
    approved: true, debit: true, lat: null, lon: null, late: false,
  };
};
const fault = (t: number): HardwareSignal => ({
  event_id: `sig-${++n}`, event_time: t, terminal_id: 'T0000001', merchant_id: 'M00000000000001', stan: '000001',
  event_type: 'DEVICE_FAULT', failure_reason: null, fault_component: 'PRINTER',
});

describe('RulesHolder', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'posguard-rules-'));
    file = join(dir, 'rules.yaml');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a valid reload: the next decision uses the new thresholds, and the window state is kept', () => {
    writeFileSync(file, 'cardVelocity:\n  minDebits: 10\n');
    const holder = new RulesHolder(loadRulesFile(file), file);
    const out: Anomaly[] = [];
    const cp = new CardPatterns(holder.source, (a) => void out.push(a));
    const facts = Array.from({ length: 6 }, (_, i) => debit(T0 + i * MIN));
    for (const f of facts.slice(0, 5)) cp.push(f);
    expect(out).toHaveLength(0);

    writeFileSync(file, 'cardVelocity:\n  minDebits: 6\n  severity: critical\n');
    expect(holder.reload()).toEqual({ ok: true });
    expect(holder.get().cardVelocity.minDebits).toBe(6);
    expect(holder.generation).toBe(1);

    cp.push(facts[5]); // 6th debit: fires only if the 5 before it were kept
    expect(out).toHaveLength(1);
    expect(out[0].severity).toBe('critical');
    expect(out[0].related_rrns).toEqual(facts.slice(0, 5).map((f) => f.rrn).sort());
  });

  it('an invalid reload is refused with a reason naming the bad field; the old rules stay in force', () => {
    writeFileSync(file, 'cardVelocity:\n  minDebits: 3\n');
    const holder = new RulesHolder(loadRulesFile(file), file);
    const before = holder.get();
    const out: Anomaly[] = [];
    const cp = new CardPatterns(holder.source, (a) => void out.push(a));

    writeFileSync(file, 'cardVelocity:\n  minDebits: ten\n');
    const r = holder.reload();
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain('PG_CONFIG_INVALID');
      expect(r.reason).toContain('cardVelocity.minDebits');
      expect(r.reason).toContain('expected integer');
    }
    expect(holder.get()).toBe(before);
    expect(holder.generation).toBe(0);

    writeFileSync(file, 'cardVelocty:\n  minDebits: 2\n');
    const typo = holder.reload();
    expect(typo.ok).toBe(false);
    if (!typo.ok) expect(typo.reason).toContain('cardVelocty: unknown field');

    writeFileSync(file, 'cardVelocity: [unclosed\n');
    expect(holder.reload().ok).toBe(false);

    rmSync(file);
    const gone = holder.reload();
    expect(gone.ok).toBe(false);
    if (!gone.ok) expect(gone.reason).toContain('PG_INPUT_UNREADABLE');

    for (let i = 0; i < 3; i++) cp.push(debit(T0 + i * MIN));
    expect(out).toHaveLength(1); // minDebits 3, the rules in force
    expect(holder.get()).toBe(before);
  });

  it('widening a window by reload brings back what the lateness grace still holds', () => {
    writeFileSync(file, 'cardVelocity:\n  minDebits: 3\n  windowMs: 1800000\n');
    const holder = new RulesHolder(loadRulesFile(file), file);
    const out: Anomaly[] = [];
    const cp = new CardPatterns(holder.source, (a) => void out.push(a));
    const d = [0, 35, 36].map((m) => debit(T0 + m * MIN));
    cp.push(d[0]);
    cp.push(d[1]); // d[0] left the 30 min window, but is kept for allowedLatenessMs (10 min)
    writeFileSync(file, 'cardVelocity:\n  minDebits: 3\n  windowMs: 3600000\n');
    expect(holder.reload().ok).toBe(true);
    cp.push(d[2]);
    expect(out).toHaveLength(1);
    expect(out[0].related_rrns).toEqual([d[0].rrn, d[1].rrn].sort());
  });

  it('applies to fault spikes the same way', () => {
    writeFileSync(file, 'terminalFaultSpike:\n  minSignals: 3\n');
    const holder = new RulesHolder(loadRulesFile(file), file);
    const out: Anomaly[] = [];
    const fs = new TerminalFaultSpikes(holder.source, (a) => void out.push(a));
    fs.push(fault(T0));
    fs.push(fault(T0 + MIN));
    fs.advance(T0 + MIN + holder.get().time.terminalMaxDriftMs);
    expect(out).toHaveLength(0);
    writeFileSync(file, 'terminalFaultSpike:\n  minSignals: 2\n');
    expect(holder.reload().ok).toBe(true);
    fs.push(fault(T0 + 2 * MIN)); // 3 signals now, but the decision at it uses minSignals 2: fires at this one
    fs.end();
    expect(out).toHaveLength(1);
    expect(out[0].event_time).toBe(T0 + 2 * MIN);
  });

  it('without a file there is nothing to reload', () => {
    const holder = new RulesHolder(DEFAULT_RULES);
    const r = holder.reload();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/no rules file/);
    expect(holder.get()).toBe(DEFAULT_RULES);
  });

  it('SIGHUP reloads and logs the outcome; the returned function uninstalls the handler', () => {
    writeFileSync(file, 'cardTesting:\n  minAttempts: 6\n');
    const holder = new RulesHolder(loadRulesFile(file), file);
    const logs: string[] = [];
    const listenersBefore = process.listenerCount('SIGHUP');
    const stop = holder.watchSignals({ info: (m) => void logs.push(`info ${m}`), error: (m) => void logs.push(`error ${m}`) });
    expect(process.listenerCount('SIGHUP')).toBe(listenersBefore + 1);

    writeFileSync(file, 'cardTesting:\n  minAttempts: 8\n');
    process.emit('SIGHUP', 'SIGHUP');
    expect(holder.get().cardTesting.minAttempts).toBe(8);
    expect(logs[0]).toMatch(/^info rules reloaded from .*rules\.yaml \(generation 1\)/);

    writeFileSync(file, 'cardTesting:\n  minAttempts: 0\n');
    process.emit('SIGHUP', 'SIGHUP');
    expect(holder.get().cardTesting.minAttempts).toBe(8);
    expect(logs[1]).toMatch(/^error rules reload refused, previous rules stay in force: .*cardTesting\.minAttempts/);

    stop();
    expect(process.listenerCount('SIGHUP')).toBe(listenersBefore);
  });
});
