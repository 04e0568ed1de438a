/**
 * The one loop of posguard: a `Source` pushes records, the pipeline (engine,
 * card patterns, fault spikes) decides, a `Sink` stores. Every job (`replay`,
 * `demo`, and `run` per partition task) goes through here, so the rules for
 * bad records, backpressure and the end of input are written once:
 *
 * - an event is counted (metrics), offered to the sink as a raw event, and pushed;
 * - a bad record is counted (summary, metrics) and becomes a dead letter;
 * - between the source's chunks (`ready()`), `sink.drain()` is awaited, so a
 *   slow sink stops the input instead of growing memory;
 * - at the end of input, `engine.end()` closes every window, then the sink is
 *   flushed. After `stop()` (a signal) the windows are NOT closed: the input
 *   was cut, not ended, and deciding the attempts still open would write
 *   orphans that the rest of the input might have resolved. What was decided
 *   is flushed.
 *
 * The driver opens and closes nothing: the job owns its resources (`Resources`)
 * and closes them whatever happens here.
 */
import type { Rules } from '../config/rules.js';
import type { Anomaly } from '../events/anomaly.js';
import type { EngineCounters } from '../engine/engine.js';
import type { BadRecord, Source, SourceTarget } from '../ingest/source.js';
import type { DetectorMetrics } from '../metrics/index.js';
import type { Sink } from '../sinks/types.js';
import { Lifecycle } from './lifecycle.js';
import { createPipeline, type Pipeline } from './pipeline.js';
import { RunSummary } from './summary.js';

export interface DriverOptions {
  readonly source: Source;
  readonly sink: Sink;
  readonly rules: () => Rules;
  /** Stamps each anomaly version before it is counted and stored (suppressions). */
  readonly stamp?: (a: Anomaly) => Anomaly;
  readonly metrics?: DetectorMetrics | null;
  /** Build golden records for the sink (default true; off spares the engine the work). */
  readonly transactions?: boolean;
  /** Called between the source's chunks, before backpressure (a status line). */
  readonly onChunk?: () => void;
  /** Wall clock for dead letters' `received_at`. */
  readonly now?: () => number;
  /** The job's state (the driver moves it to running, then draining); default its own. */
  readonly lifecycle?: Lifecycle;
}

export interface DriverResult {
  readonly summary: RunSummary;
  readonly counters: EngineCounters;
  /** Events accepted (pushed into the engine). */
  readonly events: number;
  /** The reason given to `stop()` ("SIGINT"), or null when the input ended. */
  readonly stoppedBy: string | null;
  readonly seconds: number;
}

export class Driver {
  readonly lifecycle: Lifecycle;
  readonly summary = new RunSummary();
  readonly pipeline: Pipeline;
  private accepted = 0;
  private stopReason: string | null = null;
  private readonly now: () => number;

  constructor(private readonly o: DriverOptions) {
    this.now = o.now ?? Date.now;
    this.lifecycle = o.lifecycle ?? new Lifecycle('driver');
    const { sink, metrics, stamp } = o;
    const lateRef = { source: o.source.name };
    this.pipeline = createPipeline(o.rules, {
      anomaly: (found) => {
        const a = stamp ? stamp(found) : found;
        this.summary.anomaly(a);
        metrics?.anomaly(a);
        sink.anomaly(a);
      },
      transaction: o.transactions === false ? undefined : (t) => sink.transaction(t),
      late: (stream, event) => sink.lateEvent({ stream, event, ref: lateRef }),
    });
  }

  /** Events accepted so far (a status line reads it while the run goes on). */
  get events(): number {
    return this.accepted;
  }

  /** Runs the source to its end (or to `stop()`), then ends the engine and flushes the sink. */
  async run(): Promise<DriverResult> {
    const started = performance.now();
    this.lifecycle.to('running');
    await this.o.source.run(this.target());
    this.lifecycle.to('draining');
    if (this.stopReason === null) this.pipeline.engine.end();
    await this.o.sink.flush();
    return {
      summary: this.summary, counters: this.pipeline.engine.counters, events: this.accepted, stoppedBy: this.stopReason, seconds: (performance.now() - started) / 1000,
    };
  }

  /** Asks the source to stop (a signal); `run()` then drains and returns. Idempotent. */
  stop(reason: string): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason;
    this.o.source.stop();
  }

  private target(): SourceTarget {
    const { sink, metrics, onChunk } = this.o;
    const engine = this.pipeline.engine;
    return {
      event: (stream, event, ref) => {
        this.accepted++;
        metrics?.event(stream, event);
        sink.rawEvent({ stream, event, ref });
        engine.push(stream, event);
      },
      bad: (b) => this.bad(b),
      ready: async () => {
        onChunk?.();
        await sink.drain();
      },
    };
  }

  private bad(b: BadRecord): void {
    if (b.stream !== null) this.summary.bad[b.stream]++;
    this.o.metrics?.decodeError(b.stream, b.reason);
    this.o.sink.deadLetter({ ...b, received_at: this.now() });
  }
}
