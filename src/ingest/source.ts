/**
 * What the file-like input adapters implement: JSONL files and the simulator (the Kafka
 * source pushes the same records into per-partition targets, ingest/kafka/partition-targets.ts).
 * A source pushes records into the runtime's `SourceTarget` and awaits `ready()`
 * between chunks, which is where a slow sink slows the input (backpressure)
 * instead of growing memory. Adding an input format means one file in
 * `src/ingest/` implementing `Source`, plus its test.
 */
import type { BadRecord } from '../events/bad-record.js';
import type { EventOf, SourceRef, Stream } from '../events/index.js';

export type { BadRecord } from '../events/bad-record.js';

/** Where a source pushes (the runtime's pipeline). */
export interface SourceTarget {
  event<S extends Stream>(stream: S, event: EventOf[S], ref: SourceRef): void;
  bad(b: BadRecord): void;
  /** Awaited between chunks: resolves once the sinks can take more. */
  ready(): Promise<void> | void;
}

export interface Source {
  /** Names the source in logs, dead letters and the summary ("terminal.jsonl", "simulator", "kafka"). */
  readonly name: string;
  /** Opens what the source needs (files, connections); errors here name what is wrong. */
  open(): Promise<void>;
  /** Pushes records until the end of input or `stop()`; resolves then. */
  run(into: SourceTarget): Promise<void>;
  /** Asks `run` to return early (a signal); records already pushed stay pushed. */
  stop(): void;
  /** Releases what `open` took. Idempotent. */
  close(): Promise<void>;
}
