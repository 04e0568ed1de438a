/**
 * Input per stream, read from the engine's counters at scrape time: events
 * consumed, duplicates, late and too-late events; plus linking conflicts and
 * debit decisions taken.
 */
import type { Registry } from 'prom-client';
import { STREAMS, type Stream } from '../../events/index.js';
import { scrapedCounter, single, type Sample } from '../scrape.js';
import type { EngineView } from '../sources.js';

function perStream(counts: Readonly<Record<Stream, number>>): Sample[] {
  return STREAMS.map((stream) => [{ stream }, counts[stream]] as const);
}

export function registerStreamMetrics(registry: Registry, engine: () => EngineView | undefined): void {
  scrapedCounter({
    registry,
    name: 'posguard_events_consumed_total',
    help: 'Events decoded and handed to the engine, per stream (redeliveries included).',
    labelNames: ['stream'],
    read: () => { const e = engine(); return e && perStream(e.counters.events); },
  });
  scrapedCounter({
    registry,
    name: 'posguard_duplicate_events_total',
    help: 'Events whose event_id was already seen (redeliveries); they change nothing.',
    labelNames: ['stream'],
    read: () => { const e = engine(); return e && perStream(e.counters.duplicates); },
  });
  scrapedCounter({
    registry,
    name: 'posguard_late_events_total',
    help: 'Events that arrived after the watermark had passed them (still applied where state is held).',
    labelNames: ['stream'],
    read: () => { const e = engine(); return e && perStream(e.counters.late); },
  });
  scrapedCounter({
    registry,
    name: 'posguard_too_late_events_total',
    help: 'Late events older than any state still held: recorded in late_events, applied to nothing.',
    labelNames: ['stream'],
    read: () => { const e = engine(); return e && perStream(e.counters.tooLate); },
  });
  scrapedCounter({
    registry,
    name: 'posguard_link_conflicts_total',
    help: 'Events whose rrn and (terminal_id, stan) point at different attempts; the first link is kept.',
    read: () => single(engine()?.counters.linkConflicts),
  });
  scrapedCounter({
    registry,
    name: 'posguard_debit_decisions_total',
    help: 'Debits decided (the watermark passed debit time + reversal grace).',
    read: () => single(engine()?.counters.decisions),
  });
}
