/**
 * Reads a JSONL replay file line by line, validating each line against the
 * stream's contract. Good lines go to `onEvent`, bad ones to `onBad` with a
 * reason and the (PAN-scrubbed) raw text; nothing is dropped silently.
 */
import type { EventOf, Stream } from '../events/index.js';
import { readLines, type Line } from '../util/lines.js';
import { maskPans, scrubPans } from '../util/pan.js';
import { stateCensus } from '../util/state-census.js';
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

/**
 * Longest replay line accepted, in characters (1 MiB of ASCII JSON; a valid
 * event is under 2 KB): a longer line becomes a dead letter without being
 * held in memory (docs/semantics.md, "Memory bounds").
 */
export const JSONL_MAX_LINE_CHARS = 1 << 20;

/** A line of a replay file: an over-long one is a bad line naming its length and the limit; else parseLine. */
export function parseFileLine<S extends Stream>(stream: S, file: string, l: Line, maxLineChars: number): ParsedLine<S> {
  if (l.overLength === undefined) return parseLine(stream, file, l.lineNo, l.text);
  stateCensus.capHit('replay_line');
  const reason = `line too long: ${l.overLength} characters, over the limit of ${maxLineChars} (--max-line-chars); only its first ${l.text.length} are kept`;
  return { ok: false, bad: { file, stream, line: l.lineNo, reason, payload: scrubPans(l.text) } };
}

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
export async function readJsonlFile<S extends Stream>(stream: S, file: string, maxLineChars = JSONL_MAX_LINE_CHARS): Promise<{ events: EventOf[S][]; bad: BadLine[] }> {
  const events: EventOf[S][] = [];
  const bad: BadLine[] = [];
  for await (const chunk of readLines(file, 4096, maxLineChars)) {
    for (const l of chunk) {
      const p = parseFileLine(stream, file, l, maxLineChars);
      if (p.ok) events.push(p.event);
      else bad.push(p.bad);
    }
  }
  return { events, bad };
}
