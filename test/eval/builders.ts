/**
 * Test event builders: terminal, gateway and bank events that pass the input
 * contract (src/ingest/validate.ts), with sensible defaults and per-event
 * overrides. Each EventBuilder has its own id counter and records what it built
 * per stream, so ids are deterministic per test and nothing leaks between tests.
 *
 *   const b = new EventBuilder();
 *   b.attempt({ t: T0, stan: '000001', rrn: 'RRN000000001', omit: ['TXN_COMPLETED'] });
 *   b.bank('REVERSAL_APPLIED', { event_time: T0 + 400 * SEC });  // orig_rrn defaults to the context rrn
 *   referenceAnomalies(b.streams(), DEFAULT_RULES);
 */
import type {
  BankEvent, BankEventType, GatewayEvent, GatewayEventType, Network, TerminalEvent, TerminalEventType, TxnType,
} from '../../src/events/index.js';

export const SEC = 1_000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** 2024-03-01T12:00:00Z: a default base time, mid-day so a few hours either way stay on one UTC day. */
export const T0 = Date.UTC(2024, 2, 1, 12, 0, 0);

/** Deterministic, valid UUID (v4 layout) for counter value n. */
export function uuidFor(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Default values shared by the events of one attempt. Every field has the contract's length/format. */
export interface AttemptContext {
  readonly terminal_id: string; // 8 chars
  readonly merchant_id: string; // 15 chars
  readonly stan: string; // 6 digits
  readonly rrn: string; // 12 chars
  readonly card_token: string;
  readonly amount_minor: number;
  readonly currency: string;
  readonly txn_type: TxnType;
  readonly issuer_id: string;
  readonly network: Network;
  readonly account_ref: string;
}

export const DEFAULT_CONTEXT: AttemptContext = {
  terminal_id: 'TERM0001',
  merchant_id: 'MERCHANT0000001',
  stan: '000001',
  rrn: 'RRN000000001',
  card_token: 'tok_card_A',
  amount_minor: 1_500,
  currency: 'EUR',
  txn_type: 'SALE',
  issuer_id: 'ISS001',
  network: 'VISA',
  account_ref: 'acct_hash_A',
};

/** A reversal message's own rrn, derived from the original's ('RRN000000001' -> 'REV000000001'). */
export function reversalRrn(rrn: string): string {
  return 'REV' + rrn.slice(3);
}

/** A reversal message's own stan, derived from the original's (+500000, wrapping). */
export function reversalStan(stan: string): string {
  return String((Number(stan) + 500_000) % 1_000_000).padStart(6, '0');
}

export interface Streams {
  terminal: TerminalEvent[];
  gateway: GatewayEvent[];
  bank: BankEvent[];
}

/** The steps of a normal approved sale, in the order they happen. */
export const ATTEMPT_STEPS = [
  'TXN_STARTED', 'REQUEST_SENT', 'REQUEST_RECEIVED', 'FORWARDED_TO_ISSUER', 'AUTH_APPROVED',
  'ISSUER_RESPONSE', 'RESPONSE_SENT', 'RESPONSE_RECEIVED', 'TXN_COMPLETED',
] as const;
export type AttemptStep = (typeof ATTEMPT_STEPS)[number];

/** Offsets from the bank debit time t, in true time. */
export const STEP_OFFSET_MS: Readonly<Record<AttemptStep, number>> = {
  TXN_STARTED: -3_000,
  REQUEST_SENT: -2_500,
  REQUEST_RECEIVED: -2_000,
  FORWARDED_TO_ISSUER: -1_500,
  AUTH_APPROVED: 0,
  ISSUER_RESPONSE: 500,
  RESPONSE_SENT: 1_000,
  RESPONSE_RECEIVED: 1_500,
  TXN_COMPLETED: 2_000,
};

export interface AttemptOptions extends Partial<AttemptContext> {
  /** Bank time of the AUTH_APPROVED (the debit). Other steps are placed around it (STEP_OFFSET_MS). */
  readonly t: number;
  /** Added to every terminal event_time: a terminal clock that is fast (> 0) or slow (< 0). */
  readonly terminalSkewMs?: number;
  /** Steps not to emit. */
  readonly omit?: readonly AttemptStep[];
  /** Location on TXN_STARTED (default none). */
  readonly lat?: number | null;
  readonly lon?: number | null;
}

export type AttemptEvents = {
  [K in AttemptStep]?: K extends 'TXN_STARTED' | 'REQUEST_SENT' | 'RESPONSE_RECEIVED' | 'TXN_COMPLETED' ? TerminalEvent
    : K extends 'AUTH_APPROVED' ? BankEvent : GatewayEvent;
};

export class EventBuilder {
  private n: number;
  private readonly recorded: Streams = { terminal: [], gateway: [], bank: [] };
  readonly ctx: AttemptContext;

  constructor(ctx: Partial<AttemptContext> = {}, opts: { firstId?: number } = {}) {
    this.ctx = { ...DEFAULT_CONTEXT, ...ctx };
    this.n = (opts.firstId ?? 1) - 1;
  }

  nextId(): string {
    return uuidFor(++this.n);
  }

  /** A terminal event, recorded. DEVICE_FAULT gets null transaction fields and a fault_component. */
  terminal(event_type: TerminalEventType, overrides: Partial<TerminalEvent> = {}): TerminalEvent {
    return this.terminalIn(this.ctx, event_type, overrides);
  }

  /** A gateway event, recorded. Reversal events get their own rrn and orig_rrn = the context rrn. */
  gateway(event_type: GatewayEventType, overrides: Partial<GatewayEvent> = {}): GatewayEvent {
    return this.gatewayIn(this.ctx, event_type, overrides);
  }

  /** A bank event, recorded. Reversal/refund events get their own rrn and orig_rrn = the context rrn. */
  bank(event_type: BankEventType, overrides: Partial<BankEvent> = {}): BankEvent {
    return this.bankIn(this.ctx, event_type, overrides);
  }

  private terminalIn(c: AttemptContext, event_type: TerminalEventType, overrides: Partial<TerminalEvent>): TerminalEvent {
    const fault = event_type === 'DEVICE_FAULT';
    const e: TerminalEvent = {
      event_id: this.nextId(),
      event_time: T0,
      terminal_id: c.terminal_id,
      merchant_id: c.merchant_id,
      stan: event_type === 'REVERSAL_SENT' ? reversalStan(overrides.orig_stan ?? c.stan) : c.stan,
      event_type,
      txn_type: fault ? null : c.txn_type,
      amount_minor: fault ? null : c.amount_minor,
      currency: fault ? null : c.currency,
      card_token: fault ? null : c.card_token,
      masked_pan: null,
      entry_mode: event_type === 'TXN_STARTED' ? 'CHIP' : null,
      response_code: event_type === 'TXN_COMPLETED' || event_type === 'RESPONSE_RECEIVED' ? '00' : null,
      failure_reason: event_type === 'TXN_FAILED' ? 'TIMEOUT' : null,
      fault_component: fault ? 'CARD_READER' : null,
      orig_stan: event_type === 'REVERSAL_SENT' ? c.stan : null,
      lat: null,
      lon: null,
      ...overrides,
    };
    this.recorded.terminal.push(e);
    return e;
  }

  private gatewayIn(c: AttemptContext, event_type: GatewayEventType, overrides: Partial<GatewayEvent>): GatewayEvent {
    const reversal = event_type.startsWith('REVERSAL_');
    const orig = overrides.orig_rrn ?? c.rrn;
    const e: GatewayEvent = {
      event_id: this.nextId(),
      event_time: T0,
      terminal_id: c.terminal_id,
      merchant_id: c.merchant_id,
      stan: c.stan,
      event_type,
      rrn: reversal ? reversalRrn(orig) : c.rrn,
      txn_type: c.txn_type,
      amount_minor: c.amount_minor,
      currency: c.currency,
      card_token: c.card_token,
      issuer_id: c.issuer_id,
      network: c.network,
      response_code: event_type === 'ISSUER_RESPONSE' || event_type === 'RESPONSE_SENT' || event_type === 'REVERSAL_RESPONSE' ? '00' : null,
      latency_ms: event_type === 'ISSUER_RESPONSE' ? 450 : null,
      orig_rrn: reversal ? orig : null,
      ...overrides,
    };
    this.recorded.gateway.push(e);
    return e;
  }

  private bankIn(c: AttemptContext, event_type: BankEventType, overrides: Partial<BankEvent>): BankEvent {
    const reversal = event_type === 'REVERSAL_APPLIED' || event_type === 'REVERSAL_REJECTED' || event_type === 'REFUND_POSTED';
    const orig = overrides.orig_rrn ?? c.rrn;
    const responseCode: Record<BankEventType, string> = {
      AUTH_APPROVED: '00', AUTH_DECLINED: '05', REVERSAL_APPLIED: '00', REVERSAL_REJECTED: '12', REFUND_POSTED: '00',
    };
    const e: BankEvent = {
      event_id: this.nextId(),
      event_time: T0,
      terminal_id: c.terminal_id,
      merchant_id: c.merchant_id,
      stan: c.stan,
      event_type,
      rrn: reversal ? reversalRrn(orig) : c.rrn,
      txn_type: c.txn_type,
      amount_minor: c.amount_minor,
      currency: c.currency,
      card_token: c.card_token,
      issuer_id: c.issuer_id,
      account_ref: c.account_ref,
      auth_code: event_type === 'AUTH_APPROVED' ? 'A1B2C3' : null,
      response_code: responseCode[event_type],
      orig_rrn: reversal ? orig : null,
      ...overrides,
    };
    this.recorded.bank.push(e);
    return e;
  }

  /** Records an identical copy of `e` (same event_id) in its stream: a redelivery. */
  redeliver<E extends TerminalEvent | GatewayEvent | BankEvent>(e: E): E {
    const copy = { ...e };
    if ('account_ref' in copy) this.recorded.bank.push(copy as BankEvent);
    else if ('network' in copy) this.recorded.gateway.push(copy as GatewayEvent);
    else this.recorded.terminal.push(copy as TerminalEvent);
    return copy;
  }

  /**
   * One approved sale across the three streams (the happy path: the terminal
   * completes with 00), minus the `omit`ted steps. Fields come from the
   * builder's context overridden by `opts`.
   */
  attempt(opts: AttemptOptions): AttemptEvents {
    const { t, terminalSkewMs = 0, omit = [], lat = null, lon = null, ...ctxOverrides } = opts;
    const ctx: AttemptContext = { ...this.ctx, ...ctxOverrides };
    const at = (s: AttemptStep, terminal = false) => t + STEP_OFFSET_MS[s] + (terminal ? terminalSkewMs : 0);
    const out: AttemptEvents = {};
    const want = (s: AttemptStep) => !omit.includes(s);
    // Emitted in the order they happen.
    const steps: [AttemptStep, () => TerminalEvent | GatewayEvent | BankEvent][] = [
      ['TXN_STARTED', () => this.terminalIn(ctx, 'TXN_STARTED', { event_time: at('TXN_STARTED', true), lat, lon })],
      ['REQUEST_SENT', () => this.terminalIn(ctx, 'REQUEST_SENT', { event_time: at('REQUEST_SENT', true) })],
      ['REQUEST_RECEIVED', () => this.gatewayIn(ctx, 'REQUEST_RECEIVED', { event_time: at('REQUEST_RECEIVED') })],
      ['FORWARDED_TO_ISSUER', () => this.gatewayIn(ctx, 'FORWARDED_TO_ISSUER', { event_time: at('FORWARDED_TO_ISSUER') })],
      ['AUTH_APPROVED', () => this.bankIn(ctx, 'AUTH_APPROVED', { event_time: at('AUTH_APPROVED') })],
      ['ISSUER_RESPONSE', () => this.gatewayIn(ctx, 'ISSUER_RESPONSE', { event_time: at('ISSUER_RESPONSE') })],
      ['RESPONSE_SENT', () => this.gatewayIn(ctx, 'RESPONSE_SENT', { event_time: at('RESPONSE_SENT') })],
      ['RESPONSE_RECEIVED', () => this.terminalIn(ctx, 'RESPONSE_RECEIVED', { event_time: at('RESPONSE_RECEIVED', true) })],
      ['TXN_COMPLETED', () => this.terminalIn(ctx, 'TXN_COMPLETED', { event_time: at('TXN_COMPLETED', true) })],
    ];
    for (const [step, make] of steps) if (want(step)) (out as Record<string, unknown>)[step] = make();
    return out;
  }

  /** What was built so far, per stream, in build order (fresh arrays). */
  streams(): Streams {
    return { terminal: [...this.recorded.terminal], gateway: [...this.recorded.gateway], bank: [...this.recorded.bank] };
  }
}
