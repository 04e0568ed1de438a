/**
 * The live-feed rules of ../shared/spec/feeds.md as a pure state machine over
 * wall-clock time (no timers, no Kafka): what it is told (records read, read
 * positions against log-end offsets, event times) and what it answers at a
 * given `now` (each stream-partition quiet, stalled or released; idle
 * partitions; the input frontier F; a stream's outage for the alert).
 *
 *   quiet     caught up (position ≥ log-end) and no record for ≥ quietAfterMs
 *   stalled   quiet while another stream of its partition is not quiet
 *   released  stalled for ≥ stallReleaseMs; stays released until the stream
 *             reads a record again (its partition goes on as if the stream
 *             were idle, anomalies carry it in feed_gaps)
 *   idle      a partition whose three streams are quiet
 *   F         max event time read on any gateway/bank stream-partition −
 *             maxDelay; while every stream-partition held is quiet it
 *             advances with the wall clock: F_at_quiet + (now − quiet_since).
 *             Never moves back.
 *
 * Memory: one entry per stream-partition held (3 × partitions), plus one
 * outage clock per stream.
 */
import { STREAMS, type Stream } from '../../events/index.js';

export type FeedStateName = 'active' | 'quiet' | 'stalled' | 'released';

export interface FeedTimes {
  readonly quietAfterMs: number;
  readonly stallReleaseMs: number;
  readonly stallAlertAfterMs: number;
}

interface StreamPartition {
  /** Wall clock of the last record read, or of taking the partition. */
  lastRecordAt: number;
  caughtUp: boolean;
  /** Carried a record since this process took the partition. */
  traffic: boolean;
  /** Wall clock of the first evaluate() that saw it stalled (null while not stalled): a release comes at most one tick late. */
  stalledSince: number | null;
  released: boolean;
}

/** What the rules say at one instant. */
export interface FeedSnapshot {
  readonly now: number;
  /** partition → stream → state. */
  readonly states: ReadonlyMap<number, Readonly<Record<Stream, FeedStateName>>>;
  /** Partitions whose three streams are quiet. */
  readonly idle: ReadonlySet<number>;
  /** partition → its released streams, in STREAMS order (empty arrays left out). */
  readonly released: ReadonlyMap<number, readonly Stream[]>;
  /** The input frontier F (event time, epoch ms; −∞ before any gateway/bank event). */
  readonly frontier: number;
  /** True while every stream-partition held is quiet. */
  readonly allQuiet: boolean;
}

const key = (p: number, s: Stream) => `${p}:${s}`;

export class FeedStates {
  private readonly parts = new Map<string, StreamPartition>();
  private readonly partitions = new Set<number>();
  private maxTrusted = -Infinity;
  private frontier = -Infinity;
  /** While all quiet: the frontier and the wall clock when that began. */
  private quietBase: { at: number; frontier: number } | null = null;
  private readonly outageSince: Record<Stream, number | null> = { terminal: null, gateway: null, bank: null };

  constructor(private readonly times: () => FeedTimes, private readonly maxDelayMs: () => number) {}

  /** This process took partition p at `now` (its streams start as not caught up, with no record). */
  take(p: number, now: number): void {
    if (this.partitions.has(p)) return;
    this.partitions.add(p);
    for (const s of STREAMS) this.parts.set(key(p, s), { lastRecordAt: now, caughtUp: false, traffic: false, stalledSince: null, released: false });
  }

  /** This process no longer holds partition p. */
  drop(p: number): void {
    if (!this.partitions.delete(p)) return;
    for (const s of STREAMS) this.parts.delete(key(p, s));
  }

  held(): ReadonlySet<number> {
    return this.partitions;
  }

  /** A record (good or bad) was read from stream-partition (p, s) at `now`. */
  record(p: number, s: Stream, now: number): void {
    const sp = this.parts.get(key(p, s));
    if (sp === undefined) return;
    sp.lastRecordAt = now;
    sp.traffic = true;
    sp.stalledSince = null;
    sp.released = false;
  }

  /** The read position of (p, s) against its log-end offset. */
  position(p: number, s: Stream, position: number, logEnd: number): void {
    const sp = this.parts.get(key(p, s));
    if (sp !== undefined) sp.caughtUp = position >= logEnd;
  }

  /** An event time read on `stream` (only gateway and bank, trusted clocks, move F). */
  eventTime(stream: Stream, t: number): void {
    if (stream !== 'terminal' && t > this.maxTrusted) this.maxTrusted = t;
  }

  /** Stream-partitions held that carried a record since taken, per stream. */
  traffic(): Record<Stream, number> {
    const n = { terminal: 0, gateway: 0, bank: 0 };
    for (const p of this.partitions) for (const s of STREAMS) if (this.parts.get(key(p, s))!.traffic) n[s]++;
    return n;
  }

  /** Applies the rules at `now` (call with a non-decreasing clock). */
  evaluate(now: number): FeedSnapshot {
    const t = this.times();
    const states = new Map<number, Record<Stream, FeedStateName>>();
    const idle = new Set<number>();
    const released = new Map<number, Stream[]>();
    let allQuiet = this.partitions.size > 0;
    let lastQuietStart = -Infinity;
    for (const p of this.partitions) {
      const sps = STREAMS.map((s) => this.parts.get(key(p, s))!);
      const quiet = sps.map((sp) => sp.caughtUp && now - sp.lastRecordAt >= t.quietAfterMs);
      const byStream = {} as Record<Stream, FeedStateName>;
      STREAMS.forEach((s, i) => {
        byStream[s] = this.streamState(sps[i], quiet[i], quiet.some((q) => !q), now, t);
        if (quiet[i]) lastQuietStart = Math.max(lastQuietStart, sps[i].lastRecordAt + t.quietAfterMs);
      });
      states.set(p, byStream);
      if (quiet.every((q) => q)) idle.add(p);
      else allQuiet = false;
      const rel = STREAMS.filter((s) => byStream[s] === 'released');
      if (rel.length > 0) released.set(p, rel);
    }
    this.advanceFrontier(now, allQuiet, lastQuietStart);
    return { now, states, idle, released, frontier: this.frontier, allQuiet };
  }

  /** One stream-partition's state; keeps its stall clock and released flag. */
  private streamState(sp: StreamPartition, quiet: boolean, otherNotQuiet: boolean, now: number, t: FeedTimes): FeedStateName {
    if (!quiet) {
      sp.stalledSince = null;
      return sp.released ? 'released' : 'active';
    }
    if (sp.released) return 'released';
    if (!otherNotQuiet) {
      sp.stalledSince = null;
      return 'quiet';
    }
    sp.stalledSince ??= now;
    if (now - sp.stalledSince >= t.stallReleaseMs) {
      sp.released = true;
      return 'released';
    }
    return 'stalled';
  }

  private advanceFrontier(now: number, allQuiet: boolean, lastQuietStart: number): void {
    const base = this.maxTrusted - this.maxDelayMs();
    let f = base;
    if (allQuiet && Number.isFinite(base)) {
      // quiet_since: when the last stream-partition became quiet (not before F had a value).
      this.quietBase ??= { at: Math.min(now, lastQuietStart), frontier: Math.max(base, this.frontier) };
      f = this.quietBase.frontier + (now - this.quietBase.at);
    } else if (!allQuiet) this.quietBase = null;
    if (f > this.frontier) this.frontier = f;
  }

  /**
   * Per stream, 1 while it has been stalled or released in more than half of
   * its traffic-carrying partitions continuously for ≥ stallAlertAfterMs.
   */
  outage(snap: FeedSnapshot): Record<Stream, 0 | 1> {
    const t = this.times();
    const out = { terminal: 0, gateway: 0, bank: 0 } as Record<Stream, 0 | 1>;
    for (const s of STREAMS) {
      let traffic = 0;
      let down = 0;
      for (const p of this.partitions) {
        const sp = this.parts.get(key(p, s))!;
        if (!sp.traffic) continue;
        traffic++;
        const st = snap.states.get(p)?.[s];
        if (st === 'stalled' || st === 'released') down++;
      }
      if (traffic === 0 || down * 2 <= traffic) {
        this.outageSince[s] = null;
        continue;
      }
      this.outageSince[s] ??= snap.now;
      if (snap.now - this.outageSince[s]! >= t.stallAlertAfterMs) out[s] = 1;
    }
    return out;
  }
}
