/**
 * Live feeds (../shared/spec/feeds.md; docs/kafka.md, "Live feeds"): how many
 * stream-partitions are quiet, stalled or released per stream, idle
 * partitions, the stream-partitions that carry traffic, a stream's outage
 * (what PosguardFeedStalled fires on) and the input frontier F. Read at
 * scrape time from `posguard run`'s feed rules; every stream × state series
 * exists from start (value 0), so an alert sees a silent stream as well.
 */
import type { Registry } from 'prom-client';
import { STREAMS, type Stream } from '../../events/index.js';
import { scrapedGauge, single, type Sample } from '../scrape.js';

export const FEED_STATES = ['quiet', 'stalled', 'released'] as const;

/** The feed rules' figures (src/runtime/kafka/feed-rules.ts FeedFigures), as far as metrics read them. */
export interface FeedsView {
  readonly states: Readonly<Record<Stream, Readonly<Record<(typeof FEED_STATES)[number], number>>>>;
  readonly idlePartitions: number;
  readonly trafficPartitions: Readonly<Record<Stream, number>>;
  readonly outage: Readonly<Record<Stream, number>>;
  /** F, epoch ms (−∞ before any gateway/bank event: no series). */
  readonly frontier: number;
}

export function registerFeedMetrics(registry: Registry, feeds: () => FeedsView | undefined): void {
  const perStream = (f: (v: FeedsView, s: Stream) => number): Sample[] | undefined => {
    const v = feeds();
    return v === undefined ? undefined : STREAMS.map((stream) => [{ stream }, f(v, stream)] as const);
  };
  scrapedGauge({
    registry,
    name: 'posguard_feed_partitions',
    help: 'Stream-partitions held per stream in each feed state: quiet (caught up, no record for feeds.quietAfterMs), stalled (quiet while another stream of its partition is not), released (stalled for feeds.stallReleaseMs).',
    labelNames: ['stream', 'state'],
    read: () => {
      const v = feeds();
      if (v === undefined) return undefined;
      return STREAMS.flatMap((stream) => FEED_STATES.map((state) => [{ stream, state }, v.states[stream][state]] as const));
    },
  });
  scrapedGauge({
    registry,
    name: 'posguard_idle_partitions',
    help: 'Partitions whose three streams are quiet: their watermark follows the input frontier.',
    read: () => single(feeds()?.idlePartitions),
  });
  scrapedGauge({
    registry,
    name: 'posguard_feed_traffic_partitions',
    help: 'Stream-partitions held that have carried a record since this process took them.',
    labelNames: ['stream'],
    read: () => perStream((v, s) => v.trafficPartitions[s]),
  });
  scrapedGauge({
    registry,
    name: 'posguard_feed_outage',
    help: '1 while the stream has been stalled or released in more than half of its traffic-carrying partitions for feeds.stallAlertAfterMs.',
    labelNames: ['stream'],
    read: () => perStream((v, s) => v.outage[s]),
  });
  scrapedGauge({
    registry,
    name: 'posguard_input_frontier_timestamp_seconds',
    help: 'The input frontier F (max gateway/bank event time read − max delay; advances with the wall clock while all input is quiet), Unix seconds.',
    read: () => {
      const f = feeds()?.frontier;
      return f === undefined || !Number.isFinite(f) ? undefined : single(f / 1000);
    },
  });
}
