import { describe, expect, it } from 'vitest';
import { clickHouseMessage, renderTable } from '../../src/sinks/clickhouse/query.js';
import { returnsRows, splitStatements } from '../../src/sinks/clickhouse/statements.js';

describe('splitStatements', () => {
  it('splits on semicolons outside quotes and comments', () => {
    const script = `
      -- a comment; not a split
      CREATE TABLE t (a String) ENGINE = Memory;
      /* block; comment */ INSERT INTO t VALUES ('x;y'), ('it''s'), ('back\\';slash');
      SELECT "odd;name", \`q;b\` FROM t;
      -- trailing comment only
    `;
    const s = splitStatements(script);
    expect(s).toHaveLength(3);
    expect(s[0]).toMatch(/^-- a comment; not a split\n\s*CREATE TABLE t/);
    expect(s[1]).toContain("('x;y'), ('it''s'), ('back\\';slash')");
    expect(s[2]).toBe('SELECT "odd;name", `q;b` FROM t');
  });

  it('tells queries from statements that return nothing', () => {
    expect(returnsRows('-- hi\nSELECT 1')).toBe(true);
    expect(returnsRows('  with x AS (SELECT 1) SELECT * FROM x')).toBe(true);
    expect(returnsRows('(SELECT 1) UNION ALL (SELECT 2)')).toBe(true);
    expect(returnsRows('SHOW TABLES')).toBe(true);
    expect(returnsRows('DESCRIBE anomalies')).toBe(true);
    expect(returnsRows('CREATE TABLE x (a UInt8) ENGINE = Memory')).toBe(false);
    expect(returnsRows('/* select */ INSERT INTO x VALUES (1)')).toBe(false);
  });
});

describe('renderTable', () => {
  it('aligns columns, right-aligns numbers, spells out NULL and cuts long cells', () => {
    const out = renderTable(
      [{ name: 'issuer_id', type: 'LowCardinality(String)' }, { name: 'n', type: 'UInt64' }, { name: 'amount', type: 'Nullable(Int64)' }, { name: 'evidence', type: 'String' }],
      [['BNK0101', '12', 3400, 'x'.repeat(100)], ['BNK0207', '3', null, 'a\nb']],
      20,
    );
    expect(out).toBe([
      'issuer_id   n  amount  evidence',
      '---------  --  ------  --------------------',
      'BNK0101    12    3400  xxxxxxxxxxxxxxxxxxx…',
      'BNK0207     3    NULL  a\\nb',
      '(2 rows)',
      '',
    ].join('\n'));
  });
});

describe('clickHouseMessage', () => {
  it('adds the error type when the message lacks it', () => {
    expect(clickHouseMessage(Object.assign(new Error('Unknown table expression identifier \'nope\''), { type: 'UNKNOWN_TABLE', code: '60' }))).toBe("Unknown table expression identifier 'nope' (UNKNOWN_TABLE)");
  });

  it('keeps the first line, without the version suffix', () => {
    expect(clickHouseMessage(new Error('Code: 60. DB::Exception: Unknown table expression identifier \'nope\'. (UNKNOWN_TABLE) (version 26.7.2.1)\nStack trace:\n0. ...'))).toBe("Code: 60. DB::Exception: Unknown table expression identifier 'nope'. (UNKNOWN_TABLE)");
  });
});
