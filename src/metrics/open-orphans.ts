/**
 * The OPEN orphaned debits, kept from the anomaly versions the engine emits,
 * for the money-at-risk gauge. An orphan leaves when a later version says
 * AUTO_RESOLVED or RETRACTED, or when it is older (by event time) than the
 * window: the engine stops re-evaluating a debit after the resolution horizon
 * (24 h by default), and from then on the case belongs to the manual process
 * that works from ClickHouse (docs/runbooks.md), which keeps it for good.
 *
 * The gauge covers what this process has seen since it started; the ClickHouse
 * panel (anomalies_current) is the durable figure.
 *
 * A case whose latest version carries suppressed_by (an analyst's
 * suppression) is kept, but summed apart: it leaves the money-at-risk figure
 * that alerts and is reported as suppressed, never dropped silently.
 */
import type { Anomaly } from '../events/anomaly.js';

interface Open {
  readonly version: number;
  readonly issuer: string;
  readonly currency: string;
  readonly amount: number;
  readonly eventTime: number;
  readonly suppressed: boolean;
}

export interface RiskTotal {
  readonly issuer: string;
  readonly currency: string;
  readonly count: number;
  readonly amountMinor: number;
  /** Open cases under a suppression: not in count / amountMinor. */
  readonly suppressedCount: number;
  readonly suppressedAmountMinor: number;
}

export class OpenOrphans {
  private readonly open = new Map<string, Open>();
  /** Every issuer/currency pair that had an open case: it reports 0 afterwards rather than vanish. */
  private readonly pairs = new Map<string, { issuer: string; currency: string }>();
  /** Latest event time seen: the clock the window is measured on (event time, so replays age the same). */
  private latest = -Infinity;

  constructor(private readonly windowMs: number = 24 * 3_600_000) {}

  anomaly(a: Anomaly): void {
    if (a.kind !== 'ORPHAN_DEBIT') return;
    if (a.event_time > this.latest) this.latest = a.event_time;
    const prev = this.open.get(a.anomaly_id);
    if (prev !== undefined && prev.version > a.version) return;
    if (a.status !== 'OPEN') {
      this.open.delete(a.anomaly_id);
      return;
    }
    this.open.set(a.anomaly_id, {
      version: a.version,
      issuer: a.issuer_id ?? 'unknown',
      currency: a.currency ?? 'unknown',
      amount: a.amount_minor ?? 0,
      eventTime: a.event_time,
      suppressed: (a.suppressed_by ?? '') !== '',
    });
  }

  /** Drops cases past the window, then sums by issuer and currency. */
  totals(): RiskTotal[] {
    const cutoff = this.latest - this.windowMs;
    type Sum = { issuer: string; currency: string; count: number; amountMinor: number; suppressedCount: number; suppressedAmountMinor: number };
    const zero = { count: 0, amountMinor: 0, suppressedCount: 0, suppressedAmountMinor: 0 };
    const sums = new Map<string, Sum>();
    for (const [key, p] of this.pairs) sums.set(key, { ...p, ...zero });
    for (const [id, o] of this.open) {
      if (o.eventTime < cutoff) {
        this.open.delete(id);
        continue;
      }
      const key = `${o.issuer}\u0000${o.currency}`;
      let s = sums.get(key);
      if (s === undefined) {
        this.pairs.set(key, { issuer: o.issuer, currency: o.currency });
        sums.set(key, (s = { issuer: o.issuer, currency: o.currency, ...zero }));
      }
      if (o.suppressed) {
        s.suppressedCount++;
        s.suppressedAmountMinor += o.amount;
      } else {
        s.count++;
        s.amountMinor += o.amount;
      }
    }
    return [...sums.values()];
  }

  get size(): number {
    return this.open.size;
  }
}
