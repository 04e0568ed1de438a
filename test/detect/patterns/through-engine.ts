/**
 * The pattern tests' hand-made facts and signals, turned back into the events
 * they stand for, so each case also runs through the whole streaming pipeline
 * (in every arrival order of test/support/engine-vs-reference.ts) against the
 * batch reference. A CardFact is one bank AUTH_APPROVED / AUTH_DECLINED (plus
 * a terminal TXN_STARTED carrying its location, when it has one); a hardware
 * signal is a terminal DEVICE_FAULT or TXN_FAILED. The debit kinds are turned
 * off: bank events without a terminal outcome would all be orphans, which is
 * not what these cases are about.
 */
import { buildRules, type Rules } from '../../../src/config/rules.js';
import type { CardFact, HardwareSignal } from '../../../src/detect/patterns/types.js';
import type { BankEvent, TerminalEvent } from '../../../src/events/index.js';
import { uuidFor } from '../../eval/builders.js';
import { checkedReference, type StreamsInput } from '../../support/engine-vs-reference.js';

/** Where each test-made id goes: valid UUIDs in the same order, so (event_time, event_id) ties break alike. */
function idMap(ids: Iterable<string>): (id: string) => string {
  const sorted = [...new Set(ids)].sort();
  const m = new Map(sorted.map((id, i) => [id, uuidFor(i + 1)]));
  return (id) => m.get(id)!;
}

/** A location's TXN_STARTED gets an id after every test-made one (they never tie with a bank event anyway). */
const LOCATION_ID_BASE = 1_000_000;

function bankEvent(f: CardFact, id: string): BankEvent {
  return {
    event_id: id, event_time: f.event_time, terminal_id: f.terminal_id, merchant_id: f.merchant_id, stan: f.stan,
    event_type: f.approved ? 'AUTH_APPROVED' : 'AUTH_DECLINED', rrn: f.rrn, txn_type: f.txn_type as BankEvent['txn_type'],
    amount_minor: f.amount_minor, currency: f.currency, card_token: f.card_token, issuer_id: f.issuer_id, account_ref: 'acct_hash_A',
    auth_code: f.approved ? 'A1B2C3' : null, response_code: f.approved ? '00' : '05', orig_rrn: null,
  };
}

function terminalEvent(over: Partial<TerminalEvent> & Pick<TerminalEvent, 'event_id' | 'event_time' | 'event_type' | 'terminal_id' | 'merchant_id' | 'stan'>): TerminalEvent {
  return {
    txn_type: null, amount_minor: null, currency: null, card_token: null, masked_pan: null, entry_mode: null, response_code: null,
    failure_reason: null, fault_component: null, orig_stan: null, lat: null, lon: null, ...over,
  };
}

export function factsAsEvents(facts: readonly CardFact[]): StreamsInput {
  const id = idMap(facts.map((f) => f.event_id));
  const terminal: TerminalEvent[] = [];
  const bank: BankEvent[] = [];
  facts.forEach((f, i) => {
    bank.push(bankEvent(f, id(f.event_id)));
    if (f.lat === null || f.lon === null) return;
    terminal.push(terminalEvent({
      event_id: uuidFor(LOCATION_ID_BASE + i), event_time: f.event_time - 3_000, event_type: 'TXN_STARTED', terminal_id: f.terminal_id,
      merchant_id: f.merchant_id, stan: f.stan, txn_type: f.txn_type as TerminalEvent['txn_type'], amount_minor: f.amount_minor,
      currency: f.currency, card_token: f.card_token, entry_mode: 'CHIP', lat: f.lat, lon: f.lon,
    }));
  });
  return { terminal, gateway: [], bank };
}

export function signalsAsEvents(signals: readonly HardwareSignal[]): StreamsInput {
  const id = idMap(signals.map((s) => s.event_id));
  const terminal = signals.map((s) => terminalEvent({
    event_id: id(s.event_id), event_time: s.event_time, event_type: s.event_type, terminal_id: s.terminal_id, merchant_id: s.merchant_id,
    stan: s.stan, failure_reason: s.failure_reason as TerminalEvent['failure_reason'], fault_component: s.fault_component as TerminalEvent['fault_component'],
    ...(s.event_type === 'TXN_FAILED'
      ? { txn_type: 'SALE', amount_minor: s.amount_minor ?? 1_500, currency: s.currency ?? 'EUR', card_token: 'tok_card_A' } : {}),
  }));
  return { terminal, gateway: [], bank: [] };
}

function patternsOnly(r: Rules): Rules {
  return buildRules({
    ...r, orphanDebit: { ...r.orphanDebit, enabled: false }, duplicateDebit: { ...r.duplicateDebit, enabled: false },
    amountMismatch: { ...r.amountMismatch, enabled: false },
  });
}

/** Throws unless the pipeline finds exactly the reference's anomalies for these facts, in every arrival order. */
export function expectPipelineAgreesOnFacts(facts: readonly CardFact[], r: Rules): void {
  checkedReference(factsAsEvents(facts), patternsOnly(r));
}

export function expectPipelineAgreesOnSignals(signals: readonly HardwareSignal[], r: Rules): void {
  checkedReference(signalsAsEvents(signals), patternsOnly(r));
}
