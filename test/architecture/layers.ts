/**
 * The layers of `src/` and what each may import: the one table that
 * `imports.test.ts` enforces and docs/architecture.md ("Folders and what they
 * may import") shows. Change both together.
 *
 * Direction, top to bottom (a folder may import only what its row lists):
 *
 *   cli ─▶ runtime ─▶ the pipeline's parts: ingest · engine (─▶ detect) · detect · sinks · metrics
 *                   └▶ analyst tools: suppress · cases · labels · report · backtest · eval · sim
 *                      (some read the store through sinks; report uses cases)
 *   every layer ─▶ the base: events · config · util · errors (which imports only itself)
 *
 * A layer is the first folder under `src/` (`src/ingest/kafka/x.ts` is in
 * `ingest`); `src/errors.ts` is the layer `errors`. Type-only imports count:
 * a type names another room's layout as much as a value does.
 */

/** The base: shared vocabulary and tools. They import only each other. */
const BASE = ['events', 'config', 'util', 'errors'] as const;

export interface Layer {
  /** The folder's one job, as docs/architecture.md says it. */
  readonly job: string;
  /** Layers this one may import (besides itself). */
  readonly mayImport: readonly string[];
}

export const LAYERS: Readonly<Record<string, Layer>> = {
  // The only door in. Parses flags and calls the runtime or an analyst tool.
  // It may use an adapter's administration (create topics, migrate, run SQL),
  // never the engine, the detectors or the metrics: wiring those is runtime's job.
  cli: {
    job: 'parse flags, call runtime or an analyst tool, print the result',
    mayImport: ['runtime', 'ingest', 'sinks', 'cases', 'labels', 'suppress', 'backtest', 'eval', 'sim', 'report', ...BASE],
  },
  // Wires sources → pipeline → sinks once, owns the lifecycle; only cli calls it.
  runtime: {
    job: 'wire sources → engine → sinks once; lifecycle, backpressure, draining, closing',
    mayImport: ['ingest', 'engine', 'detect', 'sinks', 'metrics', 'report', 'cases', 'labels', 'suppress', 'backtest', 'eval', 'sim', ...BASE],
  },

  // The pipeline's parts: each knows its own job and the base, not its neighbours.
  ingest: { job: 'sources: JSONL files, Kafka partitions; validate, PAN guard, bad records', mayImport: [...BASE] },
  engine: { job: 'stage 1: event time, watermarks, linking an attempt; calls detectors', mayImport: ['detect', ...BASE] },
  detect: { job: 'one file per anomaly kind, reading an attempt through its own view', mayImport: [...BASE] },
  sinks: { job: 'outputs: JSONL, ClickHouse (tables, migrations, SQL), dead letters', mayImport: [...BASE] },
  metrics: { job: 'Prometheus families and the /metrics server', mayImport: [...BASE] },

  // Analyst tools: read the store through sinks, never the live pipeline.
  suppress: { job: 'analyst suppressions: rules file, store, the stamp on each anomaly', mayImport: ['sinks', ...BASE] },
  cases: { job: 'case files: an anomaly with its evidence, explained', mayImport: ['sinks', ...BASE] },
  labels: { job: "analysts' labels on anomalies", mayImport: ['sinks', ...BASE] },
  report: { job: 'the HTML report over stored anomalies and cases', mayImport: ['cases', 'sinks', ...BASE] },
  backtest: { job: 'diff of a rules version against stored history', mayImport: ['sinks', ...BASE] },
  // The batch reference is the independent oracle: it must share no detection code.
  eval: { job: 'batch reference of every kind, and the comparison with a run', mayImport: [...BASE] },
  // The simulator produces records; it knows the vocabulary, not the detector.
  sim: { job: 'the fault simulator: realistic streams with labelled anomalies', mayImport: [...BASE] },

  // The base.
  // events and config may import each other (the base imports only itself);
  // util and errors import nothing of the project's vocabulary.
  events: { job: 'the input and output vocabulary: streams, event types, codes', mayImport: ['config', 'util', 'errors'] },
  config: { job: 'rules and run configuration: validated once, frozen', mayImport: ['events', 'util', 'errors'] },
  util: { job: 'small shared tools: heap, logger, redaction, PAN guard, distance, private files', mayImport: ['errors'] },
  errors: { job: 'the one error type and its codes (docs/errors.md)', mayImport: [] },
};

/** `src/ingest/kafka/x.ts` → `ingest`; `src/errors.ts` → `errors`. */
export function layerOf(path: string): string {
  const inside = path.replace(/^src\//, '');
  const slash = inside.indexOf('/');
  return slash === -1 ? inside.replace(/\.ts$/, '') : inside.slice(0, slash);
}

export interface KnownViolation {
  readonly from: string;
  readonly to: string;
  /** Which restructuring removes it. */
  readonly removedBy: string;
}

const R10R = 'r10r: pipeline, summary and the replay/demo wiring move to src/runtime';
const R10K = 'r10k: runner split; Kafka job wiring to src/runtime/kafka-job.ts, ledger SQL to src/sinks/clickhouse';
const R10E_VIEW = 'r10e: detectors read an attempt through a view in src/detect; codes to src/events, uuid to src/util';
const R10E_PAN = 'r10e: the PAN guard (ingest/pan.ts) moves to src/util or src/events';
// r10e moved the haversine to src/util/geo.ts but left travelHorizonMs in detect/patterns/geo.ts.
const TRAVEL_HORIZON = 'follow-up: travelHorizonMs (a bound from the rules, no detection) moves beside MAX_DISTANCE_KM in src/util/geo.ts';

const each = (froms: readonly string[], to: string, removedBy: string): KnownViolation[] => froms.map((from) => ({ from, to, removedBy }));

/**
 * Today's imports against the table, each with what removes it. The test fails
 * on any import not in the table or here, and on an entry here that no longer
 * exists ("stale allowlist entry: remove it"), so this list can only shrink.
 * The lead empties it after merging issue 10's branches.
 */
export const KNOWN_VIOLATIONS: readonly KnownViolation[] = [
  // cli wires the pipeline itself (issue 10 part 1).
  { from: 'src/cli/commands/demo.ts', to: 'src/engine/pipeline.ts', removedBy: R10R },
  { from: 'src/cli/commands/demo.ts', to: 'src/engine/summary.ts', removedBy: R10R },
  { from: 'src/cli/commands/demo.ts', to: 'src/metrics/index.ts', removedBy: R10R },
  { from: 'src/cli/commands/replay.ts', to: 'src/engine/pipeline.ts', removedBy: R10R },
  { from: 'src/cli/commands/replay.ts', to: 'src/engine/summary.ts', removedBy: R10R },
  { from: 'src/cli/commands/run.ts', to: 'src/metrics/index.ts', removedBy: R10K },

  // The backtest builds its own pipeline: its run belongs in the runtime (a Source over stored events).
  { from: 'src/backtest/run.ts', to: 'src/engine/pipeline.ts', removedBy: `${R10R}; backtest/run.ts then goes through the runtime driver (lead: check)` },
  { from: 'src/backtest/run.ts', to: 'src/ingest/jsonl.ts', removedBy: `${R10R}; backtest/run.ts then goes through the runtime driver (lead: check)` },
  { from: 'src/backtest/period.ts', to: 'src/detect/patterns/geo.ts', removedBy: TRAVEL_HORIZON },

  // The Kafka runner builds engines and card stages, writes anomalies and reports (issue 10 part 2).
  { from: 'src/ingest/kafka/card-stage.ts', to: 'src/detect/patterns/card-patterns.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/card-stage.ts', to: 'src/detect/patterns/types.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/partition-task.ts', to: 'src/detect/patterns/fault-spike.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/partition-task.ts', to: 'src/detect/patterns/types.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/partition-task.ts', to: 'src/engine/engine.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/partition-task.ts', to: 'src/engine/shared-duplicates.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/runner.ts', to: 'src/engine/engine.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/runner.ts', to: 'src/engine/shared-duplicates.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/runner.ts', to: 'src/engine/summary.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/runner.ts', to: 'src/metrics/index.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/runner.ts', to: 'src/metrics/sources.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/runner.ts', to: 'src/sinks/clickhouse/index.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/runner.ts', to: 'src/suppress/store.ts', removedBy: R10K },
  { from: 'src/ingest/kafka/runner.ts', to: 'src/suppress/suppressor.ts', removedBy: R10K },
  // Producing simulated records to Kafka is a job (sim → Kafka), not part of the Kafka source.
  { from: 'src/ingest/kafka/producer.ts', to: 'src/sim/index.ts', removedBy: 'issue 10 part 3 (r10k or r10e): simulate-to-Kafka moves to src/runtime (lead: check)' },

  // Detectors read the engine's packed layout (issue 10 part 3).
  { from: 'src/detect/amount-mismatch.ts', to: 'src/engine/txn.ts', removedBy: R10E_VIEW },
  { from: 'src/detect/debit-facts.ts', to: 'src/engine/codes.ts', removedBy: R10E_VIEW },
  { from: 'src/detect/debit-facts.ts', to: 'src/engine/txn.ts', removedBy: R10E_VIEW },
  { from: 'src/detect/duplicate-debit.ts', to: 'src/engine/txn.ts', removedBy: R10E_VIEW },
  { from: 'src/detect/evidence.ts', to: 'src/engine/codes.ts', removedBy: R10E_VIEW },
  { from: 'src/detect/evidence.ts', to: 'src/engine/txn.ts', removedBy: R10E_VIEW },
  { from: 'src/detect/evidence.ts', to: 'src/engine/uuid.ts', removedBy: R10E_VIEW },

  // The PAN guard sits in ingest, but sinks and analyst tools mask with it too.
  ...each(
    [
      'src/cases/search.ts',
      'src/labels/labels.ts',
      'src/report/svg.ts',
      'src/sinks/clickhouse/card-data.ts',
      'src/sinks/clickhouse/query.ts',
      'src/sinks/clickhouse/sink.ts',
      'src/suppress/store.ts',
    ],
    'src/ingest/pan.ts',
    R10E_PAN,
  ),

  // Config resolves the ClickHouse target with the sink's code: the target (URL, env) is configuration.
  {
    from: 'src/config/run-config.ts',
    to: 'src/sinks/clickhouse/connection.ts',
    removedBy: 'follow-up: resolveTarget/describeTarget/ClickHouseTarget move to src/config (clickhouse-target.ts)',
  },
  // The batch reference reads anomaly files with ingest's line reader.
  { from: 'src/eval/anomaly-file.ts', to: 'src/ingest/jsonl.ts', removedBy: 'follow-up: readLines (a file tool, no validation) moves to src/util' },
];
