/**
 * compareAnomalies / formatReport, the cases the mutation run showed unpinned:
 * absent fields read as null, the default cap, unknown kinds, the summary of
 * a mismatch, and the exact layout of the printed table. Expected texts are
 * written from the format's definition (columns padded to the widest cell,
 * the kind left-aligned, numbers right-aligned, two spaces between columns).
 */
import { describe, expect, it } from 'vitest';
import { anomalyId, type Anomaly, type AnomalyKind } from '../../src/events/anomaly.js';
import { compareAnomalies, evidenceIds, finalStates, formatReport, NOT_COMPARED } from '../../src/eval/compare.js';

const T = Date.UTC(2024, 2, 1, 10, 0, 0); // 2024-03-01T10:00:00.000Z

function anomaly(kind: AnomalyKind, key: string, over: Partial<Anomaly> = {}): Anomaly {
  return {
    anomaly_id: anomalyId(kind, key), kind, cause: kind === 'ORPHAN_DEBIT' ? 'NO_TERMINAL_OUTCOME' : null, status: 'OPEN',
    severity: 'high', version: 1, event_time: T, detected_at: 0, terminal_id: 'TERM0001', merchant_id: 'MERCHANT0000001',
    card_token: 'tok_A', rrn: key, stan: '000001', issuer_id: 'ISS001', amount_minor: 1_500, currency: 'EUR', related_rrns: [],
    evidence: { terminal: [], gateway: [], bank: [] }, ...over,
  };
}
const orphan = (rrn: string, over: Partial<Anomaly> = {}) => anomaly('ORPHAN_DEBIT', rrn, over);
/** An anomaly as a JSON reader may give it: some fields absent instead of null. */
const without = (a: Anomaly, ...keys: string[]): Anomaly => {
  const o: Record<string, unknown> = { ...a };
  for (const k of keys) delete o[k];
  return o as unknown as Anomaly;
};

describe('compareAnomalies: absent values', () => {
  it('an absent field equals null; absent related_rrns equal none; absent evidence equals none', () => {
    const ref = orphan('R1', { stan: null, issuer_id: null });
    const eng = without(orphan('R1'), 'stan', 'issuer_id', 'related_rrns', 'evidence');
    const r = compareAnomalies([eng], [ref]);
    expect(r.agree).toBe(true);
    expect(r.total.fieldsAgreed).toBe(1);
  });

  it('an absent cause equals a null cause', () => {
    const ref = anomaly('DUPLICATE_DEBIT', 'R2');
    const r = compareAnomalies([without(ref, 'cause')], [ref]);
    expect(r.agree).toBe(true);
    // An orphan without a cause is not the same as one with a cause.
    const o = compareAnomalies([without(orphan('R3'), 'cause')], [orphan('R3')]);
    expect(o.mismatches[0].diffs).toEqual([{ field: 'cause', engine: null, reference: 'NO_TERMINAL_OUTCOME' }]);
  });

  it('evidence ids: per stream, lower-cased, distinct, sorted; null or missing streams are empty', () => {
    expect(evidenceIds(null)).toEqual({ terminal: [], gateway: [], bank: [] });
    expect(evidenceIds(undefined)).toEqual({ terminal: [], gateway: [], bank: [] });
    const ev = (id: string) => ({ event_id: id, event_type: 'X', event_time: 0 });
    expect(evidenceIds({ terminal: [ev('T2'), ev('t1')], gateway: [ev('G1'), ev('g1')], bank: [ev('b2'), ev('B1')] }))
      .toEqual({ terminal: ['t1', 't2'], gateway: ['g1'], bank: ['b1', 'b2'] });
    expect(evidenceIds({ terminal: [ev('x')] } as never)).toEqual({ terminal: ['x'], gateway: [], bank: [] });
  });

  it('related_rrns differ as sets only: a missing rrn is a difference, order and repeats are not', () => {
    const ref = orphan('R1', { related_rrns: ['A', 'B'] });
    expect(compareAnomalies([orphan('R1', { related_rrns: ['B', 'A', 'A'] })], [ref]).agree).toBe(true);
    const r = compareAnomalies([orphan('R1', { related_rrns: ['B'] })], [ref]);
    expect(r.mismatches[0].diffs).toEqual([{ field: 'related_rrns', engine: ['B'], reference: ['A', 'B'] }]);
  });
});

describe('compareAnomalies: versions, kinds, caps', () => {
  it('a lower version given after a higher one does not replace it; the first version is kept when alone', () => {
    const id = anomalyId('ORPHAN_DEBIT', 'R1');
    expect(finalStates([orphan('R1', { version: 3, status: 'AUTO_RESOLVED' }), orphan('R1', { version: 2 })]).get(id)?.version).toBe(3);
    expect(finalStates([orphan('R1', { version: 1 })]).get(id)?.version).toBe(1);
    expect(finalStates([]).size).toBe(0);
  });

  it('lists at most 50 mismatches by default, and counts them all', () => {
    const reference = Array.from({ length: 51 }, (_, i) => orphan(`R${i}`));
    const r = compareAnomalies([], reference);
    expect(r).toMatchObject({ mismatchCount: 51, mismatchCap: 50, agree: false });
    expect(r.mismatches).toHaveLength(50);
    expect(r.mismatches[0].anomaly_id).toBe(anomalyId('ORPHAN_DEBIT', 'R0'));
  });

  it('an anomaly of a kind outside the list is still counted, in its own row and in the total', () => {
    const ODD = 'SOMETHING_ELSE' as AnomalyKind;
    const odd = { ...orphan('R1'), kind: ODD, cause: null };
    const r = compareAnomalies([odd], [odd]);
    expect(r.kinds.map((k) => k.kind)).toContain(ODD);
    expect(r.kinds.find((k) => k.kind === ODD)).toMatchObject({ reference: 1, engine: 1, tp: 1, causeCompared: 0 });
    expect(r.total).toMatchObject({ reference: 1, engine: 1, tp: 1 });
    const fp = compareAnomalies([odd], []);
    expect(fp.kinds.find((k) => k.kind === ODD)).toMatchObject({ engine: 1, fp: 1 });
  });

  it('the total sums every count of every kind', () => {
    const engine = [orphan('R1', { cause: 'REVERSAL_LOST' }), orphan('R2', { status: 'AUTO_RESOLVED' }), anomaly('CARD_TESTING', 'c|d'), anomaly('AMOUNT_MISMATCH', 'R5')];
    const reference = [orphan('R1'), orphan('R2'), anomaly('CARD_TESTING', 'c|d', { severity: 'info' }), anomaly('DUPLICATE_DEBIT', 'R6')];
    const r = compareAnomalies(engine, reference);
    expect(r.total).toEqual({
      kind: 'ALL', reference: 4, engine: 4, tp: 3, fp: 1, fn: 1, causeCompared: 2, causeAgreed: 1, statusAgreed: 2, fieldsAgreed: 2,
      precision: 3 / 4, recall: 3 / 4, causeAccuracy: 1 / 2, statusAccuracy: 2 / 3, fieldAccuracy: 2 / 3,
    });
  });

  it('a mismatch carries both summaries, absent values as null', () => {
    const eng = without(orphan('R1', { cause: 'REVERSAL_LOST', version: 2 }), 'rrn', 'terminal_id', 'stan', 'card_token');
    const r = compareAnomalies([eng], [orphan('R1')]);
    expect(r.mismatches[0].engine).toEqual({
      kind: 'ORPHAN_DEBIT', cause: 'REVERSAL_LOST', status: 'OPEN', version: 2, event_time: T, rrn: null, terminal_id: null, stan: null, card_token: null,
    });
    expect(r.mismatches[0].reference).toEqual({
      kind: 'ORPHAN_DEBIT', cause: 'NO_TERMINAL_OUTCOME', status: 'OPEN', version: 1, event_time: T, rrn: 'R1', terminal_id: 'TERM0001', stan: '000001', card_token: 'tok_A',
    });
    const noCause = compareAnomalies([], [without(anomaly('CARD_VELOCITY', 'k'), 'cause')]);
    expect(noCause.mismatches[0].reference?.cause).toBeNull();
  });

  it('every reason for not comparing a field is a sentence, not empty', () => {
    for (const reason of Object.values(NOT_COMPARED)) expect(reason.length).toBeGreaterThan(20);
  });
});

describe('formatReport: the exact layout', () => {
  // Widths: kind 20 (TERMINAL_FAULT_SPIKE), then each header's length (the values are never wider).
  const HEADER = 'kind                  reference  engine  TP  FP  FN  precision  recall  cause acc  status acc  fields acc';
  const RULE = `${'-'.repeat(20)}  ${'-'.repeat(9)}  ${'-'.repeat(6)}  --  --  --  ${'-'.repeat(9)}  ${'-'.repeat(6)}  ${'-'.repeat(9)}  ${'-'.repeat(10)}  ${'-'.repeat(10)}`;

  it('header, rule, one row per kind, a rule, the total, a blank line, the summary', () => {
    const r = compareAnomalies([orphan('R1')], [orphan('R1')]);
    const lines = formatReport(r).split('\n');
    expect(lines[0]).toBe(HEADER);
    expect(lines[1]).toBe(RULE);
    expect(lines[2]).toBe('ORPHAN_DEBIT                  1       1   1   0   0     1.0000  1.0000     1.0000      1.0000      1.0000');
    expect(lines[3]).toBe('DUPLICATE_DEBIT               0       0   0   0   0          -       -          -           -           -');
    expect(lines[8]).toBe('TERMINAL_FAULT_SPIKE          0       0   0   0   0          -       -          -           -           -');
    expect(lines[9]).toBe(RULE);
    expect(lines[10]).toBe('ALL                           1       1   1   0   0     1.0000  1.0000     1.0000      1.0000      1.0000');
    expect(lines[11]).toBe('');
    expect(lines[12]).toBe('engine: 1 versions, 1 anomalies, 0 RETRACTED dropped; reference: 1 anomalies');
    expect(lines[13]).toBe('engine and reference agree');
    expect(lines[14]).toBe('');
    expect(lines).toHaveLength(15);
  });

  it('a wider kind widens the first column', () => {
    const odd = { ...orphan('R1'), kind: 'A_KIND_NAME_LONGER_THAN_TWENTY' as AnomalyKind };
    const lines = formatReport(compareAnomalies([odd], [odd])).split('\n');
    expect(lines[0].startsWith(`kind${' '.repeat(30 - 4)}  reference`)).toBe(true);
    expect(lines[1].startsWith(`${'-'.repeat(30)}  ---------`)).toBe(true);
  });

  it('a mismatch: its problems, kind and id, both summaries, one line per differing field', () => {
    const eng = orphan('R1', { cause: 'REVERSAL_LOST', amount_minor: 1_600 });
    const r = compareAnomalies([eng], [without(orphan('R1', { terminal_id: null }), 'card_token')]);
    const text = formatReport(r);
    const tail = text.split('\n').slice(12);
    expect(tail).toEqual([
      'engine: 1 versions, 1 anomalies, 0 RETRACTED dropped; reference: 1 anomalies',
      'mismatches: 1',
      `  CAUSE+FIELDS ORPHAN_DEBIT ${anomalyId('ORPHAN_DEBIT', 'R1')}`,
      '    engine:    status=OPEN cause=REVERSAL_LOST event_time=2024-03-01T10:00:00.000Z rrn=R1 terminal=TERM0001 stan=000001 card=tok_A',
      '    reference: status=OPEN cause=NO_TERMINAL_OUTCOME event_time=2024-03-01T10:00:00.000Z rrn=R1 stan=000001',
      '    cause: engine REVERSAL_LOST != reference NO_TERMINAL_OUTCOME',
      '    terminal_id: engine TERM0001 != reference null',
      '    card_token: engine tok_A != reference null',
      '    amount_minor: engine 1600 != reference 1500',
      '',
    ]);
  });

  it('a summary without cause, rrn, terminal, stan or card prints only status and time', () => {
    const bare = anomaly('TERMINAL_FAULT_SPIKE', 'T|d', { rrn: null, terminal_id: null, stan: null, card_token: null });
    const text = formatReport(compareAnomalies([], [bare]));
    expect(text).toContain(`  FALSE_NEGATIVE TERMINAL_FAULT_SPIKE ${bare.anomaly_id}\n    reference: status=OPEN event_time=2024-03-01T10:00:00.000Z\n`);
    expect(text).not.toContain('    engine:');
  });

  it('evidence differences per stream, in stream order; a value that is an object prints as JSON', () => {
    const ev = (id: string) => ({ event_id: id, event_type: 'X', event_time: 0 });
    const ref = orphan('R1', { evidence: { terminal: [ev('t1')], gateway: [ev('g1')], bank: [ev('b1')] } });
    const eng = orphan('R1', { evidence: { terminal: [ev('t2')], gateway: [ev('g1'), ev('g2')], bank: [] }, related_rrns: ['R0'] });
    const lines = formatReport(compareAnomalies([eng], [ref])).split('\n').filter((l) => l.startsWith('    ') && !l.includes('status='));
    expect(lines).toEqual([
      '    related_rrns: engine ["R0"] != reference []',
      '    evidence.terminal: engine lacks t1',
      '    evidence.terminal: engine has extra t2',
      '    evidence.gateway: engine has extra g2',
      '    evidence.bank: engine lacks b1',
    ]);
  });

  it('several missing or extra ids of one stream are listed on one line, comma-separated', () => {
    const ev = (id: string) => ({ event_id: id, event_type: 'X', event_time: 0 });
    const ref = orphan('R1', { evidence: { terminal: [], gateway: [], bank: [ev('b1'), ev('b2')] } });
    const eng = orphan('R1', { evidence: { terminal: [], gateway: [], bank: [ev('c1'), ev('c2')] } });
    const text = formatReport(compareAnomalies([eng], [ref]));
    expect(text).toContain('    evidence.bank: engine lacks b1, b2\n');
    expect(text).toContain('    evidence.bank: engine has extra c1, c2\n');
  });

  it('a capped list says how many it shows; an uncapped one does not', () => {
    const reference = ['R1', 'R2', 'R3'].map((x) => orphan(x));
    expect(formatReport(compareAnomalies([], reference, { maxMismatches: 2 }))).toContain('\nmismatches: 3 (first 2)\n');
    expect(formatReport(compareAnomalies([], reference, { maxMismatches: 3 }))).toContain('\nmismatches: 3\n');
  });

  it('duplicate reference ids are named in the summary line', () => {
    const r = compareAnomalies([orphan('R1')], [orphan('R1'), orphan('R1')]);
    expect(formatReport(r).split('\n')[12])
      .toBe('engine: 1 versions, 1 anomalies, 0 RETRACTED dropped; reference: 1 anomalies (1 duplicate ids: the reference must key each anomaly once)');
  });
});
