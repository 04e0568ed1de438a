/**
 * One attempt (terminal_id, stan) and the events the three producers log for
 * it. Each method emits one event at a true time, stamped by that producer's
 * clock, and returns it. The gateway and bank see `hostAmount`/`hostCurrency`,
 * which differ from the terminal's only where a scenario says so.
 */
import type { BankEvent, BankEventType, EntryMode, FailureReason, FaultComponent, GatewayEvent, GatewayEventType, TerminalEvent, TerminalEventType, TxnType } from '../events/index.js';
import type { Ctx } from './context.js';
import type { EmitOptions } from './emitter.js';
import type { Card, Terminal } from './world.js';

export interface AttemptInit {
  readonly terminal: Terminal;
  readonly card: Card;
  readonly txnType: TxnType;
  readonly amount: number;
  readonly currency: string;
  readonly entryMode: EntryMode;
  /** REFUND and VOID: the rrn of the sale they give back. */
  readonly origRrn?: string;
}

const AUTH_CODE_CHARS = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

export class Attempt {
  readonly terminal: Terminal;
  readonly card: Card;
  readonly txnType: TxnType;
  readonly amount: number;
  readonly currency: string;
  readonly entryMode: EntryMode;
  readonly origRrn: string | null;
  readonly stan: string;
  rrn: string | null = null;
  hostAmount: number;
  hostCurrency: string;

  constructor(readonly ctx: Ctx, init: AttemptInit, t0: number) {
    this.terminal = init.terminal;
    this.card = init.card;
    this.txnType = init.txnType;
    this.amount = init.amount;
    this.currency = init.currency;
    this.entryMode = init.entryMode;
    this.origRrn = init.origRrn ?? null;
    this.hostAmount = init.amount;
    this.hostCurrency = init.currency;
    this.stan = ctx.world.nextStan(init.terminal);
    init.terminal.busyUntil = Math.max(init.terminal.busyUntil, t0 + 5_000);
  }

  get merchantId(): string {
    return this.terminal.merchant.id;
  }

  /** The rrn the gateway assigns; also used when the gateway's own log of it is lost. */
  assignRrn(t: number): string {
    if (this.rrn === null) this.rrn = this.ctx.world.nextRrn(t);
    return this.rrn;
  }

  // ---- terminal -------------------------------------------------------------

  terminalEvent(type: TerminalEventType, t: number, f: { response_code?: string | null; failure_reason?: FailureReason | null; stan?: string; orig_stan?: string | null } = {}, opts?: EmitOptions): TerminalEvent {
    const term = this.terminal;
    const started = type === 'TXN_STARTED';
    const ev: TerminalEvent = {
      event_id: '',
      event_time: this.ctx.clocks.terminal(term, t),
      terminal_id: term.id,
      merchant_id: term.merchant.id,
      stan: f.stan ?? this.stan,
      event_type: type,
      txn_type: this.txnType,
      amount_minor: this.amount,
      currency: this.currency,
      card_token: this.card.token,
      masked_pan: this.card.maskedPan,
      entry_mode: started ? this.entryMode : null,
      response_code: f.response_code ?? null,
      failure_reason: f.failure_reason ?? null,
      fault_component: null,
      orig_stan: f.orig_stan ?? null,
      lat: started ? term.lat : null,
      lon: started ? term.lon : null,
    };
    return this.ctx.out.emit('terminal', t, ev, opts);
  }

  started(t: number): TerminalEvent {
    return this.terminalEvent('TXN_STARTED', t);
  }

  requestSent(t: number): TerminalEvent {
    return this.terminalEvent('REQUEST_SENT', t);
  }

  responseReceived(t: number, code: string): TerminalEvent {
    return this.terminalEvent('RESPONSE_RECEIVED', t, { response_code: code });
  }

  completed(t: number, opts?: EmitOptions): TerminalEvent {
    this.release(t);
    return this.terminalEvent('TXN_COMPLETED', t, { response_code: '00' }, opts);
  }

  failed(t: number, reason: FailureReason, code: string | null): TerminalEvent {
    this.release(t);
    return this.terminalEvent('TXN_FAILED', t, { failure_reason: reason, response_code: code });
  }

  private release(t: number): void {
    this.terminal.busyUntil = Math.max(this.terminal.busyUntil, t);
  }

  // ---- gateway --------------------------------------------------------------

  gatewayEvent(type: GatewayEventType, t: number, f: { response_code?: string | null; latency_ms?: number | null; stan?: string; rrn?: string; orig_rrn?: string | null } = {}): GatewayEvent {
    const term = this.terminal;
    const ev: GatewayEvent = {
      event_id: '',
      event_time: this.ctx.clocks.gateway(t),
      terminal_id: term.id,
      merchant_id: term.merchant.id,
      stan: f.stan ?? this.stan,
      event_type: type,
      rrn: f.rrn ?? this.assignRrn(t),
      txn_type: this.txnType,
      amount_minor: this.hostAmount,
      currency: this.hostCurrency,
      card_token: this.card.token,
      issuer_id: this.card.issuer.id,
      network: this.card.network,
      response_code: f.response_code ?? null,
      latency_ms: f.latency_ms ?? null,
      orig_rrn: f.orig_rrn ?? null,
    };
    return this.ctx.out.emit('gateway', t, ev);
  }

  // ---- bank -----------------------------------------------------------------

  bankEvent(type: BankEventType, t: number, f: { response_code: string; auth_code?: string | null; stan?: string; rrn?: string; orig_rrn?: string | null }, opts?: EmitOptions): BankEvent {
    const term = this.terminal;
    const ev: BankEvent = {
      event_id: '',
      event_time: this.ctx.clocks.bank(t),
      terminal_id: term.id,
      merchant_id: term.merchant.id,
      stan: f.stan ?? this.stan,
      event_type: type,
      rrn: f.rrn ?? this.assignRrn(t),
      txn_type: this.txnType,
      amount_minor: this.hostAmount,
      currency: this.hostCurrency,
      card_token: this.card.token,
      issuer_id: this.card.issuer.id,
      account_ref: this.ctx.world.accountRef(this.card),
      auth_code: f.auth_code ?? null,
      response_code: f.response_code,
      orig_rrn: f.orig_rrn ?? null,
    };
    return this.ctx.out.emit('bank', t, ev, opts);
  }

  /** The issuer says yes: a debit (SALE/PREAUTH), a refund posted, or a void applied. */
  bankApproved(t: number): BankEvent {
    if (this.txnType === 'REFUND') return this.bankEvent('REFUND_POSTED', t, { response_code: '00', orig_rrn: this.origRrn });
    if (this.txnType === 'VOID') return this.bankEvent('REVERSAL_APPLIED', t, { response_code: '00', orig_rrn: this.origRrn });
    return this.bankEvent('AUTH_APPROVED', t, { response_code: '00', auth_code: this.authCode() });
  }

  bankDeclined(t: number, code: string): BankEvent {
    return this.bankEvent('AUTH_DECLINED', t, { response_code: code });
  }

  private authCode(): string {
    const rng = this.ctx.rng;
    let s = '';
    for (let i = 0; i < 6; i++) s += AUTH_CODE_CHARS[rng.int(0, AUTH_CODE_CHARS.length - 1)];
    return s;
  }
}

/** A reversal the terminal sends for an attempt: its own stan (and, at the gateway, its own rrn). */
export class Reversal {
  readonly stan: string;
  rrn: string | null = null;

  constructor(readonly attempt: Attempt) {
    this.stan = attempt.ctx.world.nextStan(attempt.terminal);
  }

  private get origRrn(): string {
    return this.attempt.rrn as string;
  }

  sent(t: number): TerminalEvent {
    return this.attempt.terminalEvent('REVERSAL_SENT', t, { stan: this.stan, orig_stan: this.attempt.stan });
  }

  gwReceived(t: number): GatewayEvent {
    this.rrn ??= this.attempt.ctx.world.nextRrn(t);
    return this.attempt.gatewayEvent('REVERSAL_RECEIVED', t, { stan: this.stan, rrn: this.rrn, orig_rrn: this.origRrn });
  }

  gwForwarded(t: number): GatewayEvent {
    return this.attempt.gatewayEvent('REVERSAL_FORWARDED', t, { stan: this.stan, rrn: this.rrn as string, orig_rrn: this.origRrn });
  }

  gwResponse(t: number, code: string): GatewayEvent {
    return this.attempt.gatewayEvent('REVERSAL_RESPONSE', t, { stan: this.stan, rrn: this.rrn as string, orig_rrn: this.origRrn, response_code: code });
  }

  bankApplied(t: number, opts?: EmitOptions): BankEvent {
    return this.attempt.bankEvent('REVERSAL_APPLIED', t, { response_code: '00', stan: this.stan, rrn: this.rrn as string, orig_rrn: this.origRrn }, opts);
  }

  bankRejected(t: number, code: string): BankEvent {
    return this.attempt.bankEvent('REVERSAL_REJECTED', t, { response_code: code, stan: this.stan, rrn: this.rrn as string, orig_rrn: this.origRrn });
  }
}

/**
 * A hardware fault logged by a terminal outside any attempt. It takes a stan of
 * its own (like any message the terminal sends), so it never shares
 * (terminal_id, stan) with a real attempt.
 */
export function deviceFault(ctx: Ctx, terminal: Terminal, t: number, component: FaultComponent, opts?: EmitOptions): TerminalEvent {
  const ev: TerminalEvent = {
    event_id: '',
    event_time: ctx.clocks.terminal(terminal, t),
    terminal_id: terminal.id,
    merchant_id: terminal.merchant.id,
    stan: ctx.world.nextStan(terminal),
    event_type: 'DEVICE_FAULT',
    txn_type: null,
    amount_minor: null,
    currency: null,
    card_token: null,
    masked_pan: null,
    entry_mode: null,
    response_code: null,
    failure_reason: null,
    fault_component: component,
    orig_stan: null,
    lat: null,
    lon: null,
  };
  return ctx.out.emit('terminal', t, ev, opts);
}
