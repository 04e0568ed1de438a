/**
 * Splits a SQL script into statements on `;`, the way clickhouse-client does
 * for a multi-query script: semicolons inside quotes, back-quoted names and
 * comments do not count. Used by migrations and by `posguard sql`.
 */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = script.length;
  while (i < n) {
    const c = script[i];
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(script, i, c);
    } else if (c === '-' && script[i + 1] === '-') {
      const nl = script.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
    } else if (c === '#' && (script[i + 1] === ' ' || script[i + 1] === '!')) {
      const nl = script.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
    } else if (c === '/' && script[i + 1] === '*') {
      const end = script.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === ';') {
      push(out, script.slice(start, i));
      i++;
      start = i;
    } else {
      i++;
    }
  }
  push(out, script.slice(start));
  return out;
}

function skipQuoted(s: string, i: number, q: string): number {
  let j = i + 1;
  while (j < s.length) {
    const c = s[j];
    if (c === '\\') {
      j += 2;
    } else if (c === q) {
      // A doubled quote is an escaped quote in ClickHouse SQL.
      if (s[j + 1] === q) j += 2;
      else return j + 1;
    } else {
      j++;
    }
  }
  return j;
}

function push(out: string[], stmt: string): void {
  if (stripComments(stmt).trim() !== '') out.push(stmt.trim());
}

/** The statement without comments, for classification (never for execution). */
export function stripComments(stmt: string): string {
  let out = '';
  let i = 0;
  while (i < stmt.length) {
    const c = stmt[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = skipQuoted(stmt, i, c);
      out += stmt.slice(i, end);
      i = end;
    } else if (c === '-' && stmt[i + 1] === '-') {
      const nl = stmt.indexOf('\n', i);
      i = nl === -1 ? stmt.length : nl + 1;
      out += ' ';
    } else if (c === '/' && stmt[i + 1] === '*') {
      const end = stmt.indexOf('*/', i + 2);
      i = end === -1 ? stmt.length : end + 2;
      out += ' ';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * True when the statement writes a file on the ClickHouse host (`INTO OUTFILE`):
 * readonly=2 does not stop that on the embedded engine. Quoted text and comments
 * do not count.
 */
export function writesFile(stmt: string): boolean {
  const bare = stripComments(stmt);
  let code = '';
  for (let i = 0; i < bare.length;) {
    const c = bare[i];
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(bare, i, c);
      code += ' ';
    } else {
      code += c;
      i++;
    }
  }
  return /\bINTO\s+OUTFILE\b/i.test(code);
}

const RESULT_STATEMENT = /^\s*\(*\s*(SELECT|WITH|SHOW|DESC|DESCRIBE|EXPLAIN|EXISTS|CHECK)\b/i;

/** True when the statement returns rows (SELECT, SHOW...), false for DDL and INSERT. */
export function returnsRows(stmt: string): boolean {
  return RESULT_STATEMENT.test(stripComments(stmt));
}
