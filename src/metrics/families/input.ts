/**
 * What comes in at the door, counted by the driver (demo, run, replay) as it
 * hands records over: records refused (decode errors and dead letters, by
 * reason class), and the few event types the risk alerts are built on, by
 * issuer: debits (bank AUTH_APPROVED of a SALE or PREAUTH), gateway requests
 * and gateway timeouts on the issuer. These count deliveries: a redelivered
 * event counts again (redeliveries are rare, ~0.5%, and both sides of each
 * ratio count them alike).
 */
import { Counter, type Registry } from 'prom-client';
import type { AnyEvent, BankEvent, GatewayEvent, Stream } from '../../events/index.js';
import { deadLetterReason } from '../dead-letter-reason.js';

export interface InputMetrics {
  event(stream: Stream, e: AnyEvent): void;
  decodeError(stream: Stream | null, reason: string): void;
  deadLetter(stream: Stream | null, reason: string): void;
}

export function registerInputMetrics(registry: Registry): InputMetrics {
  const decodeErrors = new Counter({
    name: 'posguard_decode_errors_total',
    help: 'Input records that could not be decoded or broke the contract, by stream and reason class (each is also a dead letter).',
    labelNames: ['stream', 'reason'],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'posguard_dead_letters_total',
    help: 'Records sent to dead_letters, by stream and reason class.',
    labelNames: ['stream', 'reason'],
    registers: [registry],
  });
  const debits = new Counter({
    name: 'posguard_debits_total',
    help: 'Debits consumed (bank AUTH_APPROVED, SALE or PREAUTH), by issuer.',
    labelNames: ['issuer_id'],
    registers: [registry],
  });
  const requests = new Counter({
    name: 'posguard_gateway_requests_total',
    help: 'Gateway REQUEST_RECEIVED events consumed, by issuer.',
    labelNames: ['issuer_id'],
    registers: [registry],
  });
  const timeouts = new Counter({
    name: 'posguard_gateway_issuer_timeouts_total',
    help: 'Gateway ISSUER_TIMEOUT events consumed (the gateway gave up on the issuer and answered 68), by issuer.',
    labelNames: ['issuer_id'],
    registers: [registry],
  });
  const dead = (stream: Stream | null, reason: string) => deadLetters.inc({ stream: stream ?? 'unknown', reason: deadLetterReason(reason) });
  return {
    // On the hot path: two string compares for most events, a labelled inc for the few that count.
    event(stream: Stream, e: AnyEvent): void {
      if (stream === 'bank') {
        const b = e as BankEvent;
        if (b.event_type === 'AUTH_APPROVED' && (b.txn_type === 'SALE' || b.txn_type === 'PREAUTH')) debits.inc({ issuer_id: b.issuer_id });
      } else if (stream === 'gateway') {
        const g = e as GatewayEvent;
        if (g.event_type === 'REQUEST_RECEIVED') requests.inc({ issuer_id: g.issuer_id });
        else if (g.event_type === 'ISSUER_TIMEOUT') timeouts.inc({ issuer_id: g.issuer_id });
      }
    },
    decodeError(stream: Stream | null, reason: string): void {
      decodeErrors.inc({ stream: stream ?? 'unknown', reason: deadLetterReason(reason) });
      dead(stream, reason);
    },
    deadLetter: dead,
  };
}
