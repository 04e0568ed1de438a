/**
 * Keeps the final state of every anomaly seen (last version wins) and the
 * counters a run ends with; renders the end-of-run summary.
 */
import type { Anomaly } from '../events/anomaly.js';
import type { Stream } from '../events/index.js';
import type { EngineCounters } from '../engine/engine.js';

interface Final {
  version: number;
  kind: string;
  cause: string | null;
  status: string;
  amount: number | null;
  currency: string | null;
  issuer: string | null;
  suppressed: boolean;
}

export class RunSummary {
  private readonly finals = new Map<string, Final>();
  readonly bad: Record<Stream, number> = { terminal: 0, gateway: 0, bank: 0 };

  anomaly(a: Anomaly): void {
    const prev = this.finals.get(a.anomaly_id);
    if (prev && prev.version > a.version) return;
    this.finals.set(a.anomaly_id, { version: a.version, kind: a.kind, cause: a.cause, status: a.status, amount: a.amount_minor, currency: a.currency, issuer: a.issuer_id, suppressed: (a.suppressed_by ?? '') !== '' });
  }

  /** kind (and cause for orphans) → count of final states, RETRACTED apart. */
  byKind(): Map<string, number> {
    const m = new Map<string, number>();
    for (const f of this.finals.values()) {
      const k = f.status === 'RETRACTED' ? `${f.kind} (retracted)` : f.cause ? `${f.kind}/${f.cause}` : f.kind;
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return new Map([...m.entries()].sort((a, b) => a[0].localeCompare(b[0])));
  }

  /** Sum of OPEN orphaned debits per currency, minor units: those not suppressed, or (true) only the suppressed ones. */
  moneyAtRisk(suppressed = false): Map<string, number> {
    const m = new Map<string, number>();
    for (const f of this.finals.values()) {
      if (f.kind !== 'ORPHAN_DEBIT' || f.status !== 'OPEN' || f.amount === null || f.suppressed !== suppressed) continue;
      const c = f.currency ?? '???';
      m.set(c, (m.get(c) ?? 0) + f.amount);
    }
    return m;
  }

  countsByKind(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.finals.values()) if (f.status !== 'RETRACTED') out[f.kind] = (out[f.kind] ?? 0) + 1;
    return out;
  }

  render(c: EngineCounters, extra: Record<string, string | number> = {}): string {
    const lines: string[] = [];
    const row = (k: string, v: string | number) => lines.push(`  ${k.padEnd(44)} ${v}`);
    lines.push('posguard summary');
    for (const s of ['terminal', 'gateway', 'bank'] as const) {
      row(`events ${s}`, `${c.events[s]} (duplicates ${c.duplicates[s]}, late ${c.late[s]}, bad records ${this.bad[s]})`);
    }
    for (const [k, v] of Object.entries(extra)) row(k, v);
    lines.push('  anomalies (final state)');
    const kinds = this.byKind();
    if (kinds.size === 0) row('  none', '');
    for (const [k, v] of kinds) row(`  ${k}`, v);
    const money = (m: Map<string, number>) => (m.size === 0 ? '0' : [...m.entries()].map(([cur, v]) => `${(v / 100).toFixed(2)} ${cur}`).join(', '));
    row('money at risk (open orphaned debits)', money(this.moneyAtRisk()));
    const silenced = this.moneyAtRisk(true);
    if (silenced.size > 0) row('  plus in suppressed open orphaned debits', money(silenced));
    return lines.join('\n') + '\n';
  }
}
