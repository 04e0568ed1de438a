/**
 * Anomalies as the engine emits them: new anomalies by kind and cause (first
 * versions only, so a re-evaluation is not a new problem), every version by
 * kind and status (auto-resolutions and retractions), orphaned debits by
 * issuer for the per-issuer alert, and the money at risk in the OPEN orphans.
 *
 * Suppressed anomalies (suppressed_by set, docs/analysts-tools.md) count in
 * posguard_suppressed_anomalies_total instead of the new-anomaly counters the
 * alerts read, and their open money is its own gauge: silenced, not hidden.
 */
import { Counter, type Registry } from 'prom-client';
import type { Anomaly } from '../../events/anomaly.js';
import { OpenOrphans } from '../open-orphans.js';
import { scrapedGauge } from '../scrape.js';

export interface AnomalyMetrics {
  anomaly(a: Anomaly): void;
}

export function registerAnomalyMetrics(registry: Registry, opts: { openOrphanWindowMs?: number } = {}): AnomalyMetrics {
  const { created, versions, orphans, suppressed } = registerAnomalyCounters(registry);
  const open = new OpenOrphans(opts.openOrphanWindowMs);
  registerOpenOrphanGauges(registry, open);
  return {
    anomaly(a: Anomaly): void {
      versions.inc({ kind: a.kind, status: a.status });
      if (a.version === 1 && (a.suppressed_by ?? '') !== '') {
        suppressed.inc({ kind: a.kind, cause: a.cause ?? 'none' });
      } else if (a.version === 1) {
        created.inc({ kind: a.kind, cause: a.cause ?? 'none' });
        if (a.kind === 'ORPHAN_DEBIT') orphans.inc({ issuer_id: a.issuer_id ?? 'unknown', cause: a.cause ?? 'UNEXPLAINED' });
      }
      open.anomaly(a);
    },
  };
}

/** The four counters, in the order the exposition lists them. */
function registerAnomalyCounters(registry: Registry) {
  const created = new Counter({
    name: 'posguard_anomalies_total',
    help: 'New anomalies (version 1) by kind and cause (cause "none" for kinds without one).',
    labelNames: ['kind', 'cause'],
    registers: [registry],
  });
  const versions = new Counter({
    name: 'posguard_anomaly_versions_total',
    help: 'Anomaly versions emitted, by kind and the status they carry (OPEN, AUTO_RESOLVED, RETRACTED).',
    labelNames: ['kind', 'status'],
    registers: [registry],
  });
  const orphans = new Counter({
    name: 'posguard_orphaned_debits_total',
    help: 'New orphaned debits (ORPHAN_DEBIT version 1) by issuer and cause.',
    labelNames: ['issuer_id', 'cause'],
    registers: [registry],
  });
  const suppressed = new Counter({
    name: 'posguard_suppressed_anomalies_total',
    help: 'New anomalies (version 1) an analyst suppression covered, by kind and cause; not in posguard_anomalies_total.',
    labelNames: ['kind', 'cause'],
    registers: [registry],
  });
  return { created, versions, orphans, suppressed };
}

/** Money at risk and open orphans, summed from the open cases at each scrape. */
function registerOpenOrphanGauges(registry: Registry, open: OpenOrphans): void {
  // Each gauge sums the open cases itself (a few thousand at most): no state shared between collects.
  scrapedGauge({
    registry,
    name: 'posguard_money_at_risk_minor_units',
    help: 'Sum of the amounts of OPEN orphaned debits, by issuer and currency, in the currency\'s minor unit (cents).',
    labelNames: ['issuer_id', 'currency'],
    read: () => open.totals().map((t) => [{ issuer_id: t.issuer, currency: t.currency }, t.amountMinor] as const),
  });
  scrapedGauge({
    registry,
    name: 'posguard_open_orphaned_debits',
    help: 'OPEN orphaned debits, by issuer and currency.',
    labelNames: ['issuer_id', 'currency'],
    read: () => open.totals().map((t) => [{ issuer_id: t.issuer, currency: t.currency }, t.count] as const),
  });
  scrapedGauge({
    registry,
    name: 'posguard_suppressed_money_at_risk_minor_units',
    help: 'Sum of the amounts of OPEN orphaned debits under an analyst suppression (not in posguard_money_at_risk_minor_units), by issuer and currency.',
    labelNames: ['issuer_id', 'currency'],
    read: () => open.totals().map((t) => [{ issuer_id: t.issuer, currency: t.currency }, t.suppressedAmountMinor] as const),
  });
}
