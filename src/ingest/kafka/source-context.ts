/**
 * What the Kafka source needs from the run around it, defined on the source's
 * side so that `ingest/` imports nothing above the base: the run's state (may
 * it fetch, retry, commit?), the counters it adds to, and what it reports.
 * The runtime passes its `RunState`, `RunStats` and metrics, which have these
 * shapes (src/runtime/kafka/).
 */
import type { AnyEvent, Stream } from '../../events/index.js';
import type { PoisonKind } from './codec.js';

/** The run's state as the source reads it. */
export interface SourceRunState {
  /** No new batches are taken (draining for a stop or the end of input, or closing). */
  readonly draining: boolean;
  /** A stop was asked or the run failed: waits and retries give up. */
  readonly halted: boolean;
  /** Closing or closed: nothing is committed any more. */
  readonly closed: boolean;
}

/** The run's counters the source adds to. */
export interface SourceStats {
  records: number;
  events: number;
  poison: Record<PoisonKind, number>;
  /** Records read from a partition their terminal_id does not hash to (passed on to the owner, or dead letters `wrong_partition`). */
  misrouted: number;
  deadLettersSent: number;
  commits: number;
  /** Commits planned in a generation that ended before they were sent: dropped (kafka-source.ts). */
  staleCommitsDropped: number;
  pauses: number;
  /** Topic-partitions paused for running ahead in event time (alignment.ts). */
  alignmentPauses: number;
}

/** What the source reports (the runtime passes its metrics). */
export interface SourceReports {
  /** A record decoded and validated into an event. */
  event(stream: Stream, e: AnyEvent): void;
  /** A record that could not be decoded or validated (it goes to the dead letters). */
  decodeError(stream: Stream | null, reason: string): void;
  /** A decoded record refused as a dead letter (far-future time, wrong partition), by reason class. */
  deadLetter?(stream: Stream, reason: string): void;
  /** A record read from a partition its terminal_id does not hash to (counted per topic). */
  misrouted?(topic: string): void;
  /** A consumer group rebalance, with the number of partitions now held. */
  rebalance(assignedPartitions?: number): void;
  /** Schema lookups are failing for lack of the registry (true) or answered again (false). */
  registryUnreachable?(unreachable: boolean): void;
}

/** One partition's consumer lag and commit trail, for the gauges (lag.ts). */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Log-end offset − this process's position; null for a partition it does not hold. */
  readonly lag: number | null;
  /** Log-end offset − the group's committed offset. */
  readonly commitTrail?: number;
}
