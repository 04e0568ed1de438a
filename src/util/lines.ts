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

/** One line of a file. `overLength` is set when the line was longer than the limit: `text` is then only its head. */
export interface Line {
  readonly lineNo: number;
  readonly text: string;
  /** The line's full length in characters, when it exceeded `maxLineChars` (its text was not kept). */
  readonly overLength?: number;
}

/** Characters of an over-long line kept to show in its dead letter. */
export const OVERLONG_HEAD_CHARS = 200;

/**
 * Splits a stream of text chunks into lines, holding at most `maxLineChars`
 * (+ one chunk) of an unfinished line: past that the line's text is dropped
 * and only its head and length are kept until its newline (a file without
 * newlines cannot grow memory).
 */
class LineSplitter {
  private rest = '';
  private lineNo = 0;
  /** Length so far of an over-long line being skipped; -1 when not skipping. */
  private skipped = -1;
  private head = '';

  private out: Line[] = [];

  constructor(private readonly maxLineChars: number) {}

  /** Lines complete so far, handed over. */
  get pending(): number {
    return this.out.length;
  }

  take(): Line[] {
    const lines = this.out;
    this.out = [];
    return lines;
  }

  push(chunk: string): void {
    const text = this.skipped >= 0 ? chunk : this.rest + chunk;
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      this.lineNo++;
      if (this.skipped >= 0) {
        this.out.push({ lineNo: this.lineNo, text: this.head, overLength: this.skipped + nl - start });
        this.skipped = -1;
      } else this.emit(text.slice(start, nl));
      start = nl + 1;
    }
    if (this.skipped >= 0) this.skipped += text.length - start;
    else if (text.length - start > this.maxLineChars) {
      this.head = text.slice(start, start + OVERLONG_HEAD_CHARS);
      this.skipped = text.length - start;
      this.rest = '';
    } else this.rest = text.slice(start);
  }

  end(): void {
    if (this.skipped >= 0) this.out.push({ lineNo: this.lineNo + 1, text: this.head, overLength: this.skipped });
    else if (this.rest.trim() !== '') {
      this.lineNo++;
      this.emit(this.rest);
    }
  }

  private emit(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length > this.maxLineChars) this.out.push({ lineNo: this.lineNo, text: line.slice(0, OVERLONG_HEAD_CHARS), overLength: line.length });
    else if (line.trim() !== '') this.out.push({ lineNo: this.lineNo, text: line });
  }
}

/**
 * Yields the lines of a file in chunks (arrays), so callers can interleave
 * several files without one await per line. Blank lines are skipped but
 * counted. A line longer than `maxLineChars` comes with `overLength` and only
 * its head (memory stays bounded by the limit).
 */
export async function* readLines(file: string, chunkLines = 4096, maxLineChars = Infinity): AsyncGenerator<Line[]> {
  await assertReadable(file);
  const input = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const splitter = new LineSplitter(maxLineChars);
  try {
    for await (const chunk of input) {
      splitter.push(chunk as string);
      if (splitter.pending >= chunkLines) yield splitter.take();
    }
  } catch (e) {
    throw new PosguardError('PG_INPUT_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  splitter.end();
  if (splitter.pending > 0) yield splitter.take();
}
