/**
 * The batch reference's view of a data set: every event at once, deduplicated
 * and indexed the way docs/semantics.md "Linking" connects them. Nothing here
 * is incremental or time-bounded; that is the point of a reference.
 */
import type { BankEvent, GatewayEvent, TerminalEvent } from '../events/index.js';

export interface ReferenceInput {
  readonly terminal: readonly TerminalEvent[];
  readonly gateway: readonly GatewayEvent[];
  readonly bank: readonly BankEvent[];
}

/** An attempt is one (terminal_id, stan) at the terminal. */
export interface AttemptRef {
  readonly terminal_id: string;
  readonly stan: string;
}

export type TerminalOutcome = 'SUCCESS' | 'FAILED' | 'NONE';

/** A bank AUTH_APPROVED with txn_type SALE or PREAUTH; the earliest of its rrn. */
export interface Debit {
  readonly rrn: string;
  /** Bank event_time of the debit. */
  readonly t: number;
  readonly event: BankEvent;
  /** Through the gateway link of the rrn, else the bank event's own terminal_id and stan. */
  readonly attempt: AttemptRef;
}

export interface Dataset {
  /** Deduplicated, in input order. */
  readonly terminal: readonly TerminalEvent[];
  readonly gateway: readonly GatewayEvent[];
  readonly bank: readonly BankEvent[];
  /** Every debit, one per rrn, sorted by (t, event_id). */
  readonly debits: readonly Debit[];
  /** Terminal events of an attempt: its own events, plus REVERSAL_SENT through orig_stan. Never DEVICE_FAULT. */
  terminalOf(a: AttemptRef): readonly TerminalEvent[];
  /** Gateway events whose own rrn is R (any event type). */
  gatewayWithRrn(rrn: string): readonly GatewayEvent[];
  /** Gateway reversal events whose orig_rrn is R. */
  gatewayWithOrigRrn(rrn: string): readonly GatewayEvent[];
  /** Bank events whose own rrn is R. */
  bankWithRrn(rrn: string): readonly BankEvent[];
  /** Bank events whose orig_rrn is R (REVERSAL_APPLIED, REVERSAL_REJECTED, REFUND_POSTED). */
  bankWithOrigRrn(rrn: string): readonly BankEvent[];
  /** Reversals of R: bank REVERSAL_APPLIED or REFUND_POSTED with orig_rrn R. */
  reversalsOf(rrn: string): readonly BankEvent[];
}

const NONE: readonly never[] = Object.freeze([]);

/** "In order": by (event_time, event_id). */
export function byTimeThenId(a: { event_time: number; event_id: string }, b: { event_time: number; event_id: string }): number {
  return a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);
}

/** Keeps the first occurrence of each event_id, in input order. */
export function dedupById<T extends { event_id: string }>(events: readonly T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const e of events) {
    if (seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    out.push(e);
  }
  return out;
}

export function attemptKey(a: AttemptRef): string {
  return `${a.terminal_id}|${a.stan}`;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

const GATEWAY_LINKING = new Set(['REQUEST_RECEIVED', 'FORWARDED_TO_ISSUER', 'ISSUER_RESPONSE', 'ISSUER_TIMEOUT', 'RESPONSE_SENT']);
const BANK_REVERSAL = new Set(['REVERSAL_APPLIED', 'REFUND_POSTED']);

export function buildDataset(input: ReferenceInput): Dataset {
  const terminal = dedupById(input.terminal);
  const gateway = dedupById(input.gateway);
  const bank = dedupById(input.bank);
  const terminalByAttempt = indexTerminal(terminal);
  const gatewayIndex = indexGateway(gateway);
  const bankIndex = indexBank(bank);
  return {
    terminal,
    gateway,
    bank,
    debits: linkDebits(bankIndex.debitEventOf, gatewayIndex.linkOf),
    terminalOf: (a) => terminalByAttempt.get(attemptKey(a)) ?? NONE,
    gatewayWithRrn: (rrn) => gatewayIndex.byRrn.get(rrn) ?? NONE,
    gatewayWithOrigRrn: (rrn) => gatewayIndex.byOrigRrn.get(rrn) ?? NONE,
    bankWithRrn: (rrn) => bankIndex.byRrn.get(rrn) ?? NONE,
    bankWithOrigRrn: (rrn) => bankIndex.byOrigRrn.get(rrn) ?? NONE,
    reversalsOf: (rrn) => bankIndex.reversalsByRrn.get(rrn) ?? NONE,
  };
}

/** Terminal events by attempt; REVERSAL_SENT under its orig_stan, DEVICE_FAULT left out. */
function indexTerminal(terminal: readonly TerminalEvent[]): Map<string, TerminalEvent[]> {
  const terminalByAttempt = new Map<string, TerminalEvent[]>();
  for (const e of terminal) {
    if (e.event_type === 'DEVICE_FAULT') continue;
    const stan = e.event_type === 'REVERSAL_SENT' ? e.orig_stan : e.stan;
    if (stan === null) continue; // REVERSAL_SENT without orig_stan cannot pass validation; be safe anyway
    push(terminalByAttempt, attemptKey({ terminal_id: e.terminal_id, stan }), e);
  }
  return terminalByAttempt;
}

interface GatewayIndex {
  readonly byRrn: Map<string, GatewayEvent[]>;
  readonly byOrigRrn: Map<string, GatewayEvent[]>;
  /** rrn -> the earliest non-reversal gateway event, whose (terminal_id, stan) is the link. */
  readonly linkOf: Map<string, GatewayEvent>;
}

function indexGateway(gateway: readonly GatewayEvent[]): GatewayIndex {
  const byRrn = new Map<string, GatewayEvent[]>();
  const byOrigRrn = new Map<string, GatewayEvent[]>();
  const linkOf = new Map<string, GatewayEvent>();
  for (const e of gateway) {
    push(byRrn, e.rrn, e);
    if (e.orig_rrn !== null && e.event_type.startsWith('REVERSAL_')) push(byOrigRrn, e.orig_rrn, e);
    if (GATEWAY_LINKING.has(e.event_type)) {
      const cur = linkOf.get(e.rrn);
      if (cur === undefined || byTimeThenId(e, cur) < 0) linkOf.set(e.rrn, e);
    }
  }
  return { byRrn, byOrigRrn, linkOf };
}

interface BankIndex {
  readonly byRrn: Map<string, BankEvent[]>;
  readonly byOrigRrn: Map<string, BankEvent[]>;
  readonly reversalsByRrn: Map<string, BankEvent[]>;
  /** rrn -> its earliest SALE/PREAUTH AUTH_APPROVED. */
  readonly debitEventOf: Map<string, BankEvent>;
}

function indexBank(bank: readonly BankEvent[]): BankIndex {
  const byRrn = new Map<string, BankEvent[]>();
  const byOrigRrn = new Map<string, BankEvent[]>();
  const reversalsByRrn = new Map<string, BankEvent[]>();
  const debitEventOf = new Map<string, BankEvent>();
  for (const e of bank) {
    push(byRrn, e.rrn, e);
    if (e.orig_rrn !== null) {
      push(byOrigRrn, e.orig_rrn, e);
      if (BANK_REVERSAL.has(e.event_type)) push(reversalsByRrn, e.orig_rrn, e);
    }
    if (e.event_type === 'AUTH_APPROVED' && (e.txn_type === 'SALE' || e.txn_type === 'PREAUTH')) {
      const cur = debitEventOf.get(e.rrn);
      if (cur === undefined || byTimeThenId(e, cur) < 0) debitEventOf.set(e.rrn, e);
    }
  }
  return { byRrn, byOrigRrn, reversalsByRrn, debitEventOf };
}

/** One debit per rrn, its attempt through the gateway link (else the bank event's own), sorted by (t, event_id). */
function linkDebits(debitEventOf: ReadonlyMap<string, BankEvent>, linkOf: ReadonlyMap<string, GatewayEvent>): Debit[] {
  const debits: Debit[] = [];
  for (const [rrn, event] of debitEventOf) {
    const link = linkOf.get(rrn);
    const attempt = link ? { terminal_id: link.terminal_id, stan: link.stan } : { terminal_id: event.terminal_id, stan: event.stan };
    debits.push({ rrn, t: event.event_time, event, attempt });
  }
  debits.sort((a, b) => byTimeThenId(a.event, b.event));
  return debits;
}

/** SUCCESS if a TXN_COMPLETED '00' exists (any time), else FAILED if a TXN_FAILED exists, else NONE. */
export function terminalOutcome(events: readonly TerminalEvent[]): TerminalOutcome {
  if (events.some((e) => e.event_type === 'TXN_COMPLETED' && e.response_code === '00')) return 'SUCCESS';
  if (events.some((e) => e.event_type === 'TXN_FAILED')) return 'FAILED';
  return 'NONE';
}

/** A reversal of the debit with `reversal.event_time - t <= grace` (one stamped before t counts too). */
export function reversedWithinGrace(ds: Dataset, d: Debit, graceMs: number): boolean {
  return ds.reversalsOf(d.rrn).some((r) => r.event_time - d.t <= graceMs);
}

/** A reversal of the debit with time in (t + grace, t + horizon]. */
export function reversedAfterGrace(ds: Dataset, d: Debit, graceMs: number, horizonMs: number): boolean {
  return ds.reversalsOf(d.rrn).some((r) => r.event_time - d.t > graceMs && r.event_time - d.t <= horizonMs);
}

/** Groups items by a key, keeping input order inside each group. */
export function groupBy<T>(items: Iterable<T>, key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) push(m, key(it), it);
  return m;
}
