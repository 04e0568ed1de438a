/**
 * Reads a JSONL replay file line by line, validating each line against the
 * stream's contract. Good lines go to `onEvent`, bad ones to `onBad` with a
 * reason and the (PAN-scrubbed) raw text; nothing is dropped silently.
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { PosguardError } from '../errors.js';
import type { EventOf, Stream } from '../events/index.js';
import { maskPans, scrubPans } from '../util/pan.js';
import { validateEvent } from './validate.js';

export interface BadLine {
  readonly file: string;
  readonly stream: Stream;
  readonly line: number;
  readonly reason: string;
  /** The raw line, card numbers masked. */
  readonly payload: string;
}

export type ParsedLine<S extends Stream> =
  | { ok: true; line: number; event: EventOf[S] }
  | { ok: false; bad: BadLine };

/** Parses and validates one raw line. Never throws. */
export function parseLine<S extends Stream>(stream: S, file: string, lineNo: number, text: string): ParsedLine<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, bad: { file, stream, line: lineNo, reason: `not valid JSON: ${maskPans((e as Error).message)}`, payload: scrubPans(text) } };
  }
  const v = validateEvent(stream, value);
  if (v.ok) return { ok: true, line: lineNo, event: v.event };
  return { ok: false, bad: { file, stream, line: lineNo, reason: v.reason, payload: scrubPans(text) } };
}

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

/** Reads a whole file (small inputs, tests, the batch reference). */
export async function readJsonlFile<S extends Stream>(stream: S, file: string): Promise<{ events: EventOf[S][]; bad: BadLine[] }> {
  const events: EventOf[S][] = [];
  const bad: BadLine[] = [];
  for await (const chunk of readLines(file)) {
    for (const { lineNo, text } of chunk) {
      const p = parseLine(stream, file, lineNo, text);
      if (p.ok) events.push(p.event);
      else bad.push(p.bad);
    }
  }
  return { events, bad };
}
