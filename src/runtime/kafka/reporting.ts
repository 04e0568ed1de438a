/**
 * Reporting of a Kafka run: the periodic status line and the views the
 * metrics read at scrape time (engineView, activeCards, sinkStats,
 * consumerLag). Read-only: it never changes the run.
 */
import type { RunConfig } from '../../config/run-config.js';
import type { RunSummary } from '../summary.js';
import { STREAMS, type Stream } from '../../events/index.js';
import type { EngineView, PartitionLag } from '../../metrics/sources.js';
import type { ClickHouseSinkStats } from '../../sinks/clickhouse/index.js';
import type { Suppressor } from '../../suppress/suppressor.js';
import type { Logger } from '../../util/log.js';
import type { KafkaSource } from '../../ingest/kafka/kafka-source.js';
import type { RunState } from './run-state.js';
import type { RunStats } from './run-stats.js';
import type { RunStore } from './run-store.js';
import type { TaskManager } from './task-manager.js';

export interface ReportingOptions {
  readonly config: RunConfig;
  readonly state: RunState;
  readonly stats: RunStats;
  readonly summary: RunSummary;
  readonly tasks: TaskManager;
  readonly source: KafkaSource;
  readonly store: RunStore;
  /** Component "run": the status line. */
  readonly log: Logger;
  readonly now: () => number;
}

export class Reporting {
  private lastStatus = { at: 0, records: 0 };

  constructor(private readonly o: ReportingOptions) {}

  /** Logs the status line when its period has passed (called by the run's tick). */
  maybeLogStatus(): void {
    const every = this.o.config.run.statusIntervalMs;
    const now = this.o.now();
    if (every <= 0 || now - this.lastStatus.at < every || this.o.state.halted) return;
    const records = this.o.stats.records;
    const rate = this.lastStatus.at === 0 ? 0 : Math.round(((records - this.lastStatus.records) * 1000) / (now - this.lastStatus.at));
    this.lastStatus = { at: now, records };
    this.o.log.info(this.statusLine(rate));
  }

  statusLine(rate: number): string {
    const tasks = this.o.tasks.tasks();
    const open = tasks.reduce((n, t) => n + t.engine.openAttempts(), 0);
    const wms = tasks.map((t) => t.engine.watermark).filter((w) => Number.isFinite(w));
    const w = wms.length > 0 ? new Date(Math.min(...wms)).toISOString() : '-';
    const kinds = Object.entries(this.o.summary.countsByKind()).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ') || 'none';
    const s = this.o.stats;
    const poison = Object.values(s.poison).reduce((a, b) => a + b, 0);
    const lag = this.lag();
    const backlog = this.o.store.backlog() ?? '-';
    return `${s.records} records (${rate}/s), lag ${lag ?? '?'}, ${poison} dead-lettered, ${s.commits} commits | partitions ${tasks.map((t) => t.partition).join(',') || '-'} | min watermark ${w} | open attempts ${open} | sink backlog ${backlog}${this.o.source.pausedForSink ? ' (paused)' : ''} | anomalies: ${kinds}`;
  }

  /**
   * Records behind the log ends of the assigned partitions: the later of the last fetch's high watermark and
   * the admin's refresh (null while neither has reported for one). The admin's is what a quiet partition has:
   * with the fetch's alone, a restore on a quiet feed showed `lag ?` for minutes, and an unknown lag counts
   * as a backlog, so the hold budget kept its first barrier waiting (5 min on the 6 h state).
   */
  lag(): number | null {
    if (!this.o.tasks.holdsState) return null;
    const topics = this.o.config.topics;
    let lag = 0;
    for (const t of this.o.tasks.tasks()) {
      for (const s of STREAMS) {
        const end = this.o.source.logEnd(topics[s], t.partition);
        if (end === undefined) {
          if (t.logs[s].next === t.logs[s].start && this.o.source.endOffset(topics[s], t.partition) === t.logs[s].start) continue;
          return null;
        }
        lag += Math.max(0, end - t.logs[s].next);
      }
    }
    return lag;
  }

  /** All partition engines as one (counters summed with those of engines retired at rebuilds, watermark the minimum). */
  engineView(): EngineView | undefined {
    if (!this.o.tasks.holdsState) return undefined;
    const tasks = this.o.tasks.tasks();
    const marks = tasks.map((t) => t.engine.watermarks());
    const minOf = (s: Stream) => (marks.length === 0 ? -Infinity : Math.min(...marks.map((m) => m[s])));
    return {
      counters: this.o.tasks.counters(),
      watermark: tasks.length === 0 ? -Infinity : Math.min(...tasks.map((t) => t.engine.watermark)),
      openAttempts: () => tasks.reduce((n, t) => n + t.engine.openAttempts(), 0),
      watermarks: () => ({ terminal: minOf('terminal'), gateway: minOf('gateway'), bank: minOf('bank') }),
    };
  }

  activeCards(): number | undefined {
    return this.o.tasks.activeCards();
  }

  /** The suppressions applied, for metrics; undefined before the store is open. */
  suppressions(): Suppressor | undefined {
    return this.o.store.suppressions();
  }

  sinkStats(): ClickHouseSinkStats | undefined {
    return this.o.store.stats();
  }

  consumerLag(): Promise<PartitionLag[]> {
    return this.o.source.consumerLag();
  }
}
