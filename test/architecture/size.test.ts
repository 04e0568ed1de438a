/**
 * No file in `src/` over MAX_FILE_LINES, no function over MAX_FUNCTION_LINES
 * (test/architecture/sizes.ts), except the listed offenders, which may only
 * shrink and must be removed from the list once within the limit.
 */
import { describe, expect, it } from 'vitest';
import { GENERATED, KNOWN_OVERSIZE, MAX_FILE_LINES, MAX_FUNCTION_LINES } from './sizes.js';
import { readSourceFile, readSourceTree } from './source-graph.js';

interface Measured {
  readonly what: string;
  readonly lines: number;
  readonly limit: number;
  readonly where: string;
}

const tree = readSourceTree().filter((f) => !GENERATED.includes(f.path));

const measured: Measured[] = [
  ...tree.map((f) => ({ what: f.path, lines: f.lines, limit: MAX_FILE_LINES, where: f.path })),
  ...tree.flatMap((f) => f.functions.map((fn) => ({ what: `${f.path}#${fn.name}`, lines: fn.lines, limit: MAX_FUNCTION_LINES, where: `${f.path}:${fn.line}` }))),
];
const byWhat = new Map(measured.map((m) => [m.what, m]));
const over = measured.filter((m) => m.lines > m.limit);

describe('sizes in src/ (test/architecture/sizes.ts)', () => {
  it('measures something', () => {
    // Guards the check itself: a parser that found no function would pass everything.
    expect(tree.length).toBeGreaterThan(100);
    expect(measured.length).toBeGreaterThan(1000);
  });

  it('has no file or function over its limit except the known ones', () => {
    const known = new Set(KNOWN_OVERSIZE.map((k) => k.what));
    const unexpected = over.filter((m) => !known.has(m.what)).map((m) => `${m.where} ${m.what}: ${m.lines} lines, limit ${m.limit}`);
    expect(unexpected, 'over the size limit: split it (a file by job, a function by step)').toEqual([]);
  });

  it('lets no known offender grow', () => {
    const grown = KNOWN_OVERSIZE.flatMap((k) => {
      const m = byWhat.get(k.what);
      return m !== undefined && m.lines > k.lines ? [`${m.where} ${k.what}: ${m.lines} lines, listed at ${k.lines}: it may only shrink`] : [];
    });
    expect(grown).toEqual([]);
  });

  it('has no stale KNOWN_OVERSIZE entry', () => {
    const stale = KNOWN_OVERSIZE.flatMap((k) => {
      const m = byWhat.get(k.what);
      if (m === undefined) return [`stale allowlist entry: remove it from KNOWN_OVERSIZE: ${k.what} no longer exists (${k.removedBy})`];
      return m.lines <= m.limit ? [`stale allowlist entry: remove it from KNOWN_OVERSIZE: ${k.what} is ${m.lines} lines, within ${m.limit}`] : [];
    });
    expect(stale).toEqual([]);
  });

  it('lists each offender once', () => {
    const keys = KNOWN_OVERSIZE.map((k) => k.what);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });
});

describe('the measure', () => {
  // Proves it on a sample whose sizes are known by reading it.
  it('counts a file as an editor numbers its lines', () => {
    expect(readSourceFile('test/architecture/fixtures/sample.ts').lines).toBe(33);
  });

  it('names and counts functions, methods, accessors and callbacks', () => {
    const f = readSourceFile('test/architecture/fixtures/sample.ts');
    expect(f.functions.map((fn) => [fn.name, fn.line, fn.lines])).toEqual([
      ['loadLater', 11, 4],
      ['Sample.constructor', 17, 1],
      ['Sample.get count', 19, 3],
      ['Sample.names', 23, 4],
      ['Sample.names.upper', 24, 1],
      ['Sample.names.map(callback)', 25, 1],
      ['handlers.first', 30, 3],
    ]);
  });
});
