/**
 * The backtest job: one pass over events_raw (event-time order, in pages)
 * feeds two detectors built exactly as `posguard replay` builds one
 * (createPipeline), one under the rules in force and one under the candidate
 * rules. Their final anomalies are compared (src/backtest/diff.ts) and the differences
 * joined to analysts' labels. Nothing is written to ClickHouse: the
 * detectors' output stays in memory (FinalStates, bounded).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Rules } from '../config/rules.js';
import { createPipeline, type Pipeline } from './pipeline.js';
import { PosguardError } from '../errors.js';
import { STREAMS, type Stream } from '../events/index.js';
import { parseLine } from '../ingest/jsonl.js';
import { diffStates, FinalStates } from '../backtest/diff.js';
import { eventTimeBounds, readEvents, DEFAULT_PAGE_ROWS, type SourceStats } from '../backtest/events-source.js';
import { latestLabels } from '../backtest/labels.js';
import { readRange, type Period } from '../backtest/period.js';
import type { BacktestOptions, BacktestResult } from '../backtest/types.js';

const STREAM_SET = new Set<string>(STREAMS);

function detector(rules: Rules, states: FinalStates): Pipeline {
  // Same wiring as replay; no transactions or late output are needed for the diff.
  return createPipeline(() => rules, { anomaly: (a) => states.add(a) });
}

function resolvePeriod(o: BacktestOptions, data: { minMs: number; maxMs: number } | null): Period {
  const fromMs = o.fromMs ?? data?.minMs;
  const toMs = o.toMs ?? (data === null ? undefined : data.maxMs + 1);
  if (fromMs === undefined || toMs === undefined) {
    throw new PosguardError('PG_USAGE', 'backtest: events_raw holds no events and no period was given (--from/--to): nothing to backtest');
  }
  if (fromMs >= toMs && data !== null && (o.fromMs === undefined || o.toMs === undefined)) {
    const held = `events_raw holds ${new Date(data.minMs).toISOString()} .. ${new Date(data.maxMs).toISOString()}`;
    throw new PosguardError('PG_USAGE', `backtest: ${o.fromMs === undefined ? '--to is before the first event' : '--from is after the last event'} (${held}): nothing to backtest`);
  }
  return readRange(fromMs, toMs, [o.baseline, o.candidate], { warmupMs: o.warmupMs, settleMs: o.settleMs });
}

export async function runBacktest(client: ClickHouseClient, o: BacktestOptions): Promise<BacktestResult> {
  const started = performance.now();
  const data = await eventTimeBounds(client);
  const period = resolvePeriod(o, data);
  const baseline = new FinalStates('baseline', o.maxAnomalies);
  const candidate = new FinalStates('candidate', o.maxAnomalies);
  const base = detector(o.baseline, baseline).engine;
  const cand = detector(o.candidate, candidate).engine;
  const source: SourceStats = { rows: 0, pages: 0, queries: 0, readMs: 0 };
  let events = 0;
  let invalidRows = 0;
  for await (const page of readEvents(client, period.readFromMs, period.readToMs, source, o.pageRows ?? DEFAULT_PAGE_ROWS)) {
    for (const row of page) {
      const p = STREAM_SET.has(row.stream) ? parseLine(row.stream, 'events_raw', source.rows, row.payload) : null;
      if (p === null || !p.ok) {
        invalidRows++;
        continue;
      }
      events++;
      base.push(row.stream as Stream, p.event);
      cand.push(row.stream as Stream, p.event);
    }
  }
  base.end();
  cand.end();
  const entries = diffStates(baseline.byId, candidate.byId, period.fromMs, period.toMs);
  const labels = await latestLabels(client, entries.map((e) => e.anomaly_id));
  return { period, data, events, invalidRows, source, elapsedMs: performance.now() - started, baseline, candidate, entries, labels };
}
