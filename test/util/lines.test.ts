/**
 * The line reader (src/util/lines.ts): numbering, CRLF and blank lines, and
 * the length limit: an over-long line comes back as its head and length,
 * whether it ends inside one read chunk, spans many (a file without
 * newlines), or is the last line of the file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OVERLONG_HEAD_CHARS, readLines, type Line } from '../../src/util/lines.js';

const dir = mkdtempSync(join(tmpdir(), 'posguard-lines-'));
let n = 0;
async function linesOf(content: string, maxLineChars?: number, chunkLines = 4096): Promise<Line[]> {
  const file = join(dir, `f${n++}.txt`);
  writeFileSync(file, content);
  const out: Line[] = [];
  for await (const chunk of readLines(file, chunkLines, maxLineChars)) out.push(...chunk);
  return out;
}

describe('readLines', () => {
  it('numbers lines from 1, counts blank ones without yielding them, strips CR, keeps a last line without newline', async () => {
    expect(await linesOf('a\r\n\n  \nb\nc')).toEqual([{ lineNo: 1, text: 'a' }, { lineNo: 4, text: 'b' }, { lineNo: 5, text: 'c' }]);
  });

  it('yields every line once across several chunks', async () => {
    const file = join(dir, 'chunks.txt');
    writeFileSync(file, 'x\n'.repeat(10));
    const sizes: number[] = [];
    for await (const chunk of readLines(file, 4)) sizes.push(chunk.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('a line over the limit inside one read: its head and its length, the lines around it intact', async () => {
    const long = 'L'.repeat(1_000);
    const got = await linesOf(`short\n${long}\nafter\n`, 999);
    expect(got).toEqual([
      { lineNo: 1, text: 'short' },
      { lineNo: 2, text: long.slice(0, OVERLONG_HEAD_CHARS), overLength: 1_000 },
      { lineNo: 3, text: 'after' },
    ]);
    // Exactly at the limit is accepted.
    expect(await linesOf(`${long}\n`, 1_000)).toEqual([{ lineNo: 1, text: long }]);
  });

  it('a line spanning many reads (5 MiB, no newline until the end) is skipped, not buffered', async () => {
    const huge = 'H'.repeat(5 * 1024 * 1024);
    const got = await linesOf(`first\n${huge}\nlast`, 1024 * 1024);
    expect(got).toEqual([
      { lineNo: 1, text: 'first' },
      { lineNo: 2, text: huge.slice(0, OVERLONG_HEAD_CHARS), overLength: huge.length },
      { lineNo: 3, text: 'last' },
    ]);
    // The same at the end of the file, without a newline.
    expect(await linesOf(`first\n${huge}`, 1024 * 1024)).toEqual([
      { lineNo: 1, text: 'first' },
      { lineNo: 2, text: huge.slice(0, OVERLONG_HEAD_CHARS), overLength: huge.length },
    ]);
  });
});
