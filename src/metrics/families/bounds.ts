/**
 * Memory bounds (docs/semantics.md, "Memory bounds"): the entries each
 * in-memory structure holds and how often one reached its cap, read from the
 * state census at scrape time. Every structure has a series from start.
 */
import type { Registry } from 'prom-client';
import { scrapedCounter, scrapedGauge, type Sample } from '../scrape.js';

/** src/util/state-census.ts StateCensus, as far as metrics read it. */
export interface StateCensusView {
  entries(): Iterable<readonly [string, number]>;
  capHits(): Iterable<readonly [string, number]>;
}

const samples = (pairs: Iterable<readonly [string, number]>): Sample[] => [...pairs].map(([structure, v]) => [{ structure }, v]);

export function registerBoundsMetrics(registry: Registry, census: () => StateCensusView | undefined): void {
  scrapedGauge({
    registry,
    name: 'posguard_state_entries',
    help: 'Entries held by each in-memory structure that grows with input (docs/semantics.md, "Memory bounds").',
    labelNames: ['structure'],
    read: () => {
      const c = census();
      return c === undefined ? undefined : samples(c.entries());
    },
  });
  scrapedCounter({
    registry,
    name: 'posguard_state_cap_hits_total',
    help: 'Times a structure reached its configured cap (the documented behaviour at the cap followed: a dead letter, backpressure or an eviction).',
    labelNames: ['structure'],
    read: () => {
      const c = census();
      return c === undefined ? undefined : samples(c.capHits());
    },
  });
}
