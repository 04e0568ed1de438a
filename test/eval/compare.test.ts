/** compareAnomalies / formatReport: how the engine's versions are reduced and measured. */
import { describe, expect, it } from 'vitest';
import { anomalyId, type Anomaly, type AnomalyKind } from '../../src/events/anomaly.js';
import { COMPARED_FIELDS, compareAnomalies, finalStates, formatReport, NOT_COMPARED } from '../../src/eval/compare.js';

/** A minimal anomaly: kind + key give the id; everything else overridable. */
function anomaly(kind: AnomalyKind, key: string, over: Partial<Anomaly> = {}): Anomaly {
  return {
    anomaly_id: anomalyId(kind, key), kind, cause: kind === 'ORPHAN_DEBIT' ? 'NO_TERMINAL_OUTCOME' : null, status: 'OPEN',
    severity: 'high', version: 1, event_time: Date.UTC(2024, 2, 1), detected_at: 0, terminal_id: 'TERM0001', merchant_id: 'MERCHANT0000001',
    card_token: 'tok_card_A', rrn: key, stan: '000001', issuer_id: 'ISS001', amount_minor: 1_500, currency: 'EUR', related_rrns: [],
    evidence: { terminal: [], gateway: [], bank: [] }, ...over,
  };
}
const orphan = (rrn: string, over: Partial<Anomaly> = {}) => anomaly('ORPHAN_DEBIT', rrn, over);

describe('compareAnomalies', () => {
  it('identical sets agree: precision and recall 1', () => {
    const ref = [orphan('R1'), anomaly('DUPLICATE_DEBIT', 'R2', { related_rrns: ['R1'] })];
    const r = compareAnomalies(ref, ref);
    expect(r.agree).toBe(true);
    expect(r.total).toMatchObject({ reference: 2, engine: 2, tp: 2, fp: 0, fn: 0, precision: 1, recall: 1, statusAccuracy: 1, fieldAccuracy: 1 });
    expect(r.kinds.find((k) => k.kind === 'ORPHAN_DEBIT')).toMatchObject({ tp: 1, causeCompared: 1, causeAgreed: 1, causeAccuracy: 1 });
    expect(r.kinds.find((k) => k.kind === 'CARD_TESTING')).toMatchObject({ tp: 0, precision: null, recall: null });
    expect(r.mismatches).toEqual([]);
  });

  it('the engine\'s final state is its highest version, whatever the order', () => {
    const engine = [orphan('R1', { version: 2, status: 'AUTO_RESOLVED' }), orphan('R1', { version: 1, status: 'OPEN' })];
    const r = compareAnomalies(engine, [orphan('R1', { status: 'AUTO_RESOLVED' })]);
    expect(r).toMatchObject({ agree: true, engineVersions: 2, engineIds: 1 });
    expect(compareAnomalies(engine, [orphan('R1', { status: 'OPEN' })]).total.statusAgreed).toBe(0);
  });

  it('equal versions: the last one given wins', () => {
    const engine = [orphan('R1', { version: 2, status: 'OPEN' }), orphan('R1', { version: 2, status: 'AUTO_RESOLVED' })];
    expect(finalStates(engine).get(anomalyId('ORPHAN_DEBIT', 'R1'))?.status).toBe('AUTO_RESOLVED');
  });

  it('a final RETRACTED is dropped: not a false positive; missing if the reference has it', () => {
    const engine = [orphan('R1', { version: 1 }), orphan('R1', { version: 2, status: 'RETRACTED' })];
    const none = compareAnomalies(engine, []);
    expect(none).toMatchObject({ agree: true, retractedDropped: 1 });
    expect(none.total).toMatchObject({ engine: 0, fp: 0 });
    const missing = compareAnomalies(engine, [orphan('R1')]);
    expect(missing.total).toMatchObject({ tp: 0, fn: 1, recall: 0 });
  });

  it('a RETRACTED that was later re-opened (higher version) counts', () => {
    const engine = [orphan('R1', { version: 2, status: 'RETRACTED' }), orphan('R1', { version: 3, status: 'OPEN' })];
    expect(compareAnomalies(engine, [orphan('R1')])).toMatchObject({ agree: true, retractedDropped: 0 });
  });

  it('counts false positives and false negatives per kind', () => {
    const engine = [orphan('R1'), orphan('R3'), anomaly('CARD_TESTING', 'tok|2024-03-01')];
    const reference = [orphan('R1'), orphan('R2'), anomaly('AMOUNT_MISMATCH', 'R9')];
    const r = compareAnomalies(engine, reference);
    const row = (k: string) => r.kinds.find((x) => x.kind === k);
    expect(row('ORPHAN_DEBIT')).toMatchObject({ reference: 2, engine: 2, tp: 1, fp: 1, fn: 1, precision: 0.5, recall: 0.5 });
    expect(row('CARD_TESTING')).toMatchObject({ reference: 0, engine: 1, tp: 0, fp: 1, fn: 0, precision: 0, recall: null });
    expect(row('AMOUNT_MISMATCH')).toMatchObject({ reference: 1, engine: 0, tp: 0, fp: 0, fn: 1, precision: null, recall: 0 });
    expect(r.total).toMatchObject({ tp: 1, fp: 2, fn: 2 });
    expect(r.agree).toBe(false);
    expect(r.mismatches.map((m) => [m.problems, m.anomaly_id])).toEqual([
      [['FALSE_NEGATIVE'], anomalyId('ORPHAN_DEBIT', 'R2')],
      [['FALSE_NEGATIVE'], anomalyId('AMOUNT_MISMATCH', 'R9')],
      [['FALSE_POSITIVE'], anomalyId('ORPHAN_DEBIT', 'R3')],
      [['FALSE_POSITIVE'], anomalyId('CARD_TESTING', 'tok|2024-03-01')],
    ]);
  });

  it('measures cause and status among matched anomalies, with the differences listed', () => {
    const engine = [orphan('R1', { cause: 'REVERSAL_LOST' }), orphan('R2', { status: 'AUTO_RESOLVED' }), orphan('R3')];
    const reference = [orphan('R1'), orphan('R2'), orphan('R3')];
    const r = compareAnomalies(engine, reference);
    expect(r.total).toMatchObject({ tp: 3, fp: 0, fn: 0, causeCompared: 3, causeAgreed: 2, statusAgreed: 2, fieldsAgreed: 3 });
    expect(r.total.causeAccuracy).toBeCloseTo(2 / 3);
    expect(r.mismatches.map((m) => [m.problems, m.diffs])).toEqual([
      [['CAUSE'], [{ field: 'cause', engine: 'REVERSAL_LOST', reference: 'NO_TERMINAL_OUTCOME' }]],
      [['STATUS'], [{ field: 'status', engine: 'AUTO_RESOLVED', reference: 'OPEN' }]],
    ]);
  });

  it('compares every field an anomaly carries; related_rrns as a set, evidence as event ids per stream; version and detected_at apart', () => {
    const ev = (id: string, t: number) => ({ event_id: id, event_type: 'AUTH_APPROVED', event_time: t });
    const ref = anomaly('DUPLICATE_DEBIT', 'R3', { related_rrns: ['R1', 'R2'], evidence: { terminal: [], gateway: [], bank: [ev('a', 1), ev('b', 2)] } });
    // Set semantics, other detail, another version and wall clock: still the same anomaly.
    const same = compareAnomalies([{
      ...ref, related_rrns: ['R2', 'R1', 'R2'], version: 3, detected_at: 123,
      evidence: { terminal: [], gateway: [], bank: [{ ...ev('B', 2), detail: { rrn: 'R1' } }, ev('a', 1), ev('a', 1)] },
    }], [ref]);
    expect(same.agree).toBe(true);
    const diff = compareAnomalies([{
      ...ref, related_rrns: ['R1'], amount_minor: 1_600, stan: null, severity: 'info', event_time: ref.event_time + 1,
      merchant_id: 'MERCHANT0000002', issuer_id: null, evidence: { terminal: [], gateway: [], bank: [ev('a', 1), ev('c', 3)] },
    }], [ref]);
    expect(diff.total).toMatchObject({ tp: 1, fieldsAgreed: 0, fieldAccuracy: 0, statusAgreed: 1 });
    expect(diff.agree).toBe(false);
    expect(diff.mismatches[0].problems).toEqual(['FIELDS']);
    expect(diff.mismatches[0].diffs).toEqual([
      { field: 'severity', engine: 'info', reference: 'high' },
      { field: 'event_time', engine: ref.event_time + 1, reference: ref.event_time },
      { field: 'merchant_id', engine: 'MERCHANT0000002', reference: 'MERCHANT0000001' },
      { field: 'stan', engine: null, reference: '000001' },
      { field: 'issuer_id', engine: null, reference: 'ISS001' },
      { field: 'amount_minor', engine: 1_600, reference: 1_500 },
      { field: 'related_rrns', engine: ['R1'], reference: ['R1', 'R2'] },
      { field: 'evidence', engine: { terminal: [], gateway: [], bank: ['a', 'c'] }, reference: { terminal: [], gateway: [], bank: ['a', 'b'] } },
    ]);
    const text = formatReport(diff);
    expect(text).toContain('evidence.bank: engine lacks b');
    expect(text).toContain('evidence.bank: engine has extra c');
    expect(text).toContain('severity: engine info != reference high');
  });

  it('every field of an anomaly is either compared or listed, with a reason, as legitimately different', () => {
    const carried = Object.keys(anomaly('ORPHAN_DEBIT', 'R1')).sort();
    const accounted = [...COMPARED_FIELDS, 'cause', 'status', ...Object.keys(NOT_COMPARED).filter((k) => carried.includes(k))].sort();
    expect(accounted).toEqual(carried);
    expect(Object.keys(NOT_COMPARED).filter((k) => carried.includes(k)).sort()).toEqual(['anomaly_id', 'detected_at', 'version']);
  });

  it('a reference that keys two anomalies alike is a disagreement, not a footnote', () => {
    const r = compareAnomalies([orphan('R1')], [orphan('R1'), orphan('R1', { status: 'AUTO_RESOLVED' })]);
    expect(r).toMatchObject({ referenceDuplicateIds: 1, mismatchCount: 0, agree: false });
    expect(formatReport(r)).toContain('1 reference anomalies share an anomaly_id');
  });

  it('caps the mismatch list, never the counts', () => {
    const reference = ['R1', 'R2', 'R3', 'R4', 'R5'].map((r) => orphan(r));
    const r = compareAnomalies([], reference, { maxMismatches: 2 });
    expect(r).toMatchObject({ mismatchCount: 5, mismatchCap: 2 });
    expect(r.mismatches).toHaveLength(2);
    expect(r.total.fn).toBe(5);
  });
});

describe('formatReport', () => {
  it('prints one row per kind and a total, then the mismatches', () => {
    const r = compareAnomalies([orphan('R1', { cause: 'REVERSAL_LOST' }), orphan('R3')], [orphan('R1'), orphan('R2')]);
    const text = formatReport(r);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^kind\s+reference\s+engine\s+TP\s+FP\s+FN\s+precision\s+recall\s+cause acc\s+status acc\s+fields acc$/);
    expect(lines.find((l) => l.startsWith('ORPHAN_DEBIT'))?.split(/\s+/)).toEqual(['ORPHAN_DEBIT', '2', '2', '1', '1', '1', '0.5000', '0.5000', '0.0000', '1.0000', '1.0000']);
    expect(lines.find((l) => l.startsWith('CARD_TESTING'))?.split(/\s+/)).toEqual(['CARD_TESTING', '0', '0', '0', '0', '0', '-', '-', '-', '-', '-']);
    expect(lines.some((l) => l.startsWith('ALL'))).toBe(true);
    expect(text).toContain('mismatches: 3');
    expect(text).toContain(`CAUSE ORPHAN_DEBIT ${anomalyId('ORPHAN_DEBIT', 'R1')}`);
    expect(text).toContain('cause: engine REVERSAL_LOST != reference NO_TERMINAL_OUTCOME');
    expect(text).toContain(`FALSE_NEGATIVE ORPHAN_DEBIT ${anomalyId('ORPHAN_DEBIT', 'R2')}`);
    expect(text).toContain(`FALSE_POSITIVE ORPHAN_DEBIT ${anomalyId('ORPHAN_DEBIT', 'R3')}`);
  });

  it('says so when they agree', () => {
    expect(formatReport(compareAnomalies([orphan('R1')], [orphan('R1')]))).toContain('engine and reference agree');
  });
});
