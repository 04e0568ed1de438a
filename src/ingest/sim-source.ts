/**
 * Simulated traffic (src/sim's records, in arrival order) as a `Source`,
 * optionally paced onto the wall clock: `spanMs` of simulated arrival time is
 * spread over `wallMs` of real time, so a demo's dashboards fill as they would
 * live. `wallMs` 0 pushes as fast as the sinks take it.
 *
 * Each line is parsed and validated like a file line (`source` "simulator",
 * `line` its 1-based position), so the simulator's broken lines become dead
 * letters exactly as a file's would.
 */
import type { Stream } from '../events/index.js';
import { parseLine } from './jsonl.js';
import type { Source, SourceTarget } from './source.js';

/** One simulated record: what src/sim yields (kept structural: ingest does not depend on sim). */
export interface ArrivingLine {
  readonly stream: Stream;
  readonly line: string;
  readonly arrivalMs: number;
}

export interface SimSourceOptions {
  /** Simulated span the records cover (ms of arrival time). */
  readonly spanMs: number;
  /** Real time to spread that span over; 0 = as fast as possible. */
  readonly wallMs: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Records between two pacing checks, and between two `ready()` calls (powers of two: a mask, not a division). */
const PACE_EVERY = 256;
const READY_EVERY = 1024;
/** Pacing waits shorter than this are skipped: a timer costs more than it saves. */
const MIN_WAIT_MS = 5;

export class SimSource implements Source {
  readonly name = 'simulator';
  private stopped = false;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly records: Iterable<ArrivingLine>, private readonly o: SimSourceOptions) {
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((res) => setTimeout(res, ms)));
  }

  async open(): Promise<void> {}

  async run(into: SourceTarget): Promise<void> {
    const started = this.now();
    let n = 0;
    let t0: number | null = null;
    for (const r of this.records) {
      if (this.stopped) break;
      t0 ??= r.arrivalMs;
      n++;
      if (this.o.wallMs > 0 && (n % PACE_EVERY) === 0) await this.pace(started + ((r.arrivalMs - t0) / this.o.spanMs) * this.o.wallMs);
      const p = parseLine(r.stream, this.name, n, r.line);
      if (p.ok) into.event(r.stream, p.event, { source: this.name, line: n });
      else into.bad({ source: this.name, stream: r.stream, line: n, partition: null, offset: null, reason: p.bad.reason, payload: p.bad.payload });
      if ((n % READY_EVERY) === 0) await into.ready();
    }
  }

  private async pace(dueMs: number): Promise<void> {
    const wait = dueMs - this.now();
    if (wait > MIN_WAIT_MS) await this.sleep(wait);
  }

  stop(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {}
}
