/**
 * The analysts' suppressions as the detector holds them (src/suppress): how
 * many apply, how many the cap left out, and whether reloading them works. A
 * failing reload keeps the previous set, so only this metric and a log line
 * say that new suppressions are not being picked up.
 */
import type { Registry } from 'prom-client';
import { scrapedCounter, scrapedGauge, single } from '../scrape.js';
import type { SuppressionsView } from '../sources.js';

export function registerSuppressionMetrics(registry: Registry, source: () => SuppressionsView | undefined): void {
  scrapedGauge({
    registry,
    name: 'posguard_suppressions_active',
    help: 'Active suppressions the detector applies (at most 10,000).',
    read: () => single(source()?.stats.active),
  });
  scrapedGauge({
    registry,
    name: 'posguard_suppressions_left_out',
    help: 'Active suppressions beyond the cap, not applied.',
    read: () => single(source()?.stats.leftOut),
  });
  scrapedCounter({
    registry,
    name: 'posguard_suppression_reloads_total',
    help: 'Reloads of the active suppressions from ClickHouse, by result (ok, failed; a failure keeps the previous set).',
    labelNames: ['result'],
    read: () => {
      const s = source()?.stats;
      return s === undefined ? undefined : [[{ result: 'ok' }, s.reloads], [{ result: 'failed' }, s.reloadFailures]];
    },
  });
}
