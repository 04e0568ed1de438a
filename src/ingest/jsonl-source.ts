/**
 * The three replay files (terminal, gateway, bank JSONL) as a `Source`. Files
 * are merged by the event time at the head of each (a stand-in for arrival
 * order across streams, which the files do not record); within a file, lines
 * keep their order; on a tie the earlier stream (terminal, gateway, bank)
 * goes first. The result does not depend on this merge (the engine waits for
 * watermarks); memory and the late counts do, which is why a merge beats
 * reading one file after another.
 */
import type { EventOf, Stream } from '../events/index.js';
import { assertReadable, readLines, type Line } from '../util/lines.js';
import { scrubPans } from '../util/pan.js';
import { JSONL_MAX_LINE_CHARS, parseFileLine } from './jsonl.js';
import { futureReason, type FutureBound } from './placement.js';
import type { BadRecord, Source, SourceTarget } from './source.js';

export interface JsonlFiles {
  readonly terminal: string;
  readonly gateway: string;
  readonly bank: string;
}

type Lines = Line[];

interface Cursor {
  readonly stream: Stream;
  readonly file: string;
  readonly it: AsyncGenerator<Lines>;
  readonly maxLineChars: number;
  chunk: Lines;
  pos: number;
  head: { event: EventOf[Stream]; line: number } | null;
  done: boolean;
}

/** Events pushed between two `ready()` calls (the sinks' chance to slow the input). */
export const JSONL_EVENTS_PER_CHUNK = 4096;

export class JsonlSource implements Source {
  readonly name = 'jsonl files';
  private cursors: Cursor[] = [];
  private stopped = false;

  /**
   * `future`: records stamped more than max_future ahead of the wall clock are dead letters (placement.ts).
   * `maxLineChars`: a longer line is a dead letter, never buffered whole (default JSONL_MAX_LINE_CHARS).
   */
  constructor(private readonly files: JsonlFiles, private readonly future?: FutureBound, private readonly maxLineChars = JSONL_MAX_LINE_CHARS) {}

  /** Checks all three files first: a missing one fails before anything is read. */
  async open(): Promise<void> {
    for (const f of [this.files.terminal, this.files.gateway, this.files.bank]) await assertReadable(f);
    this.cursors = (['terminal', 'gateway', 'bank'] as const).map((stream) => ({
      stream, file: this.files[stream], it: readLines(this.files[stream], 4096, this.maxLineChars), maxLineChars: this.maxLineChars,
      chunk: [], pos: 0, head: null, done: false,
    }));
  }

  async run(into: SourceTarget): Promise<void> {
    for (const c of this.cursors) await fill(c, into, this.future);
    let sinceReady = 0;
    while (!this.stopped) {
      let best: Cursor | null = null;
      for (const c of this.cursors) {
        if (c.head !== null && (best === null || c.head.event.event_time < best.head!.event.event_time)) best = c;
      }
      if (best === null) break;
      const { event, line } = best.head!;
      best.head = null;
      into.event(best.stream, event, { source: best.file, line });
      await fill(best, into, this.future);
      if (++sinceReady >= JSONL_EVENTS_PER_CHUNK) {
        sinceReady = 0;
        await into.ready();
      }
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Closes the file readers (a run stopped early leaves them open). */
  async close(): Promise<void> {
    const cursors = this.cursors;
    this.cursors = [];
    for (const c of cursors) await c.it.return(undefined);
  }
}

/** Moves the cursor to its next valid event; bad lines on the way go to `bad`. */
async function fill(c: Cursor, into: SourceTarget, future: FutureBound | undefined): Promise<void> {
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
    const l = c.chunk[c.pos++];
    const p = parseFileLine(c.stream, c.file, l, c.maxLineChars);
    const ahead = p.ok && future !== undefined ? futureReason(p.event, future.now(), future.maxFutureMs()) : null;
    if (p.ok && ahead === null) {
      c.head = { event: p.event, line: l.lineNo };
      return;
    }
    into.bad(p.ok ? badRecord({ file: c.file, stream: c.stream, line: l.lineNo, reason: ahead!, payload: scrubPans(l.text) }) : badRecord(p.bad));
  }
}

function badRecord(b: { file: string; stream: Stream; line: number; reason: string; payload: string }): BadRecord {
  return { source: b.file, stream: b.stream, line: b.line, partition: null, offset: null, reason: b.reason, payload: b.payload };
}
