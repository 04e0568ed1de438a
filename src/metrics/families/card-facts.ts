/**
 * Stage 2 under the spread assignment (issue 14; docs/kafka.md, "Several
 * instances"): per card-facts partition this member holds, its lag in
 * records, the frontier it has reached, how far its slowest source trails
 * the leading one, and the facts held back; the records read by result and
 * the card facts written but not yet acknowledged. Read at scrape time; no
 * series on a member that runs no stage 2 (the exact assignment).
 */
import type { Registry } from 'prom-client';
import { scrapedCounter, scrapedGauge, single, type Sample } from '../scrape.js';

export interface CardFactsPartitionView {
  readonly partition: number;
  /** Records of the partition not read yet (log end − next offset); undefined before its first batch. */
  readonly lagRecords: number | undefined;
  /** The frontier handed to the card patterns, epoch ms (−∞ until every source spoke). */
  readonly frontier: number;
  /** Leading source's frontier − slowest one's, ms (undefined while one has not spoken). */
  readonly sourceSpreadMs: number | undefined;
  readonly heldFacts: number;
}

export interface CardFactsView {
  readonly partitions: readonly CardFactsPartitionView[];
  readonly records: { readonly taken: number; readonly bad: number; readonly skipped: number };
  /** Card facts and markers handed to the producer and not acknowledged yet. */
  readonly unacknowledged: number;
}

export function registerCardFactsMetrics(registry: Registry, view: () => CardFactsView | undefined): void {
  const perPartition = (f: (p: CardFactsPartitionView) => number | undefined): Sample[] | undefined => {
    const v = view();
    if (v === undefined) return undefined;
    const out: Sample[] = [];
    for (const p of v.partitions) {
      const x = f(p);
      if (x !== undefined && Number.isFinite(x)) out.push([{ partition: String(p.partition) }, x]);
    }
    return out;
  };
  scrapedGauge({
    registry,
    name: 'posguard_card_facts_lag_records',
    help: 'Stage 2 (spread): records of a held card-facts partition not read yet.',
    labelNames: ['partition'],
    read: () => perPartition((p) => p.lagRecords),
  });
  scrapedGauge({
    registry,
    name: 'posguard_card_facts_frontier_timestamp_seconds',
    help: 'Stage 2 (spread): the frontier a held card-facts partition has handed to the card patterns (minimum over its sources), Unix seconds.',
    labelNames: ['partition'],
    read: () => perPartition((p) => p.frontier / 1000),
  });
  scrapedGauge({
    registry,
    name: 'posguard_card_facts_source_spread_seconds',
    help: 'Stage 2 (spread): how far the slowest source of a held card-facts partition trails its leading one (what holds the card patterns back).',
    labelNames: ['partition'],
    read: () => perPartition((p) => (p.sourceSpreadMs === undefined ? undefined : p.sourceSpreadMs / 1000)),
  });
  scrapedGauge({
    registry,
    name: 'posguard_card_facts_held_facts',
    help: 'Stage 2 (spread): card facts held back in a card-facts partition, waiting for a slower source.',
    labelNames: ['partition'],
    read: () => perPartition((p) => p.heldFacts),
  });
  scrapedCounter({
    registry,
    name: 'posguard_card_facts_records_total',
    help: 'Stage 2 (spread): card-facts records read, by result: taken, bad (logged with the reason, left on the topic), skipped (read again, or of a partition no longer held).',
    labelNames: ['result'],
    read: () => {
      const v = view();
      return v === undefined ? undefined : (['taken', 'bad', 'skipped'] as const).map((result) => [{ result }, v.records[result]] as const);
    },
  });
  scrapedGauge({
    registry,
    name: 'posguard_card_facts_unacknowledged',
    help: 'Stage 1 (spread): card facts and watermark markers handed to the producer and not acknowledged by the brokers yet.',
    read: () => single(view()?.unacknowledged),
  });
}
