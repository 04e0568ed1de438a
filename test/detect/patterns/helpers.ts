/** Hand-built facts and signals for the pattern tests. */
import { buildRules, type Rules } from '../../../src/config/rules.js';
import type { Anomaly } from '../../../src/events/anomaly.js';
import type { CardFact, HardwareSignal } from '../../../src/detect/patterns/types.js';

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** 2024-03-10T12:00:00Z: mid-day, so short scenarios stay on one UTC day. */
export const T0 = Date.UTC(2024, 2, 10, 12, 0, 0);

let seq = 0;
/** Sortable, unique ids: order by id follows creation order. */
const next = (): string => String(++seq).padStart(8, '0');

export interface FactInit {
  t: number;
  card?: string;
  merchant?: string;
  amount?: number;
  currency?: string;
  approved?: boolean;
  txn_type?: string;
  lat?: number | null;
  lon?: number | null;
  late?: boolean;
  id?: string;
  rrn?: string;
}

export function fact(p: FactInit): CardFact {
  const n = next();
  const approved = p.approved ?? true;
  const txn = p.txn_type ?? 'SALE';
  return {
    event_id: p.id ?? `ev-${n}`,
    event_time: p.t,
    rrn: p.rrn ?? `rrn${n}`,
    card_token: p.card ?? 'card-A',
    merchant_id: p.merchant ?? 'M00000000000001',
    terminal_id: 'T0000001',
    stan: n.slice(-6),
    issuer_id: 'ISS1',
    txn_type: txn,
    amount_minor: p.amount ?? 1500,
    currency: p.currency ?? 'EUR',
    approved,
    debit: approved && (txn === 'SALE' || txn === 'PREAUTH'),
    lat: p.lat === undefined ? null : p.lat,
    lon: p.lon === undefined ? null : p.lon,
    late: p.late ?? false,
  };
}

export interface SignalInit {
  t: number;
  terminal?: string;
  type?: 'DEVICE_FAULT' | 'TXN_FAILED';
  reason?: string | null;
  id?: string;
  amount?: number | null;
  currency?: string | null;
}

export function signal(p: SignalInit): HardwareSignal {
  const n = next();
  const type = p.type ?? 'DEVICE_FAULT';
  return {
    event_id: p.id ?? `sig-${n}`,
    event_time: p.t,
    terminal_id: p.terminal ?? 'T0000001',
    merchant_id: 'M00000000000001',
    stan: n.slice(-6),
    event_type: type,
    failure_reason: type === 'TXN_FAILED' ? (p.reason ?? 'CARD_READ_ERROR') : null,
    fault_component: type === 'DEVICE_FAULT' ? 'CARD_READER' : null,
    ...(p.amount !== undefined ? { amount_minor: p.amount } : {}),
    ...(p.currency !== undefined ? { currency: p.currency } : {}),
  };
}

/** Rules with only the given sections changed; every pattern enabled by default. */
export function rules(overrides: Record<string, unknown> = {}): Rules {
  return buildRules(overrides);
}

/** Only one card pattern on, so a test sees only the kind it is about. */
export function only(kind: 'cardTesting' | 'cardVelocity' | 'impossibleTravel', section: Record<string, unknown> = {}): Rules {
  // A fresh object per section: buildRules' structuredClone keeps shared references shared, and ajv would fill one section's defaults into all.
  const all: Record<string, unknown> = { cardTesting: { enabled: false }, cardVelocity: { enabled: false }, impossibleTravel: { enabled: false } };
  all[kind] = { ...section, enabled: true };
  return buildRules(all);
}

export function collector(): { out: Anomaly[]; emit: (a: Anomaly) => void } {
  const out: Anomaly[] = [];
  return { out, emit: (a) => void out.push(a) };
}

/** Deterministic shuffle (mulberry32). */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** An anomaly without its wall-clock field, for comparing runs. */
export function stable(a: Anomaly): Omit<Anomaly, 'detected_at'> {
  const { detected_at: _ignored, ...rest } = a;
  return rest;
}
