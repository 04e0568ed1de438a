/**
 * Builds the Anomaly record of a fraud-like pattern (docs/semantics.md,
 * "Fraud-like patterns"): the trigger's fields, the window's events as
 * evidence, the other events' rrns as related_rrns. Runs only when a pattern
 * fires (at most once per kind, key and day, plus a revision when a late
 * event changes it), so it may allocate freely.
 */
import { anomalyId, utcDay, type Anomaly, type AnomalyKind, type EvidenceEvent } from '../../events/anomaly.js';
import type { Severity } from '../../config/rules.js';
import type { CardFact, HardwareSignal } from './types.js';

export type CardPatternKind = Extract<AnomalyKind, 'CARD_TESTING' | 'CARD_VELOCITY' | 'IMPOSSIBLE_TRAVEL'>;

const NONE: readonly EvidenceEvent[] = Object.freeze([]);

/** A bank event as evidence: rrn, merchant, amount, and the location when it mattered. */
export function bankEvidence(f: CardFact, withLocation: boolean): EvidenceEvent {
  const detail: Record<string, string | number | null> = {
    rrn: f.rrn, merchant_id: f.merchant_id, amount_minor: f.amount_minor, currency: f.currency,
  };
  if (withLocation) {
    detail.lat = f.lat;
    detail.lon = f.lon;
  }
  return { event_id: f.event_id, event_type: f.approved ? 'AUTH_APPROVED' : 'AUTH_DECLINED', event_time: f.event_time, detail };
}

/** The rrns of the events other than the trigger (by event_id), once each, sorted. */
export function relatedRrns(trigger: CardFact, events: readonly CardFact[]): string[] {
  const s = new Set<string>();
  for (const e of events) if (e.event_id !== trigger.event_id) s.add(e.rrn);
  return [...s].sort();
}

/**
 * `events` is the evidence in (event_time, event_id) order with the trigger
 * last: the window for CARD_TESTING / CARD_VELOCITY, the conflicting earlier
 * debits plus the trigger for IMPOSSIBLE_TRAVEL.
 */
export function cardPatternAnomaly(kind: CardPatternKind, severity: Severity, trigger: CardFact, events: readonly CardFact[], version = 1): Anomaly {
  const withLocation = kind === 'IMPOSSIBLE_TRAVEL';
  return {
    anomaly_id: anomalyId(kind, `${trigger.card_token}|${utcDay(trigger.event_time)}`),
    kind,
    cause: null,
    status: 'OPEN',
    severity,
    version,
    event_time: trigger.event_time,
    detected_at: Date.now(),
    terminal_id: trigger.terminal_id,
    merchant_id: trigger.merchant_id,
    card_token: trigger.card_token,
    rrn: trigger.rrn,
    stan: trigger.stan,
    issuer_id: trigger.issuer_id,
    amount_minor: trigger.amount_minor,
    currency: trigger.currency,
    related_rrns: relatedRrns(trigger, events),
    evidence: { terminal: NONE, gateway: NONE, bank: events.map((e) => bankEvidence(e, withLocation)) },
  };
}

export function signalEvidence(s: HardwareSignal): EvidenceEvent {
  const detail: Record<string, string | number | null> = { stan: s.stan };
  if (s.failure_reason !== null) detail.failure_reason = s.failure_reason;
  if (s.fault_component !== null) detail.fault_component = s.fault_component;
  return { event_id: s.event_id, event_type: s.event_type, event_time: s.event_time, detail };
}

/** `window`: the signals in the trigger's window, in order, trigger last. Times are the terminal's clock. */
export function faultSpikeAnomaly(severity: Severity, trigger: HardwareSignal, window: readonly HardwareSignal[], version = 1): Anomaly {
  return {
    anomaly_id: anomalyId('TERMINAL_FAULT_SPIKE', `${trigger.terminal_id}|${utcDay(trigger.event_time)}`),
    kind: 'TERMINAL_FAULT_SPIKE',
    cause: null,
    status: 'OPEN',
    severity,
    version,
    event_time: trigger.event_time,
    detected_at: Date.now(),
    terminal_id: trigger.terminal_id,
    merchant_id: trigger.merchant_id,
    // Keyed by terminal; semantics.md lists card_token neither among the trigger's fields nor as the key.
    card_token: null,
    rrn: null,
    stan: trigger.stan,
    issuer_id: null,
    amount_minor: trigger.amount_minor ?? null,
    currency: trigger.currency ?? null,
    related_rrns: [], // terminal events carry no rrn
    evidence: { terminal: window.map(signalEvidence), gateway: NONE, bank: NONE },
  };
}
