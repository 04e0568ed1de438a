/**
 * Replays the three JSONL files into a consumer. Files are merged by the event
 * time at the head of each (a stand-in for arrival order across streams, which
 * the files do not record); within a file, lines keep their order. The result
 * does not depend on this merge (the engine waits for watermarks); memory and
 * the late counts do, which is why a merge beats reading one file after another.
 */
import type { EventOf, Stream } from '../events/index.js';
import { parseLine, readLines, assertReadable, type BadLine } from './jsonl.js';

export interface ReplayInputs {
  terminal: string;
  gateway: string;
  bank: string;
}

export interface ReplayHandlers {
  event<S extends Stream>(stream: S, event: EventOf[S], line: number, file: string): void;
  bad(b: BadLine): void;
  /** Called between chunks: a place to await sink backpressure. */
  pause?(): Promise<void> | void;
}

interface Cursor {
  stream: Stream;
  file: string;
  it: AsyncIterator<{ lineNo: number; text: string }[]>;
  chunk: { lineNo: number; text: string }[];
  pos: number;
  head: { event: EventOf[Stream]; line: number } | null;
  done: boolean;
}

export async function replayFiles(inputs: ReplayInputs, h: ReplayHandlers): Promise<void> {
  for (const f of [inputs.terminal, inputs.gateway, inputs.bank]) await assertReadable(f);
  const cursors: Cursor[] = (['terminal', 'gateway', 'bank'] as const).map((stream) => ({
    stream, file: inputs[stream], it: readLines(inputs[stream])[Symbol.asyncIterator](), chunk: [], pos: 0, head: null, done: false,
  }));
  for (const c of cursors) await fill(c, h);
  let sincePause = 0;
  for (;;) {
    let best: Cursor | null = null;
    for (const c of cursors) {
      if (c.head !== null && (best === null || c.head.event.event_time < best.head!.event.event_time)) best = c;
    }
    if (best === null) break;
    const { event, line } = best.head!;
    best.head = null;
    h.event(best.stream, event, line, best.file);
    await fill(best, h);
    if (++sincePause >= 4096) {
      sincePause = 0;
      await h.pause?.();
    }
  }
}

/** Moves the cursor to its next valid event; bad lines on the way go to `bad`. */
async function fill(c: Cursor, h: ReplayHandlers): Promise<void> {
  while (!c.done) {
    if (c.pos >= c.chunk.length) {
      const r = await c.it.next();
      if (r.done) {
        c.done = true;
        return;
      }
      c.chunk = r.value;
      c.pos = 0;
      continue;
    }
    const { lineNo, text } = c.chunk[c.pos++];
    const p = parseLine(c.stream, c.file, lineNo, text);
    if (p.ok) {
      c.head = { event: p.event, line: lineNo };
      return;
    }
    h.bad(p.bad);
  }
}
