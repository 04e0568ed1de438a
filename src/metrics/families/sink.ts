/**
 * The ClickHouse sink: batch write durations (from its onEvent hook, as they
 * happen) and everything else from stats() at scrape time, so the counters are
 * right even for writes made before the hook was attached.
 */
import { Histogram, type Registry } from 'prom-client';
import { scrapedCounter, scrapedGauge, single } from '../scrape.js';
import type { SinkEventView, SinkStatsView } from '../sources.js';

export interface SinkMetrics {
  /** Pass as ClickHouseSinkOptions.onEvent. */
  sinkEvent(e: SinkEventView): void;
}

export function registerSinkMetrics(registry: Registry, stats: () => SinkStatsView | undefined, now: () => number, dead: (reason: string) => void): SinkMetrics {
  const duration = new Histogram({
    name: 'posguard_sink_batch_duration_seconds',
    help: 'Time to write one batch to ClickHouse (successful inserts), by table.',
    labelNames: ['table'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  registerSinkCounters(registry, stats);
  registerSinkGauges(registry, stats, now);
  return {
    sinkEvent(e: SinkEventView): void {
      if (e.type === 'batch_written' && 'ms' in e) duration.observe({ table: e.table }, e.ms / 1000);
      else if (e.type === 'row_rejected') dead('store_refused');
      else if (e.type === 'pan_refused') dead('clear_pan');
    },
  };
}

/** Rows, batches, failures, refusals and drops, read from stats() at scrape time. */
function registerSinkCounters(registry: Registry, stats: () => SinkStatsView | undefined): void {
  scrapedCounter({
    registry,
    name: 'posguard_sink_rows_written_total',
    help: 'Rows written to ClickHouse, by table.',
    labelNames: ['table'],
    read: () => {
      const s = stats();
      return s && Object.entries(s.rowsWrittenByTable).map(([table, n]) => [{ table }, n] as const);
    },
  });
  scrapedCounter({
    registry,
    name: 'posguard_sink_batches_written_total',
    help: 'Batches written to ClickHouse.',
    read: () => single(stats()?.batchesWritten),
  });
  scrapedCounter({
    registry,
    name: 'posguard_sink_write_failures_total',
    help: 'Failed insert attempts (each retry counts); the batch is retried until it is written.',
    read: () => single(stats()?.writeFailures),
  });
  scrapedCounter({
    registry,
    name: 'posguard_sink_rows_rejected_total',
    help: 'Rows ClickHouse refused as data, moved to dead_letters.',
    read: () => single(stats()?.rowsRejected),
  });
  scrapedCounter({
    registry,
    name: 'posguard_sink_rows_refused_total',
    help: 'Rows ClickHouse refused on their own after the batch was split (data errors, a limit even one row breaks), by the table they were for; each is kept whole in dead_letters (reason store_refused).',
    labelNames: ['table'],
    read: () => {
      const by = stats()?.rowsRefusedByTable;
      return by && Object.entries(by).map(([table, n]) => [{ table }, n] as const);
    },
  });
  scrapedCounter({
    registry,
    name: 'posguard_sink_pan_refused_total',
    help: 'Records refused because a card field looked like a clear card number, moved to dead_letters.',
    read: () => single(stats()?.panRefused),
  });
  scrapedCounter({
    registry,
    name: 'posguard_sink_rows_dropped_total',
    help: 'Rows lost: dead letters ClickHouse refused, or rows buffered when the sink was aborted.',
    read: () => single(stats()?.rowsDropped),
  });
}

/** Backlog, its high-water mark and how long writes have been failing. */
function registerSinkGauges(registry: Registry, stats: () => SinkStatsView | undefined, now: () => number): void {
  scrapedGauge({
    registry,
    name: 'posguard_sink_backlog_rows',
    help: 'Rows buffered or being written.',
    read: () => single(stats()?.backlogRows),
  });
  scrapedGauge({
    registry,
    name: 'posguard_sink_high_water_rows',
    help: 'Backlog at which the input stops until the sink catches up.',
    read: () => single(stats()?.highWaterRows),
  });
  scrapedGauge({
    registry,
    name: 'posguard_sink_failing_seconds',
    help: 'How long writes have been failing without a success, seconds; 0 while writes succeed.',
    read: () => {
      const s = stats();
      if (s === undefined) return undefined;
      return single(s.failingSince === null ? 0 : Math.max(0, (now() - s.failingSince) / 1000));
    },
  });
}
