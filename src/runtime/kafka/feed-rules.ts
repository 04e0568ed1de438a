/**
 * The live-feed rules (../shared/spec/feeds.md, docs/kafka.md "Live feeds")
 * applied to the partition tasks of a Kafka run, once per tick: tells the
 * pure state machine (feed-state.ts) what was read and how far, then acts on
 * what it answers:
 *
 *   idle partition   → its three streams' watermark floors rise to F, so its
 *                      pending decisions are taken and it holds back nothing
 *                      shared (card patterns, duplicate index, commits);
 *   released stream  → that stream's floor rises to F (it stops holding its
 *                      partition) and the task stamps it in `feed_gaps`.
 *
 * Stalled streams keep holding (no decision on evidence that may be missing).
 * The engine only ever sees "raise stream S's floor to T": no wall clock.
 */
import type { RunConfig } from '../../config/run-config.js';
import type { Rules } from '../../config/rules.js';
import { STREAMS, type Stream } from '../../events/index.js';
import { commitSpans } from '../../ingest/kafka/offsets.js';
import { FeedStates, type FeedSnapshot, type FeedStateName } from './feed-state.js';
import type { PartitionTask } from './partition-task.js';

/** What the metrics read (src/metrics/families/feeds.ts). */
export interface FeedFigures {
  /** Stream-partitions per stream and state (quiet, stalled, released). */
  readonly states: Record<Stream, Record<Exclude<FeedStateName, 'active'>, number>>;
  readonly idlePartitions: number;
  readonly trafficPartitions: Record<Stream, number>;
  readonly outage: Record<Stream, 0 | 1>;
  /** F, epoch ms (−∞ before any gateway/bank event). */
  readonly frontier: number;
}

interface Held {
  readonly task: PartitionTask;
  readonly counts: Record<Stream, number>;
}

export class FeedRules {
  private readonly states: FeedStates;
  private readonly held = new Map<number, Held>();
  private last: FeedSnapshot | null = null;
  private lastOutage: Record<Stream, 0 | 1> = { terminal: 0, gateway: 0, bank: 0 };

  constructor(
    config: RunConfig,
    rules: () => Rules,
    /** The log-end offset of (stream, partition), when known. */
    private readonly logEnd: (stream: Stream, partition: number) => number | undefined,
  ) {
    this.states = new FeedStates(() => config.feeds, () => rules().time.maxDelayMs);
  }

  /** One pass of the rules over the tasks held now. */
  apply(tasks: readonly PartitionTask[], now: number): FeedSnapshot {
    this.sync(tasks, now);
    for (const { task, counts } of this.held.values()) {
      const p = task.partition;
      for (const s of STREAMS) {
        if (task.recordsRead[s] !== counts[s]) {
          counts[s] = task.recordsRead[s];
          this.states.record(p, s, now);
        }
        const end = this.logEnd(s, p);
        if (end !== undefined) this.states.position(p, s, task.logs[s].next, end);
        this.states.eventTime(s, task.maxEventTime(s));
      }
    }
    const snap = this.states.evaluate(now);
    for (const { task } of this.held.values()) this.act(task, snap);
    this.last = snap;
    this.lastOutage = this.states.outage(snap);
    return snap;
  }

  private act(task: PartitionTask, snap: FeedSnapshot): void {
    const p = task.partition;
    const released = snap.released.get(p) ?? [];
    task.feedGaps = released;
    const f = snap.frontier;
    if (!Number.isFinite(f)) return;
    const raise = snap.idle.has(p) ? STREAMS : released;
    for (const s of raise) task.engine.raiseFloor(s, f);
  }

  /** Takes new tasks (a rebuild makes new ones) and drops partitions no longer held. */
  private sync(tasks: readonly PartitionTask[], now: number): void {
    const current = new Set<number>();
    for (const t of tasks) {
      current.add(t.partition);
      const h = this.held.get(t.partition);
      if (h?.task === t) continue;
      this.states.drop(t.partition);
      this.states.take(t.partition, now);
      this.held.set(t.partition, { task: t, counts: { ...t.recordsRead } });
    }
    for (const p of [...this.held.keys()]) {
      if (current.has(p)) continue;
      this.held.delete(p);
      this.states.drop(p);
    }
  }

  /** The figures of the last pass (zeros before the first). */
  figures(): FeedFigures {
    const zero = () => ({ quiet: 0, stalled: 0, released: 0 });
    const states = { terminal: zero(), gateway: zero(), bank: zero() };
    const snap = this.last;
    if (snap !== null) {
      for (const byStream of snap.states.values()) {
        for (const s of STREAMS) {
          const st = byStream[s];
          if (st !== 'active') states[s][st]++;
        }
      }
    }
    return {
      states,
      idlePartitions: snap?.idle.size ?? 0,
      trafficPartitions: this.states.traffic(),
      outage: { ...this.lastOutage },
      frontier: snap?.frontier ?? -Infinity,
    };
  }
}

/**
 * How far below its partition's watermark a record can no longer change
 * anything (feeds.md, "Too old to matter"): the resolution horizon, or the
 * engine's retention (plus the terminal clock slack) when rules make that the
 * longer one, since an attempt still retained can still be re-decided.
 */
export function tooOldBelowMs(r: Rules): number {
  const s = commitSpans(r);
  return Math.max(s.horizonMs, s.retentionMs + s.floorSlackMs);
}
