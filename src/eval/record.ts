/**
 * Builds the reference's Anomaly records: id from docs/semantics.md "Identity",
 * version 1 and detected_at 0 (the reference emits each anomaly once, in its
 * final state, and has no wall clock), severity from the rules.
 */
import type { Rules } from '../config/rules.js';
import { anomalyId, type Anomaly, type AnomalyKind, type Evidence, type EvidenceEvent, type OrphanCause } from '../events/anomaly.js';
import type { BankEvent, GatewayEvent, TerminalEvent } from '../events/index.js';
import { byTimeThenId } from './dataset.js';

const SECTION = {
  ORPHAN_DEBIT: 'orphanDebit',
  DUPLICATE_DEBIT: 'duplicateDebit',
  AMOUNT_MISMATCH: 'amountMismatch',
  CARD_TESTING: 'cardTesting',
  CARD_VELOCITY: 'cardVelocity',
  IMPOSSIBLE_TRAVEL: 'impossibleTravel',
  TERMINAL_FAULT_SPIKE: 'terminalFaultSpike',
} as const satisfies Record<AnomalyKind, keyof Rules>;

export function kindEnabled(rules: Rules, kind: AnomalyKind): boolean {
  return rules[SECTION[kind]].enabled;
}

/** What a reference detector decides; the rest of the record (id, version, severity) is made here. */
export type AnomalyFields = Pick<
  Anomaly,
  'status' | 'event_time' | 'terminal_id' | 'merchant_id' | 'card_token' | 'rrn' | 'stan' | 'issuer_id' | 'amount_minor' | 'currency' | 'evidence'
> & {
  readonly cause?: OrphanCause | null;
  readonly related_rrns?: readonly string[];
};

export function makeAnomaly(kind: AnomalyKind, key: string, rules: Rules, f: AnomalyFields): Anomaly {
  return {
    anomaly_id: anomalyId(kind, key),
    kind,
    cause: f.cause ?? null,
    status: f.status,
    severity: rules[SECTION[kind]].severity,
    version: 1,
    event_time: f.event_time,
    detected_at: 0,
    terminal_id: f.terminal_id,
    merchant_id: f.merchant_id,
    card_token: f.card_token,
    rrn: f.rrn,
    stan: f.stan,
    issuer_id: f.issuer_id,
    amount_minor: f.amount_minor,
    currency: f.currency,
    related_rrns: sortedUnique(f.related_rrns ?? []),
    evidence: f.evidence,
  };
}

/** The fields of a debit anomaly that come from the debit's bank event; terminal_id and stan name its attempt. */
export function debitFields(debit: BankEvent, attempt: { terminal_id: string; stan: string }) {
  return {
    event_time: debit.event_time,
    terminal_id: attempt.terminal_id,
    merchant_id: debit.merchant_id,
    card_token: debit.card_token,
    rrn: debit.rrn,
    stan: attempt.stan,
    issuer_id: debit.issuer_id,
    amount_minor: debit.amount_minor,
    currency: debit.currency,
  };
}

/**
 * The bank reversal messages of a debit at t that are evidence: those up to t + horizon. Later
 * ones change no decision (docs/semantics.md, Identity: evidence), and the engine has let go of
 * the debit by then.
 */
export function reversalEvidence(events: readonly BankEvent[], t: number, horizonMs: number): BankEvent[] {
  return events.filter((e) => e.event_time - t <= horizonMs);
}

export function sortedUnique(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort();
}

type Detail = Record<string, string | number | null>;

function pick(e: object, fields: readonly string[]): Detail | undefined {
  const out: Detail = {};
  let any = false;
  for (const f of fields) {
    const v = (e as Record<string, unknown>)[f];
    if (v !== null && v !== undefined) {
      out[f] = v as string | number;
      any = true;
    }
  }
  return any ? out : undefined;
}

const TERMINAL_DETAIL = ['terminal_id', 'stan', 'orig_stan', 'response_code', 'failure_reason', 'fault_component', 'amount_minor', 'currency', 'lat', 'lon'] as const;
const GATEWAY_DETAIL = ['rrn', 'orig_rrn', 'stan', 'response_code'] as const;
const BANK_DETAIL = ['rrn', 'orig_rrn', 'merchant_id', 'response_code', 'amount_minor', 'currency'] as const;

function toEvidence(events: Iterable<TerminalEvent | GatewayEvent | BankEvent>, fields: readonly string[]): EvidenceEvent[] {
  const byId = new Map<string, TerminalEvent | GatewayEvent | BankEvent>();
  for (const e of events) if (!byId.has(e.event_id)) byId.set(e.event_id, e);
  return [...byId.values()].sort(byTimeThenId).map((e) => {
    const detail = pick(e, fields);
    return detail === undefined
      ? { event_id: e.event_id, event_type: e.event_type, event_time: e.event_time }
      : { event_id: e.event_id, event_type: e.event_type, event_time: e.event_time, detail };
  });
}

/** Evidence per stream, each list deduplicated by event_id and in order. */
export function evidence(parts: { terminal?: Iterable<TerminalEvent>; gateway?: Iterable<GatewayEvent>; bank?: Iterable<BankEvent> }): Evidence {
  return {
    terminal: toEvidence(parts.terminal ?? [], TERMINAL_DETAIL),
    gateway: toEvidence(parts.gateway ?? [], GATEWAY_DETAIL),
    bank: toEvidence(parts.bank ?? [], BANK_DETAIL),
  };
}
