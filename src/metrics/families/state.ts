/** State size: attempts held by the linking engine and cards held by the pattern detector. */
import type { Registry } from 'prom-client';
import { scrapedGauge, single } from '../scrape.js';
import type { CardPatternsView, EngineView } from '../sources.js';

export function registerStateMetrics(registry: Registry, engine: () => EngineView | undefined, cards: () => CardPatternsView | undefined): void {
  scrapedGauge({
    registry,
    name: 'posguard_open_attempts',
    help: 'Attempts (terminal_id, stan) currently held in the engine\'s state.',
    read: () => single(engine()?.openAttempts()),
  });
  scrapedGauge({
    registry,
    name: 'posguard_active_cards',
    help: 'Cards with events inside a pattern window (card testing, velocity, impossible travel).',
    read: () => single(cards()?.activeCards()),
  });
}
