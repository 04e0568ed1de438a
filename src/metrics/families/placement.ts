/**
 * Records that cannot be placed where they were read (docs/semantics.md,
 * "Records that cannot be placed"): records whose terminal_id does not hash
 * to the partition they came from, per input topic, and events too old to
 * change anything (older than their partition's watermark minus the
 * resolution horizon), per stream. Far-future records and wrong-partition
 * records this process cannot place are dead letters, counted in
 * posguard_dead_letters_total by their reasons.
 */
import { Counter, type Registry } from 'prom-client';
import type { Stream } from '../../events/index.js';

export interface PlacementMetrics {
  misrouted(topic: string): void;
  tooOld(stream: Stream): void;
}

export function registerPlacementMetrics(registry: Registry): PlacementMetrics {
  const misrouted = new Counter({
    name: 'posguard_misrouted_records_total',
    help: 'Input records read from a partition their terminal_id does not hash to (murmur2, Kafka\'s default partitioner), by input topic.',
    labelNames: ['topic'],
    registers: [registry],
  });
  const tooOld = new Counter({
    name: 'posguard_too_old_events_total',
    help: 'Events older than their partition\'s watermark minus the resolution horizon: kept with the late events, changing nothing, by stream.',
    labelNames: ['stream'],
    registers: [registry],
  });
  return {
    misrouted: (topic) => misrouted.inc({ topic }),
    tooOld: (stream) => tooOld.inc({ stream }),
  };
}
