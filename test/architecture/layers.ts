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

/**
 * Imports against the table that are tolerated for now, each with what removes
 * it. Empty since issue 10 landed; keep it empty. The test fails on any import
 * not in the table or here, and on an entry here that no longer exists
 * ("stale allowlist entry: remove it"), so the list can only shrink.
 */
export const KNOWN_VIOLATIONS: readonly KnownViolation[] = [];
