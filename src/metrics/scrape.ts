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
 * Refills `metric` from `d.read()` at scrape time. reset() and the refill run
 * inside collect(), synchronous with respect to the scrape, so a scrape never
 * sees a half-filled metric. reset() leaves an unlabelled metric at 0; without
 * a source there must be no series at all, so it is removed.
 */
async function refill<L extends string, M extends Counter<L> | Gauge<L>>(metric: M, d: Def<L>, put: (labels: Partial<Record<L, string>>, v: number) => void): Promise<void> {
  const samples = await d.read();
  metric.reset();
  if (samples === undefined) {
    if ((d.labelNames ?? []).length === 0) metric.remove();
    return;
  }
  for (const [labels, v] of samples) put(labels as Partial<Record<L, string>>, v);
}

/** A counter that mirrors a monotonic count kept by its owner (engine.counters, sink.stats()). */
export function scrapedCounter<L extends string>(d: Def<L>): Counter<L> {
  return new Counter<L>({
    name: d.name,
    help: d.help,
    labelNames: d.labelNames ?? [],
    registers: [d.registry],
    async collect() {
      await refill(this, d, (labels, v) => {
        if (Number.isFinite(v) && v >= 0) this.inc(labels, v);
      });
    },
  });
}

/** A gauge computed at scrape time. Non-finite values are left out (no series). */
export function scrapedGauge<L extends string>(d: Def<L>): Gauge<L> {
  return new Gauge<L>({
    name: d.name,
    help: d.help,
    labelNames: d.labelNames ?? [],
    registers: [d.registry],
    async collect() {
      await refill(this, d, (labels, v) => {
        if (Number.isFinite(v)) this.set(labels, v);
      });
    },
  });
}

/** One sample without labels, or none when the value is undefined. */
export function single(v: number | undefined): Sample[] | undefined {
  return v === undefined ? undefined : [[{}, v]];
}
