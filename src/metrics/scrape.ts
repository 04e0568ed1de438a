/**
 * Metrics whose values live elsewhere (engine counters, sink stats) and are
 * copied in at scrape time, in collect(), as prom-client recommends for values
 * that must be fresh. Nothing is updated on the hot path.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type Labels = Record<string, string>;
/** One series: labels and value. */
export type Sample = readonly [Labels, number];

interface Def<L extends string> {
  readonly registry: Registry;
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  /** The current samples; undefined = the source is not there (no series). */
  readonly read: () => Iterable<Sample> | undefined | Promise<Iterable<Sample> | undefined>;
}

/**
 * A counter that mirrors a monotonic count kept by its owner (engine.counters,
 * sink.stats()). reset() + inc() inside collect() is synchronous with respect
 * to the scrape, so a scrape never sees a half-filled counter.
 */
export function scrapedCounter<L extends string>(d: Def<L>): Counter<L> {
  const unlabelled = (d.labelNames ?? []).length === 0;
  return new Counter<L>({
    name: d.name,
    help: d.help,
    labelNames: d.labelNames ?? [],
    registers: [d.registry],
    async collect() {
      const samples = await d.read();
      this.reset();
      // reset() leaves an unlabelled metric at 0; without a source there must be no series at all.
      if (samples === undefined) {
        if (unlabelled) this.remove();
        return;
      }
      for (const [labels, v] of samples) {
        if (Number.isFinite(v) && v >= 0) this.inc(labels as Partial<Record<L, string>>, v);
      }
    },
  });
}

/** A gauge computed at scrape time. Non-finite values are left out (no series). */
export function scrapedGauge<L extends string>(d: Def<L>): Gauge<L> {
  const unlabelled = (d.labelNames ?? []).length === 0;
  return new Gauge<L>({
    name: d.name,
    help: d.help,
    labelNames: d.labelNames ?? [],
    registers: [d.registry],
    async collect() {
      const samples = await d.read();
      this.reset();
      if (samples === undefined) {
        if (unlabelled) this.remove();
        return;
      }
      for (const [labels, v] of samples) {
        if (Number.isFinite(v)) this.set(labels as Partial<Record<L, string>>, v);
      }
    },
  });
}

/** One sample without labels, or none when the value is undefined. */
export function single(v: number | undefined): Sample[] | undefined {
  return v === undefined ? undefined : [[{}, v]];
}
