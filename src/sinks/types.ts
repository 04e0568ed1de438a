/** What the engine produces and every sink (JSONL, ClickHouse, memory) receives. */
import type { Anomaly } from '../events/anomaly.js';
import type { BadRecord } from '../events/bad-record.js';
import type { TransactionRecord } from '../events/transaction.js';
import type { AnyEvent, SourceRef, Stream } from '../events/index.js';

/** A record that could not be accepted, kept with its reason (payload PAN-scrubbed), as a sink stores it. */
export interface DeadLetter extends BadRecord {
  /** Wall clock when it was rejected (epoch ms). */
  readonly received_at: number;
}

export interface RawEventRecord {
  readonly stream: Stream;
  readonly event: AnyEvent;
  readonly ref: SourceRef | null;
}

/**
 * Sinks take records synchronously (cheap: they buffer) and write in batches.
 * The driver calls `drain()` when `backlog()` is high, which is how a slow sink
 * slows the input instead of growing memory.
 */
export interface Sink {
  anomaly(a: Anomaly): void;
  transaction(t: TransactionRecord): void;
  rawEvent(r: RawEventRecord): void;
  lateEvent(r: RawEventRecord): void;
  deadLetter(d: DeadLetter): void;
  /** Rows buffered and not yet durable. */
  backlog(): number;
  /** Resolves once the backlog is below the sink's high-water mark. */
  drain(): Promise<void>;
  /** Writes everything buffered; resolves when durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
