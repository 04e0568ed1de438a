/**
 * The backtest period and the margins read around it (docs/backtest.md,
 * "Edges"). The detector needs events before the period to warm up (windows,
 * travel horizon, the UTC day an anomaly id is keyed on) and events after it
 * to decide (reversal grace, the auto-resolution horizon, clock drift and
 * delay). Events of the margins are read and pushed through the engine; only
 * anomalies whose event_time lies in [from, to) are counted.
 */
import type { Rules } from '../config/rules.js';
import { travelHorizonMs } from '../util/geo.js';
import { PosguardError } from '../errors.js';

const DAY_MS = 86_400_000;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS } as const;
const RELATIVE = /^(?:now)?\s*(?:-\s*(\d+)\s*([smhdw]))?$/;
const DURATION = /^(\d+)\s*([smhdw])$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * A period bound: ISO-8601 with a zone (2026-11-01T00:00Z), a UTC date
 * (2026-11-01 = its midnight), `now`, or relative to now (`now-7d`, `-36h`;
 * units s, m, h, d, w). Returns epoch ms; a bad value is one PG_USAGE line.
 */
export function parseTimeBound(option: string, text: string, nowMs: number): number {
  const s = text.trim();
  const rel = RELATIVE.exec(s);
  if (s !== '' && rel !== null) {
    return rel[1] === undefined ? nowMs : nowMs - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
  }
  if (ISO_DATE.test(s) || ISO_ZONED.test(s)) {
    const ms = Date.parse(ISO_DATE.test(s) ? `${s}T00:00:00Z` : s);
    if (Number.isFinite(ms)) return ms;
  }
  throw new PosguardError('PG_USAGE', `${option}: expected an ISO-8601 time with a zone (e.g. 2026-11-01T00:00Z), a date (2026-11-01), now, or now-<n><s|m|h|d|w> (e.g. now-7d), got ${JSON.stringify(text)}`);
}

/** `--warmup` / `--settle`: a whole number with a unit (90m, 36h, 2d). */
export function parseMarginMs(option: string, text: string): number {
  const m = DURATION.exec(text.trim());
  if (m === null) throw new PosguardError('PG_USAGE', `${option}: expected a duration like 90m, 36h or 2d, got ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export interface Period {
  /** Counted: anomalies with from <= event_time < to (epoch ms). */
  readonly fromMs: number;
  readonly toMs: number;
  /** Read from events_raw: [readFromMs, readToMs) by event_time. */
  readonly readFromMs: number;
  readonly readToMs: number;
}

/**
 * How far before `from` the detector must see events, under a rule set: the
 * longest window (the travel horizon, ≈ 22 h at 900 km/h, is the longest by
 * default), plus what event times may be off by (terminal drift, delay).
 */
export function warmupMs(r: Rules): number {
  const windows = Math.max(
    r.cardTesting.windowMs, r.cardVelocity.windowMs, r.terminalFaultSpike.windowMs,
    r.duplicateDebit.windowMs + r.debits.reversalGraceMs,
    r.impossibleTravel.enabled ? travelHorizonMs(r.impossibleTravel.maxSpeedKmh) : 0,
  );
  return windows + r.time.terminalMaxDriftMs + r.time.clockSkewMs + r.time.maxDelayMs;
}

/**
 * How far after `to` the detector must see events so that an anomaly of the
 * period reaches the state the full history gives it: the reversal grace
 * (decision) or the resolution horizon (a late reversal auto-resolves it),
 * plus drift, skew and delay (the watermark must pass).
 */
export function settleMs(r: Rules): number {
  return Math.max(r.debits.reversalGraceMs, r.debits.resolutionHorizonMs)
    + r.time.terminalMaxDriftMs + r.time.clockSkewMs + r.time.maxDelayMs;
}

/**
 * The read range for a period under both rule sets. The warm-up also reaches
 * back to the start of the UTC day of (from − warm-up): pattern anomaly ids
 * are keyed on (card or terminal, UTC day), so an episode earlier that day
 * decides which trigger owns the id.
 */
export function readRange(fromMs: number, toMs: number, rules: readonly Rules[], override: { warmupMs?: number; settleMs?: number } = {}): Period {
  if (!(fromMs < toMs)) {
    throw new PosguardError('PG_USAGE', `--from (${new Date(fromMs).toISOString()}) must be before --to (${new Date(toMs).toISOString()})`);
  }
  const warm = override.warmupMs ?? Math.max(...rules.map(warmupMs));
  const settle = override.settleMs ?? Math.max(...rules.map(settleMs));
  const back = fromMs - warm;
  const readFromMs = override.warmupMs === undefined ? Math.floor(back / DAY_MS) * DAY_MS : back;
  return { fromMs, toMs, readFromMs, readToMs: toMs + settle };
}
