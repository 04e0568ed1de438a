/**
 * Where a decoded Kafka record goes (../shared/spec/feeds.md, "Records that
 * cannot be placed"; docs/kafka.md, "Records that cannot be placed"):
 *
 *  - stamped more than `rules.time.maxFutureMs` ahead of the wall clock: a dead
 *    letter `event_time_in_future` (it would move its partition's watermark
 *    and pin its commit until the wall clock caught up);
 *  - its terminal_id hashes (murmur2, Kafka's default partitioner) to another
 *    partition than the one it was read from: counted per topic; handed to the
 *    partition that owns its terminal when this process holds it, else a dead
 *    letter `wrong_partition`;
 *  - otherwise: its own partition.
 */
import type { AnyEvent } from '../../events/index.js';
import { EVENT_TIME_IN_FUTURE, WRONG_PARTITION, futureReason, type FutureBound } from '../placement.js';
import { TerminalPartitions, wrongPartitionReason } from './partitioner.js';

export type Placed =
  | { readonly to: 'here' }
  | { readonly to: 'owner'; readonly owner: number }
  | { readonly to: 'dead-letter'; readonly kind: typeof EVENT_TIME_IN_FUTURE | typeof WRONG_PARTITION; readonly reason: string };

const HERE: Placed = { to: 'here' };

export interface PlacementOptions {
  /** Wall clock and max_future; absent: no far-future check. */
  readonly future?: FutureBound;
  /** Partitions per input topic (co-partitioned: one count); 1: no partition check. */
  readonly partitions: number;
}

export class RecordPlacement {
  private readonly owners: TerminalPartitions;

  constructor(private readonly o: PlacementOptions) {
    this.owners = new TerminalPartitions(o.partitions);
  }

  /**
   * Where `e`, read from `partition`, goes. `held(p)`: this process holds
   * input partition p in the current generation.
   */
  place(e: AnyEvent, partition: number, held: (p: number) => boolean): Placed {
    const f = this.o.future;
    if (f !== undefined) {
      const reason = futureReason(e, f.now(), f.maxFutureMs());
      if (reason !== null) return { to: 'dead-letter', kind: EVENT_TIME_IN_FUTURE, reason };
    }
    if (this.o.partitions <= 1) return HERE;
    const owner = this.owners.of(e);
    if (owner === partition) return HERE;
    if (held(owner)) return { to: 'owner', owner };
    return { to: 'dead-letter', kind: WRONG_PARTITION, reason: wrongPartitionReason(e, partition, owner) };
  }
}
