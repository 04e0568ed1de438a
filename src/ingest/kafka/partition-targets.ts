/**
 * Where the Kafka source pushes, and what it asks back: the Kafka form of
 * `SourceTarget` (src/ingest/source.ts). A JSONL file has one target; Kafka
 * has one per input partition number, rebuilt at every consumer-group
 * generation, and its offsets are committed only once what they produced is
 * durable, so the source asks its targets which offsets are safe.
 *
 * Implemented by the task manager (task-manager.ts); the source never sees an
 * engine, a ledger or a sink.
 */
import type { AnyEvent, SourceRef, Stream } from '../../events/index.js';
import type { BadRecord } from '../source.js';
import type { RebuildPlan } from './rebuild.js';

/** One input partition number (terminal p, gateway p, bank p) of one generation. */
export interface PartitionTarget {
  /** First offset of `stream` not yet taken: records below it in a batch are skipped. */
  next(stream: Stream): number;
  /** A decoded event; `ref.offset` is its offset. */
  event(stream: Stream, e: AnyEvent, ref: SourceRef): void;
  /**
   * A record of this partition whose terminal belongs to another partition
   * (adopted there): logged at `offset` so the commit does not pass it while
   * the state it went into is not final (`eventTime` null: it went nowhere).
   */
  passOn(stream: Stream, offset: number, eventTime: number | null): void;
  /** An event read from another partition that belongs to this one (misrouted); false when it was too old to change anything. */
  adopt(stream: Stream, e: AnyEvent, ref: SourceRef): boolean;
  /** A record that could not be decoded (already on its way to the dead-letter topic). */
  bad(b: BadRecord & { readonly stream: Stream; readonly offset: string }): void;
  /** The batch is done: time-driven work (idle sources, foreign reversals, retractions due). */
  batchDone(): void;
  /** Largest event time read on `stream` (−∞ before any): the input alignment's measure (alignment.ts). */
  maxEventTime(stream: Stream): number;
}

/** One offset to commit, with the floor it stands for (reported to `onCommit`). */
export interface CommitEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly floor: number;
  readonly metadata: string;
}

/** The safe offsets of every held partition, taken before the outputs are flushed. */
export interface CommitPlan {
  readonly entries: readonly CommitEntry[];
  /** Called once the commit succeeded: the committed floors only grow. */
  committed(): void;
  /**
   * Still true while the generation the plan was taken in holds the partitions: checked right before the
   * commit, since a member that froze while flushing may have rejoined meanwhile, and its old plan would
   * overwrite the epoch a standby claimed in between.
   */
  current(): boolean;
}

export interface PartitionTargets {
  /** The group gave this member `partitions` in generation `gen`: start building their tasks. */
  assigned(gen: number, partitions: readonly number[]): void;
  /** Resolves once generation `gen`'s tasks exist (the source awaits it with heartbeats). */
  ready(gen: number): Promise<void>;
  /** The target of input partition `partition` in generation `gen`, or undefined (not held, stale). */
  target(gen: number, partition: number): PartitionTarget | undefined;
  /** The offsets safe to commit now, or null (nothing held, or ownership being checked). */
  commitPlan(): CommitPlan | null;
  /** Every held partition of generation `gen` has been read up to `endOf` (false while none is held). */
  reached(gen: number, endOf: (stream: Stream, partition: number) => number): boolean;
}

/** What the task manager asks of the consumer group for a rebuild (implemented by the Kafka source). */
export interface GroupOffsets {
  /** Where each partition restarts: committed offsets, floor and epoch from the commit metadata. */
  plan(partitions: readonly number[]): Promise<RebuildPlan[]>;
  /** Records the new epochs in the group's commits before anything is emitted. */
  claim(plans: readonly RebuildPlan[]): Promise<void>;
  /** Moves the fetch position of partition p of every input topic. */
  seek(partition: number, offsets: Readonly<Record<Stream, number>>): void;
  /** Waits until every dead letter published so far is acknowledged. */
  flushDeadLetters(): Promise<void>;
  /** Waits for the commit in flight, if any (an ownership check reads the commits after it). */
  commitsSettled(): Promise<void>;
}
