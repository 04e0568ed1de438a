/**
 * Whether the input is a backlog (the checkpoint hold budget applies only
 * then, checkpointer.ts): more than BACKLOG_SECONDS of input is waiting at
 * the pace records were read over the last BACKLOG_SECONDS. Reading a
 * backlog, the lag is minutes or hours of that pace, and a barrier's hold
 * costs throughput one for one; on a live feed the lag is the last fetch or
 * two (well under a second of its pace), and a hold only delays decisions by
 * its length, so an interval barrier is never worth skipping there: skipping
 * it would let the re-read after a crash grow past two intervals.
 *
 * Memory: one sample per tick over the window (at most BACKLOG_SECONDS × 10 at
 * the runner's fastest tick, 100 ms).
 */
export const BACKLOG_SECONDS = 10;
/**
 * A backlog has ended (caughtUp) once nothing is waiting (lag 0), or once at most CAUGHT_UP_SECONDS of
 * the pace has been waiting for CAUGHT_UP_SETTLED_MS (a live feed whose lag stays a fetch or two). A
 * caught-up barrier taken earlier holds the backlog's last records for its whole capture: at 10 s of the
 * pace (the backlog line) it fired ~280,000 records before the end of the 1 h catch-up and held them
 * 10.3 s; at 1 s, ~27,000 records waited 12.0 s. Drained, it holds only what arrives during the hold.
 */
export const CAUGHT_UP_SECONDS = 1;
export const CAUGHT_UP_SETTLED_MS = 2_000;

interface Sample {
  readonly atMs: number;
  readonly records: number;
}

export class InputPace {
  private readonly samples: Sample[] = [];
  /** Wall clock the current backlog was first seen at; null while the input is not a backlog. */
  private backlogSinceMs: number | null = null;
  /** Wall clock the lag first fell to CAUGHT_UP_SECONDS of the pace (and stayed there); null above it. */
  private settledSinceMs: number | null = null;

  /** At every tick: records read so far (a running total). */
  sample(atMs: number, records: number): void {
    this.samples.push({ atMs, records });
    const oldest = atMs - BACKLOG_SECONDS * 1000;
    // Keep one sample at or before the window's start, so the pace spans the whole window.
    while (this.samples.length > 2 && this.samples[1].atMs <= oldest) this.samples.shift();
  }

  /** Records per second over the window; null before two samples. */
  perSecond(): number | null {
    if (this.samples.length < 2) return null;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    return b.atMs > a.atMs ? ((b.records - a.records) * 1000) / (b.atMs - a.atMs) : null;
  }

  /**
   * True once, at the first call that finds the input drained (lag 0, or settled at a live feed's lag: CAUGHT_UP_SECONDS) after a backlog of at least
   * `minBacklogMs` (the runner passes the checkpoint interval). The runner takes a barrier then: the
   * catch-up's barriers are spaced by the hold budget, so its last durable one may be minutes of input
   * behind, and a crash early on the live feed would re-read all of it. A backlog shorter than an
   * interval cannot push the re-read past two intervals, so it takes none (nor does a flapping lag).
   * `holding`: a barrier holds the input now. A backlog that begins inside a hold is the hold's own
   * (the live input it kept waiting) and is timed from the hold's end: on the 6 h recovery workload a
   * caught-up barrier held the live feed 63 s, the input it kept waiting counted as a backlog of over
   * an interval, and its end took a second caught-up barrier (61 s more).
   */
  caughtUp(atMs: number, lagRecords: number | null, minBacklogMs: number, holding = false): boolean {
    if (this.backlogged(lagRecords)) {
      if (!holding) this.backlogSinceMs ??= atMs;
      this.settledSinceMs = null;
      return false;
    }
    const pace = this.perSecond();
    if (lagRecords === null || pace === null || lagRecords > pace * CAUGHT_UP_SECONDS) {
      this.settledSinceMs = null;
      return false;
    }
    this.settledSinceMs ??= atMs;
    if (lagRecords > 0 && atMs - this.settledSinceMs < CAUGHT_UP_SETTLED_MS) return false;
    this.settledSinceMs = null;
    const since = this.backlogSinceMs;
    this.backlogSinceMs = null;
    return since !== null && atMs - since >= minBacklogMs;
  }

  /** True when `lagRecords` is more than BACKLOG_SECONDS of the recent pace; true too when either is unknown (a start, a rebuild: treated as a backlog). */
  backlogged(lagRecords: number | null): boolean {
    const pace = this.perSecond();
    if (lagRecords === null || pace === null) return true;
    return lagRecords > pace * BACKLOG_SECONDS;
  }
}
