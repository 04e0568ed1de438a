/**
 * The legs of an attempt with realistic timings (true ms). Scenarios compose
 * them; a leg returns the time its last event happened so the next can follow.
 *
 *   terminal TXN_STARTED -> REQUEST_SENT (80-900 ms: card read, PIN)
 *   gateway  REQUEST_RECEIVED (15-120 ms network) -> FORWARDED_TO_ISSUER (3-40 ms)
 *   bank     AUTH_APPROVED / AUTH_DECLINED (during the issuer's latency, 100 ms-3 s)
 *   gateway  ISSUER_RESPONSE (latency_ms) -> RESPONSE_SENT (2-25 ms)
 *   terminal RESPONSE_RECEIVED (15-120 ms) -> TXN_COMPLETED / TXN_FAILED (40 ms-2.5 s: receipt)
 */
import type { OrphanCause } from '../events/anomaly.js';
import type { BankEvent, TerminalEvent } from '../events/index.js';
import { type Attempt, Reversal } from './attempt.js';
import type { EmitOptions } from './emitter.js';
import type { Rng } from './rng.js';
import { clamp } from './world.js';

/** The terminal gives up this long after REQUEST_SENT. */
export const TERMINAL_TIMEOUT_MS = 30_000;
/** The gateway gives up on the issuer this long after forwarding, and answers the terminal 68. */
export const GATEWAY_ISSUER_TIMEOUT_MS = 20_000;

export const DECLINE_CODES = ['05', '51', '51', '51', '54', '14', '61', '57', '55'] as const;

export function issuerLatency(rng: Rng): number {
  return clamp(Math.round(rng.logNormal(380, 0.6)), 100, 3_000);
}

/** TXN_STARTED then REQUEST_SENT; returns the request's time. */
export function front(a: Attempt, t0: number, opts: { skipRequestSent?: boolean } = {}): number {
  a.started(t0);
  const tReq = t0 + a.ctx.rng.int(80, 900);
  if (!opts.skipRequestSent) a.requestSent(tReq);
  return tReq;
}

/** REQUEST_RECEIVED then FORWARDED_TO_ISSUER; returns the forward time. */
export function gatewayIn(a: Attempt, tReq: number): number {
  const rng = a.ctx.rng;
  const tIn = tReq + rng.int(15, 120);
  a.assignRrn(tIn);
  a.gatewayEvent('REQUEST_RECEIVED', tIn);
  const tFwd = tIn + rng.int(3, 40);
  a.gatewayEvent('FORWARDED_TO_ISSUER', tFwd);
  return tFwd;
}

/** The issuer approves: bank event during the latency, gateway ISSUER_RESPONSE 00 at its end. */
export function approve(a: Attempt, tFwd: number, latency = issuerLatency(a.ctx.rng)): { bank: BankEvent; tBank: number; tIss: number } {
  const tBank = tFwd + Math.round(latency * a.ctx.rng.between(0.5, 0.9));
  const bank = a.bankApproved(tBank);
  const tIss = tFwd + latency;
  a.gatewayEvent('ISSUER_RESPONSE', tIss, { response_code: '00', latency_ms: latency });
  return { bank, tBank, tIss };
}

export function decline(a: Attempt, tFwd: number, code: string): { bank: BankEvent; tIss: number } {
  const latency = issuerLatency(a.ctx.rng);
  const bank = a.bankDeclined(tFwd + Math.round(latency * a.ctx.rng.between(0.5, 0.9)), code);
  const tIss = tFwd + latency;
  a.gatewayEvent('ISSUER_RESPONSE', tIss, { response_code: code, latency_ms: latency });
  return { bank, tIss };
}

/** Gateway RESPONSE_SENT; returns its time. */
export function respond(a: Attempt, tIss: number, code: string): number {
  const t = tIss + a.ctx.rng.int(2, 25);
  a.gatewayEvent('RESPONSE_SENT', t, { response_code: code });
  return t;
}

/** Terminal RESPONSE_RECEIVED; returns its time. */
export function deliver(a: Attempt, tSent: number, code: string): number {
  const t = tSent + a.ctx.rng.int(15, 120);
  a.responseReceived(t, code);
  return t;
}

export function receiptTime(a: Attempt, tRecv: number): number {
  return tRecv + a.ctx.rng.int(40, 2_500);
}

export interface Approved {
  readonly bank: BankEvent;
  /** True time of the bank event. */
  readonly tBank: number;
  readonly completed: TerminalEvent;
  readonly tDone: number;
}

/** A successful attempt end to end (a debit for SALE/PREAUTH, a refund or void otherwise). */
export function happyPath(a: Attempt, t0: number, opts: { completion?: EmitOptions; skipRequestSent?: boolean } = {}): Approved {
  const tReq = front(a, t0, opts);
  const tFwd = gatewayIn(a, tReq);
  const { bank, tBank, tIss } = approve(a, tFwd);
  const tRecv = deliver(a, respond(a, tIss, '00'), '00');
  const tDone = receiptTime(a, tRecv);
  return { bank, tBank, completed: a.completed(tDone, opts.completion), tDone };
}

/** The issuer declines; the terminal shows it. */
export function declinedPath(a: Attempt, t0: number, code: string): { bank: BankEvent; tDone: number } {
  const tReq = front(a, t0);
  const tFwd = gatewayIn(a, tReq);
  const { bank, tIss } = decline(a, tFwd, code);
  const tRecv = deliver(a, respond(a, tIss, code), code);
  const tDone = tRecv + a.ctx.rng.int(40, 600);
  a.failed(tDone, 'DECLINED', code);
  return { bank, tDone };
}

export type TimeoutKind = 'RESPONSE_LOST' | 'ISSUER_TIMEOUT';

export interface TimedOut {
  readonly bank: BankEvent;
  /** True time of the bank's approval. */
  readonly tBank: number;
  /** When the terminal logged TXN_FAILED TIMEOUT. */
  readonly tFail: number;
  /** The cause this attempt has if nothing else (a reversal) intervenes. */
  readonly cause: OrphanCause;
}

/**
 * The issuer approved but the terminal timed out. RESPONSE_LOST: the gateway
 * answered 00, the answer never reached the terminal. ISSUER_TIMEOUT: the
 * gateway gave up on the issuer after 20 s and answered 68, and the issuer
 * approved anyway (usually after the timeout; then the gateway sometimes logs
 * the late ISSUER_RESPONSE 00 too, which also matches GATEWAY_RESPONSE_MISMATCH,
 * but ISSUER_LATE_APPROVAL comes first in the cause order).
 */
export function approvedButTimedOut(a: Attempt, t0: number, kind: TimeoutKind): TimedOut {
  const rng = a.ctx.rng;
  const tReq = front(a, t0);
  const tFwd = gatewayIn(a, tReq);
  if (kind === 'RESPONSE_LOST') {
    const { bank, tBank, tIss } = approve(a, tFwd);
    respond(a, tIss, '00');
    const tFail = tReq + TERMINAL_TIMEOUT_MS + rng.int(0, 400);
    a.failed(tFail, 'TIMEOUT', null);
    return { bank, tBank, tFail, cause: 'RESPONSE_LOST_TO_TERMINAL' };
  }
  const tTimeout = tFwd + GATEWAY_ISSUER_TIMEOUT_MS;
  a.gatewayEvent('ISSUER_TIMEOUT', tTimeout);
  const tRecv = deliver(a, respond(a, tTimeout, '68'), '68');
  const tFail = tRecv + rng.int(20, 400);
  a.failed(tFail, 'TIMEOUT', '68');
  const afterTimeout = rng.chance(0.7);
  const tBank = afterTimeout ? tTimeout + rng.int(500, 25_000) : tFwd + rng.int(1_500, GATEWAY_ISSUER_TIMEOUT_MS - 500);
  const bank = a.bankApproved(tBank);
  if (afterTimeout && rng.chance(0.5)) {
    const tIss = tBank + rng.int(20, 300);
    a.gatewayEvent('ISSUER_RESPONSE', tIss, { response_code: '00', latency_ms: tIss - tFwd });
  }
  return { bank, tBank, tFail, cause: 'ISSUER_LATE_APPROVAL' };
}

/** The terminal's reversal reaches the gateway, which forwards it; returns the reversal and the forward time. */
export function reversalToGateway(a: Attempt, tFail: number): { rev: Reversal; tFwd: number } {
  const rng = a.ctx.rng;
  const rev = new Reversal(a);
  const tSent = tFail + rng.int(100, 3_000);
  rev.sent(tSent);
  const tIn = tSent + rng.int(15, 120);
  rev.gwReceived(tIn);
  const tFwd = tIn + rng.int(3, 40);
  rev.gwForwarded(tFwd);
  return { rev, tFwd };
}

/**
 * The bank applies a forwarded reversal and the gateway relays the 00. Never
 * before the approval it reverses (`notBefore`, true time): when the issuer
 * approves late, the reversal waits in the bank's queue until then.
 */
export function reversalApplied(rev: Reversal, tFwd: number, notBefore: number, opts?: EmitOptions): { bank: BankEvent; tApplied: number } {
  const rng = rev.attempt.ctx.rng;
  const tApplied = Math.max(tFwd + rng.int(50, 800), notBefore + rng.int(200, 2_000));
  const bank = rev.bankApplied(tApplied, opts);
  rev.gwResponse(tApplied + rng.int(20, 300), '00');
  return { bank, tApplied };
}
