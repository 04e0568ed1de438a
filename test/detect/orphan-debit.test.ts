/**
 * ORPHAN_DEBIT's decision on an attempt's facts (src/detect/orphan-debit.ts),
 * row by row of detection.md's cause table: each cause when it alone holds,
 * and the first that holds when several do.
 */
import { describe, expect, it } from 'vitest';
import type { DebitFacts } from '../../src/detect/debit-facts.js';
import { decideOrphan, orphanCause } from '../../src/detect/orphan-debit.js';

/** A debit whose gateway record is complete and whose terminal said nothing: NO_TERMINAL_OUTCOME. */
const base: DebitFacts = {
  debitAt: 1_000, completed00: false, failed: false, responseReceived: false,
  response00At: Infinity, lastFailedAt: -Infinity, reversalSent: false, gatewayOwn: true,
  reversalReceived: false, issuerTimeout: false, issuerResponse00: false, responseSentNon00: false,
  responseSent00: false, reversedWithinGrace: false, reversedAfterGraceWithinHorizon: false, reversedWithinHorizon: false,
};
const facts = (o: Partial<DebitFacts>): DebitFacts => ({ ...base, ...o });

describe('orphan cause: the first row of the table that holds', () => {
  it.each([
    ['REVERSAL_NOT_APPLIED', { reversalReceived: true }],
    ['REVERSAL_LOST', { reversalSent: true }],
    ['NO_GATEWAY_RECORD', { gatewayOwn: false }],
    ['ISSUER_LATE_APPROVAL', { issuerTimeout: true }],
    ['GATEWAY_RESPONSE_MISMATCH', { issuerResponse00: true, responseSentNon00: true }],
    ['RESPONSE_LOST_TO_TERMINAL', { responseSent00: true }],
    ['TERMINAL_FAILED_AFTER_APPROVAL', { responseReceived: true, response00At: 500, failed: true, lastFailedAt: 500 }],
    ['NO_TERMINAL_OUTCOME', {}],
    ['UNEXPLAINED', { failed: true, lastFailedAt: 400 }],
  ] as const)('%s alone', (cause, o) => {
    expect(orphanCause(facts(o))).toBe(cause);
  });

  it('each row wins over every later one', () => {
    const all: Partial<DebitFacts> = {
      reversalReceived: true, reversalSent: true, gatewayOwn: false, issuerTimeout: true, issuerResponse00: true,
      responseSentNon00: true, responseSent00: true, responseReceived: false, failed: true, response00At: 10, lastFailedAt: 20,
    };
    expect(orphanCause(facts(all))).toBe('REVERSAL_NOT_APPLIED');
    expect(orphanCause(facts({ ...all, reversalReceived: false }))).toBe('REVERSAL_LOST');
    expect(orphanCause(facts({ ...all, reversalReceived: false, reversalSent: false }))).toBe('NO_GATEWAY_RECORD');
    const gw = { ...all, reversalReceived: false, reversalSent: false, gatewayOwn: true };
    expect(orphanCause(facts(gw))).toBe('ISSUER_LATE_APPROVAL');
    expect(orphanCause(facts({ ...gw, issuerTimeout: false }))).toBe('GATEWAY_RESPONSE_MISMATCH');
    expect(orphanCause(facts({ ...gw, issuerTimeout: false, issuerResponse00: false }))).toBe('RESPONSE_LOST_TO_TERMINAL');
    expect(orphanCause(facts({ ...gw, issuerTimeout: false, issuerResponse00: false, responseReceived: true }))).toBe('TERMINAL_FAILED_AFTER_APPROVAL');
  });

  it('GATEWAY_RESPONSE_MISMATCH needs both the issuer 00 and a non-00 answer to the terminal', () => {
    expect(orphanCause(facts({ issuerResponse00: true }))).toBe('NO_TERMINAL_OUTCOME');
    expect(orphanCause(facts({ responseSentNon00: true }))).toBe('NO_TERMINAL_OUTCOME');
  });

  it('RESPONSE_LOST_TO_TERMINAL only when the terminal has no RESPONSE_RECEIVED', () => {
    expect(orphanCause(facts({ responseSent00: true, responseReceived: true }))).toBe('NO_TERMINAL_OUTCOME');
  });

  it('TERMINAL_FAILED_AFTER_APPROVAL: TXN_FAILED at or after the 00 response, never before, never without a 00', () => {
    const received = { responseReceived: true, failed: true, response00At: 500 };
    expect(orphanCause(facts({ ...received, lastFailedAt: 499 }))).toBe('UNEXPLAINED');
    expect(orphanCause(facts({ ...received, lastFailedAt: 500 }))).toBe('TERMINAL_FAILED_AFTER_APPROVAL');
    expect(orphanCause(facts({ ...received, lastFailedAt: 501 }))).toBe('TERMINAL_FAILED_AFTER_APPROVAL');
    expect(orphanCause(facts({ responseReceived: true, failed: true, lastFailedAt: 501 }))).toBe('UNEXPLAINED');
  });

  it('NO_TERMINAL_OUTCOME only when the terminal neither completed nor failed', () => {
    expect(orphanCause(facts({ failed: true }))).toBe('UNEXPLAINED');
    expect(orphanCause(facts({ completed00: true }))).toBe('UNEXPLAINED');
  });
});

describe('decideOrphan', () => {
  it('no orphan when the terminal completed with 00, or the debit was reversed within the grace', () => {
    expect(decideOrphan(facts({ completed00: true }))).toBeNull();
    expect(decideOrphan(facts({ reversedWithinGrace: true, reversedWithinHorizon: true }))).toBeNull();
  });

  it('OPEN, or AUTO_RESOLVED when reversed after the grace within the horizon', () => {
    expect(decideOrphan(facts({}))).toEqual({ cause: 'NO_TERMINAL_OUTCOME', status: 'OPEN' });
    expect(decideOrphan(facts({ reversedAfterGraceWithinHorizon: true, reversedWithinHorizon: true, gatewayOwn: false })))
      .toEqual({ cause: 'NO_GATEWAY_RECORD', status: 'AUTO_RESOLVED' });
  });
});
