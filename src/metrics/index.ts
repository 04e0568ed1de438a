/**
 * posguard's Prometheus metrics (docs/metrics.md). createMetrics registers
 * every family on the registry it is given (never the global one, so each
 * test and each process builds its own) and returns the few entry points a
 * driver calls as records pass; everything else is read at scrape time from
 * the sources, through getters, so the metrics can be created before the
 * engine or the sink exist.
 *
 *   const registry = new Registry();
 *   const metrics = createMetrics({ registry, engine: () => pipeline?.engine, ... });
 *   const sink = new ClickHouseSink(writer, { onEvent: metrics.sinkEvent });
 *   const server = await startMetricsServer({ registry, port: 9464, ready: () => started });
 */
import type { Registry } from 'prom-client';
import type { Anomaly } from '../events/anomaly.js';
import type { AnyEvent, Stream } from '../events/index.js';
import { registerAnomalyMetrics } from './families/anomalies.js';
import { registerCheckpointMetrics } from './families/checkpoint.js';
import { registerBoundsMetrics, type StateCensusView } from './families/bounds.js';
import { registerConsumerMetrics } from './families/consumer.js';
import { registerFeedMetrics, type FeedsView } from './families/feeds.js';
import { registerCardFactsMetrics, type CardFactsView } from './families/card-facts.js';
import { registerInputMetrics } from './families/input.js';
import { registerPlacementMetrics } from './families/placement.js';
import { registerProcessMetrics } from './families/process.js';
import { registerRegistryMetrics } from './families/registry.js';
import { registerSinkMetrics } from './families/sink.js';
import { registerStateMetrics } from './families/state.js';
import { registerStreamMetrics } from './families/stream.js';
import { registerSuppressionMetrics } from './families/suppressions.js';
import { registerWatermarkMetrics } from './families/watermark.js';
import type { CardPatternsView, CheckpointEventsView, ConsumerLagSource, EngineView, SinkEventView, SinkStatsView, SuppressionsView } from './sources.js';
import { logger } from '../util/log.js';

export type { CardPatternsView, CheckpointEventsView, ConsumerLagSource, EngineView, PartitionLag, SinkEventView, SinkStatsView, SuppressionsView } from './sources.js';
export type { FeedsView } from './families/feeds.js';
export type { CardFactsView } from './families/card-facts.js';
export type { StateCensusView } from './families/bounds.js';
export { DEAD_LETTER_REASONS, deadLetterReason, type DeadLetterReason } from './dead-letter-reason.js';
export { OpenOrphans } from './open-orphans.js';
export { startMetricsServer, METRICS_DEFAULT_PORT, type MetricsServer, type MetricsServerOptions } from './server.js';

export interface MetricsOptions {
  readonly registry: Registry;
  /** The linking engine (pipeline.engine). */
  readonly engine?: () => EngineView | undefined;
  /** The card pattern detector (pipeline.cardPatterns). */
  readonly cardPatterns?: () => CardPatternsView | undefined;
  /** The ClickHouse sink's stats (sink.stats()). */
  readonly sinkStats?: () => SinkStatsView | undefined;
  /** Kafka consumer lag per topic and partition, fetched at scrape time (posguard run). */
  readonly consumerLag?: ConsumerLagSource;
  /** The analysts' suppressions the detector applies (src/suppress). */
  readonly suppressions?: () => SuppressionsView | undefined;
  /** The live-feed figures (posguard run): quiet, stalled, released stream-partitions, idle partitions, F. */
  readonly feeds?: () => FeedsView | undefined;
  /** Stage 2 over the card-facts topic (posguard run --assignment spread). */
  readonly cardFacts?: () => CardFactsView | undefined;
  /** Wall clock for lags (epoch ms). Default Date.now. */
  readonly now?: () => number;
  /** prom-client's process_* / nodejs_* defaults. Default true. */
  readonly processDefaults?: boolean;
  /** Open orphaned debits older than this (event time) leave the money-at-risk gauge. Default 24 h. */
  readonly openOrphanWindowMs?: number;
  /** Sizes and cap hits of the in-memory structures: the process's census (`stateCensus`, src/util/state-census.ts). */
  readonly census?: () => StateCensusView | undefined;
  /** Where a failing lag callback is reported. Default: one warn line per failure (the `metrics` logger). */
  readonly onError?: (e: unknown) => void;
}

/** What a driver calls as records pass. Each method is cheap and never throws for valid input. */
export interface DetectorMetrics {
  readonly registry: Registry;
  /** Every decoded event handed to the engine. */
  event(stream: Stream, e: AnyEvent): void;
  /** Every anomaly version the pipeline emits. */
  anomaly(a: Anomaly): void;
  /** An input record that could not be decoded or validated; it is also counted as a dead letter. */
  decodeError(stream: Stream | null, reason: string): void;
  /** Any other record the driver sends to dead_letters. */
  deadLetter(stream: Stream | null, reason: string): void;
  /** ClickHouseSinkOptions.onEvent. */
  sinkEvent(e: SinkEventView): void;
  /** A consumer group rebalance, with the partition numbers now held. */
  rebalance(assignedPartitions?: number): void;
  /** The checkpoint store's observer (ingest/checkpoint-store.ts CheckpointObserver). */
  readonly checkpoint: CheckpointEventsView;
  /** A record read from a partition its terminal_id does not hash to. */
  misrouted(topic: string): void;
  /** An event older than its partition's watermark minus the resolution horizon. */
  tooOld(stream: Stream): void;
  /** Schema lookups failing for lack of the registry (true), or answered again (false). */
  registryUnreachable(unreachable: boolean): void;
}

const none = () => undefined;

function lagErrorLogger(): (e: unknown) => void {
  const log = logger().child({ component: 'metrics' });
  return (e) => log.warn(`consumer lag unavailable: ${(e as Error)?.message ?? String(e)}`);
}

export function createMetrics(o: MetricsOptions): DetectorMetrics {
  const { registry } = o;
  const now = o.now ?? Date.now;
  const engine = o.engine ?? none;
  const onError = o.onError ?? lagErrorLogger();
  registerStreamMetrics(registry, engine);
  registerWatermarkMetrics(registry, engine, now);
  registerStateMetrics(registry, engine, o.cardPatterns ?? none);
  const anomalies = registerAnomalyMetrics(registry, { openOrphanWindowMs: o.openOrphanWindowMs });
  const input = registerInputMetrics(registry);
  const sink = registerSinkMetrics(registry, o.sinkStats ?? none, now, (reason) => input.deadLetter(null, reason));
  const consumer = registerConsumerMetrics(registry, o.consumerLag, onError);
  registerSuppressionMetrics(registry, o.suppressions ?? none);
  const checkpoint = registerCheckpointMetrics(registry, now);
  registerFeedMetrics(registry, o.feeds ?? none);
  registerCardFactsMetrics(registry, o.cardFacts ?? none);
  const placement = registerPlacementMetrics(registry);
  const schemaRegistry = registerRegistryMetrics(registry);
  registerBoundsMetrics(registry, o.census ?? none);
  registerProcessMetrics(registry, o.processDefaults ?? true);
  return {
    registry,
    event: input.event,
    anomaly: anomalies.anomaly,
    decodeError: input.decodeError,
    deadLetter: input.deadLetter,
    sinkEvent: sink.sinkEvent,
    rebalance: consumer.rebalance,
    checkpoint,
    misrouted: placement.misrouted,
    tooOld: placement.tooOld,
    registryUnreachable: schemaRegistry.registryUnreachable,
  };
}
