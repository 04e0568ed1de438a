/**
 * JSONL files behind the `Sink` interface (what `posguard replay` writes):
 * anomaly versions, optional golden records, late events and dead letters,
 * each to its own `JsonlWriter`. Raw events are not kept (the input files are
 * the record of them). Line shapes are the replay format:
 * late `{stream, event}`, dead letter `{source, stream, line, reason, payload}`.
 */
import type { Anomaly } from '../events/anomaly.js';
import type { TransactionRecord } from '../events/transaction.js';
import { JsonlWriter } from './jsonl-writer.js';
import type { DeadLetter, RawEventRecord, Sink } from './types.js';

export interface JsonlSinkPaths {
  readonly anomalies: string;
  readonly deadLetters: string;
  readonly late: string;
  /** Golden records; none written when absent. */
  readonly transactions?: string;
}

export class JsonlSink implements Sink {
  readonly anomalies: JsonlWriter;
  readonly deadLetters: JsonlWriter;
  readonly late: JsonlWriter;
  readonly transactions: JsonlWriter | null;
  private readonly writers: JsonlWriter[];
  private closing: Promise<void> | null = null;

  /** Creates (truncates) the files; `open()` waits until they are writable. */
  constructor(paths: JsonlSinkPaths) {
    this.anomalies = new JsonlWriter(paths.anomalies);
    this.deadLetters = new JsonlWriter(paths.deadLetters);
    this.late = new JsonlWriter(paths.late);
    this.transactions = paths.transactions === undefined ? null : new JsonlWriter(paths.transactions);
    this.writers = [this.anomalies, this.deadLetters, this.late, ...(this.transactions ? [this.transactions] : [])];
  }

  /** Resolves once every file is open; a clear error names the one that cannot be. */
  async open(): Promise<void> {
    await Promise.all(this.writers.map((w) => w.ready()));
  }

  anomaly(a: Anomaly): void {
    this.anomalies.write(a);
  }

  transaction(t: TransactionRecord): void {
    this.transactions?.write(t);
  }

  rawEvent(): void {}

  lateEvent(r: RawEventRecord): void {
    this.late.write({ stream: r.stream, event: r.event });
  }

  deadLetter(d: DeadLetter): void {
    this.deadLetters.write({ source: d.source, stream: d.stream, line: d.line, reason: d.reason, payload: d.payload });
  }

  /** Writers whose OS-side buffer is full (the driver then awaits `drain()`). */
  backlog(): number {
    return this.writers.filter((w) => w.congested).length;
  }

  async drain(): Promise<void> {
    for (const w of this.writers) if (w.congested) await w.drain();
  }

  /** Lines reach the files at close; a JSONL file has no partial durability to wait for. */
  async flush(): Promise<void> {}

  /** Ends every file; idempotent (a second call awaits the first). */
  close(): Promise<void> {
    this.closing ??= Promise.all(this.writers.map((w) => w.close())).then(() => undefined);
    return this.closing;
  }
}
