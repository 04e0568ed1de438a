/**
 * The difference between two runs of the detector over the same events: the
 * final state of each anomaly (its highest version) under the rules in force
 * ("baseline") and under the candidate rules, compared by anomaly_id.
 *
 * An anomaly is present when its final state is not RETRACTED (a retracted
 * anomaly is one the rules, given all evidence, do not report; the batch
 * reference never lists it). Then:
 *   added    present under the candidate only
 *   removed  present under the baseline only
 *   changed  present under both, with a different cause, status or trigger
 *            (event_time, rrn, related_rrns, amount_minor)
 */
import type { Anomaly, AnomalyKind } from '../events/anomaly.js';
import { PosguardError } from '../errors.js';

/** What the diff keeps of an anomaly: enough to find it again, no evidence. */
export interface AnomalyState {
  readonly anomaly_id: string;
  readonly kind: AnomalyKind;
  readonly cause: string | null;
  readonly status: string;
  readonly version: number;
  readonly event_time: number;
  readonly terminal_id: string | null;
  readonly merchant_id: string | null;
  readonly card_token: string | null;
  readonly rrn: string | null;
  readonly amount_minor: number | null;
  readonly currency: string | null;
  readonly related_rrns: readonly string[];
}

export const DEFAULT_MAX_ANOMALIES = 1_000_000;

/**
 * The final state per anomaly_id of one run. Bounded: more than `max`
 * distinct anomalies (about 300 bytes each) stops the backtest with a clear
 * line rather than exhausting memory.
 */
export class FinalStates {
  readonly byId = new Map<string, AnomalyState>();

  constructor(private readonly label: string, private readonly max = DEFAULT_MAX_ANOMALIES) {}

  add(a: Anomaly): void {
    const prev = this.byId.get(a.anomaly_id);
    if (prev !== undefined && prev.version > a.version) return;
    if (prev === undefined && this.byId.size >= this.max) {
      throw new PosguardError('PG_USAGE', `backtest: more than ${this.max} anomalies under the ${this.label} rules; narrow the period (--from/--to)`);
    }
    this.byId.set(a.anomaly_id, {
      anomaly_id: a.anomaly_id, kind: a.kind, cause: a.cause, status: a.status, version: a.version, event_time: a.event_time,
      terminal_id: a.terminal_id, merchant_id: a.merchant_id, card_token: a.card_token, rrn: a.rrn,
      amount_minor: a.amount_minor, currency: a.currency, related_rrns: a.related_rrns,
    });
  }
}

export type Change = 'added' | 'removed' | 'changed';

export interface DiffEntry {
  readonly change: Change;
  readonly anomaly_id: string;
  readonly kind: AnomalyKind;
  /** The state under each rule set; null where the anomaly is absent (or RETRACTED). */
  readonly baseline: AnomalyState | null;
  readonly candidate: AnomalyState | null;
  /** For `changed`: the fields that differ. */
  readonly fields: readonly string[];
}

const TRIGGER_FIELDS = ['cause', 'status', 'event_time', 'rrn', 'amount_minor', 'related_rrns'] as const;

function differing(a: AnomalyState, b: AnomalyState): string[] {
  return TRIGGER_FIELDS.filter((f) => (f === 'related_rrns' ? a.related_rrns.join(',') !== b.related_rrns.join(',') : a[f] !== b[f]));
}

/** Present and inside the counted period [fromMs, toMs). */
function counted(s: AnomalyState | undefined, fromMs: number, toMs: number): AnomalyState | null {
  return s !== undefined && s.status !== 'RETRACTED' && s.event_time >= fromMs && s.event_time < toMs ? s : null;
}

/**
 * Every difference in [fromMs, toMs) by the final event_time under each rule
 * set, ordered by (event_time, kind, anomaly_id).
 */
export function diffStates(baseline: ReadonlyMap<string, AnomalyState>, candidate: ReadonlyMap<string, AnomalyState>, fromMs: number, toMs: number): DiffEntry[] {
  const out: DiffEntry[] = [];
  const ids = new Set([...baseline.keys(), ...candidate.keys()]);
  for (const id of ids) {
    const b = counted(baseline.get(id), fromMs, toMs);
    const c = counted(candidate.get(id), fromMs, toMs);
    if (b === null && c === null) continue;
    if (b === null) out.push({ change: 'added', anomaly_id: id, kind: c!.kind, baseline: null, candidate: c, fields: [] });
    else if (c === null) out.push({ change: 'removed', anomaly_id: id, kind: b.kind, baseline: b, candidate: null, fields: [] });
    else {
      const fields = differing(b, c);
      if (fields.length > 0) out.push({ change: 'changed', anomaly_id: id, kind: b.kind, baseline: b, candidate: c, fields });
    }
  }
  const time = (e: DiffEntry) => (e.baseline ?? e.candidate)!.event_time;
  return out.sort((x, y) => time(x) - time(y) || (x.kind < y.kind ? -1 : x.kind > y.kind ? 1 : 0) || (x.anomaly_id < y.anomaly_id ? -1 : 1));
}

/** Present anomalies of one run in [fromMs, toMs), per kind. */
export function countsByKind(states: ReadonlyMap<string, AnomalyState>, fromMs: number, toMs: number): Map<AnomalyKind, number> {
  const m = new Map<AnomalyKind, number>();
  for (const s of states.values()) if (counted(s, fromMs, toMs) !== null) m.set(s.kind, (m.get(s.kind) ?? 0) + 1);
  return m;
}
