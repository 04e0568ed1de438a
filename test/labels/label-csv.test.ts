/** Label files: the CSV reader and the checks every row gets before anything is written. */
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/labels/csv.js';
import { labelProblem, readLabelCsv } from '../../src/labels/labels.js';

const ID = 'a'.repeat(32);
const ID2 = 'b'.repeat(32);

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and newlines, CRLF, a BOM, and skips blank lines', () => {
    const r = parseCsv('\ufeffanomaly_id,label,note\r\nx,confirmed,"refund, then ""chargeback""\nnext day"\r\n\r\ny,expected,\n');
    expect(r).toEqual({ ok: true, records: [
      { line: 1, fields: ['anomaly_id', 'label', 'note'] },
      { line: 2, fields: ['x', 'confirmed', 'refund, then "chargeback"\nnext day'] },
      { line: 5, fields: ['y', 'expected', ''] },
    ] });
  });

  it('names the line of an unclosed quote or a stray one', () => {
    expect(parseCsv('a,b\nx,"open\n')).toEqual({ ok: false, line: 2, problem: expect.stringMatching(/not closed/) });
    expect(parseCsv('a,b\nx,ab"c\n')).toEqual({ ok: false, line: 2, problem: expect.stringMatching(/quote inside an unquoted field/) });
  });
});

describe('readLabelCsv', () => {
  it('takes the columns by header name, note optional, labels case-insensitive', () => {
    const r = readLabelCsv(`label,anomaly_id\nCONFIRMED,${ID}\nfalse_positive,${ID2}\n`, 'f.csv');
    expect(r.problems).toEqual([]);
    expect(r.labels).toEqual([
      { anomaly_id: ID, label: 'confirmed', note: '', where: 'row 1 (line 2)' },
      { anomaly_id: ID2, label: 'false_positive', note: '', where: 'row 2 (line 3)' },
    ]);
  });

  it('reports every bad row with its row and line number', () => {
    const text = [
      'anomaly_id,label,note',
      `${ID},confirmed,ok`,
      `${ID2},maybe,`,
      `${ID},expected,again`,
      'not an id!,confirmed,',
      `${ID2},confirmed`,
      `${ID2},confirmed,card 4111111111111111 called`,
      `${ID2}x,expected,"{""created_at"": 4111111111111111}"`,
    ].join('\n');
    const r = readLabelCsv(text, 'f.csv');
    expect(r.problems).toEqual([
      'f.csv row 2 (line 3): label "maybe" is not one of confirmed, false_positive, expected',
      `f.csv row 3 (line 4): anomaly ${ID} is labelled again (first at row 1 (line 2)); one label per anomaly per file`,
      'f.csv row 4 (line 5): anomaly_id "not an id!" is not an anomaly id (letters, digits, - and _)',
      'f.csv row 5 (line 6): 2 fields, the header has 3',
      'f.csv row 6 (line 7): note contains what looks like a clear card number; refer to the card by its token instead',
      // Read as text, not as JSON (where a *_at number is a timestamp and was let through).
      'f.csv row 7 (line 8): note contains what looks like a clear card number; refer to the card by its token instead',
    ]);
  });

  it('refuses a missing or wrong header, and an empty file', () => {
    expect(readLabelCsv(`${ID},confirmed,x\n`, 'f.csv').problems[0]).toMatch(/f\.csv line 1: header must name the columns anomaly_id,label,note/);
    expect(readLabelCsv('anomaly_id,verdict\n', 'f.csv').problems[0]).toMatch(/header must name/);
    expect(readLabelCsv('', 'f.csv').problems[0]).toMatch(/empty file/);
    expect(readLabelCsv('anomaly_id,label\n', 'f.csv').problems[0]).toMatch(/no rows after the header/);
  });
});

describe('labelProblem', () => {
  it('accepts the three labels and refuses anything else', () => {
    for (const label of ['confirmed', 'false_positive', 'expected']) expect(labelProblem({ anomaly_id: ID, label, note: '' })).toBeNull();
    expect(labelProblem({ anomaly_id: '', label: 'confirmed', note: '' })).toMatch(/empty/);
    expect(labelProblem({ anomaly_id: ID, label: 'fp', note: '' })).toMatch(/not one of/);
    expect(labelProblem({ anomaly_id: ID, label: 'confirmed', note: 'x'.repeat(2001) })).toMatch(/at most 2000/);
  });
});
