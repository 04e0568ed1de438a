/**
 * Reads a text file line by line, in chunks: no parsing, no validation (the
 * JSONL replay files, src/ingest/jsonl.ts, and the anomaly files the batch
 * reference compares, src/eval/anomaly-file.ts).
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { PosguardError } from '../errors.js';

export async function assertReadable(file: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch (e) {
    throw new PosguardError('PG_INPUT_UNREADABLE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/**
 * Yields the lines of a file in chunks (arrays), so callers can interleave
 * several files without one await per line. Blank lines are skipped but counted.
 */
export async function* readLines(file: string, chunkLines = 4096): AsyncGenerator<{ lineNo: number; text: string }[]> {
  await assertReadable(file);
  const input = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let lineNo = 0;
  let out: { lineNo: number; text: string }[] = [];
  try {
    for await (const chunk of input) {
      const text = rest + (chunk as string);
      let start = 0;
      let nl: number;
      while ((nl = text.indexOf('\n', start)) !== -1) {
        lineNo++;
        let line = text.slice(start, nl);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line.trim() !== '') out.push({ lineNo, text: line });
        start = nl + 1;
        if (out.length >= chunkLines) {
          yield out;
          out = [];
        }
      }
      rest = text.slice(start);
    }
  } catch (e) {
    throw new PosguardError('PG_INPUT_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (rest.trim() !== '') out.push({ lineNo: lineNo + 1, text: rest.endsWith('\r') ? rest.slice(0, -1) : rest });
  if (out.length > 0) yield out;
}
