/**
 * Reads a JSONL replay file line by line, validating each line against the
 * stream's contract. Good lines go to `onEvent`, bad ones to `onBad` with a
 * reason and the (PAN-scrubbed) raw text; nothing is dropped silently.
 */
import type { EventOf, Stream } from '../events/index.js';
import { readLines } from '../util/lines.js';
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
