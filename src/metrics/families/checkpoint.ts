/**
 * Checkpoints of partition state (docs/kafka.md, "Checkpoints"): fed by the
 * checkpoint store's observer as it writes and reads; the age is computed at
 * scrape time from the last durable checkpoint per partition (written, or
 * restored at start), so it keeps growing when writes stop.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { scrapedGauge } from '../scrape.js';
import type { CheckpointEventsView } from '../sources.js';

const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** 1 KiB to 1 GiB by ×4: a delta of a quiet minute to a base of a large state. */
const SEGMENT_BYTES_BUCKETS = Array.from({ length: 11 }, (_, i) => 1024 * 4 ** i);
/** 10 to 10 M by ×10 (items per barrier). */
const ITEM_BUCKETS = Array.from({ length: 7 }, (_, i) => 10 ** (i + 1));

interface Last {
  takenAtWallMs: number;
  bytes: number;
}

/** Partitions this process holds a checkpoint of: bounded by the input partition count. */
export function registerCheckpointMetrics(registry: Registry, now: () => number): CheckpointEventsView {
  const last = new Map<number, Last>();
  const duration = new Histogram({
    name: 'posguard_checkpoint_duration_seconds',
    help: 'Checkpoint operations: write (until durable: every chunk and the manifest acknowledged), read (find and verify the latest).',
    labelNames: ['operation'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const writes = new Counter({ name: 'posguard_checkpoint_writes_total', help: 'Checkpoint writes, by result (ok, failed).', labelNames: ['result'], registers: [registry] });
  const reads = new Counter({
    name: 'posguard_checkpoint_reads_total',
    help: 'Checkpoint reads, by result: ok, or why none was usable (missing, corrupt, incompatible_format, different_rules).',
    labelNames: ['result'],
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'posguard_checkpoint_skipped_total',
    help: 'Newer checkpoints a read passed over, by reason (a write that did not complete shows as corrupt).',
    labelNames: ['reason'],
    registers: [registry],
  });
  const restores = new Counter({
    name: 'posguard_checkpoint_restores_total',
    help: 'Starts, takeovers and rebalances that looked for checkpoints, by result: restored, or the reason the rebuild from offsets was used instead (missing, corrupt, incompatible_format, different_rules, mismatch, fenced, below_log_start).',
    labelNames: ['result'],
    registers: [registry],
  });
  const segment = registerSegmentHistograms(registry);
  registerLastGauges(registry, last, now);
  return {
    written(e) {
      writes.inc({ result: 'ok' });
      duration.observe({ operation: 'write' }, e.durationMs / 1000);
      last.set(e.partition, { takenAtWallMs: e.takenAtWallMs, bytes: e.bytes });
    },
    writeFailed() {
      writes.inc({ result: 'failed' });
    },
    read(e) {
      reads.inc({ result: e.result });
      duration.observe({ operation: 'read' }, e.durationMs / 1000);
      for (const r of e.skipped) skipped.inc({ reason: r });
      const prev = last.get(e.partition);
      if (e.takenAtWallMs !== null && (prev === undefined || prev.takenAtWallMs < e.takenAtWallMs)) last.set(e.partition, { takenAtWallMs: e.takenAtWallMs, bytes: e.bytes });
    },
    forget(partition) {
      last.delete(partition);
    },
    restore(result) {
      restores.inc({ result });
    },
    segment,
  };
}

/** Per durable barrier, its segment's bytes and items by kind (base or delta: STATE_FORMAT 2's chain). */
function registerSegmentHistograms(registry: Registry): CheckpointEventsView['segment'] {
  const segmentBytes = new Histogram({
    name: 'posguard_checkpoint_segment_bytes',
    help: 'Bytes of each barrier\'s segment (its item tables, deflated), by kind: base (every item) or delta (the changes since the previous barrier).',
    labelNames: ['kind'],
    buckets: SEGMENT_BYTES_BUCKETS,
    registers: [registry],
  });
  const segmentItems = new Histogram({
    name: 'posguard_checkpoint_segment_items',
    help: 'Items each barrier\'s segment holds (upserts and removes of attempts and cards), by kind: base or delta.',
    labelNames: ['kind'],
    buckets: ITEM_BUCKETS,
    registers: [registry],
  });
  return (e) => {
    segmentBytes.observe({ kind: e.kind }, e.bytes);
    segmentItems.observe({ kind: e.kind }, e.upserts + e.removes);
  };
}

/** Age and size of the latest durable checkpoint per partition, computed at scrape time. */
function registerLastGauges(registry: Registry, last: ReadonlyMap<number, Last>, now: () => number): void {
  scrapedGauge({
    registry,
    name: 'posguard_checkpoint_age_seconds',
    help: 'Wall-clock age of the latest durable checkpoint of the partition (written or restored by this process).',
    labelNames: ['partition'],
    read: () => [...last].map(([p, l]) => [{ partition: String(p) }, Math.max(0, (now() - l.takenAtWallMs) / 1000)] as const),
  });
  scrapedGauge({
    registry,
    name: 'posguard_checkpoint_size_bytes',
    help: 'Payload size of the latest durable checkpoint of the partition.',
    labelNames: ['partition'],
    read: () => [...last].map(([p, l]) => [{ partition: String(p) }, l.bytes] as const),
  });
}
