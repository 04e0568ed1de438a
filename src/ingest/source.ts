/**
 * What every input adapter implements: JSONL files, the simulator, Kafka partitions.
 * A source pushes records into the runtime's `SourceTarget` and awaits `ready()`
 * between chunks, which is where a slow sink slows the input (backpressure)
 * instead of growing memory. Adding an input format means one file in
 * `src/ingest/` implementing `Source`, plus its test.
 */
import type { EventOf, SourceRef, Stream } from '../events/index.js';

/** A record that could not be accepted, with its reason; the payload is PAN-masked by the source. */
export interface BadRecord {
  readonly source: string;
  readonly stream: Stream | null;
  readonly line: number | null;
  readonly partition: number | null;
  readonly offset: string | null;
  readonly reason: string;
  readonly payload: string;
}

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
