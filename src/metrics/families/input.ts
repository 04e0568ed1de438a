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
import { scrapedCounter } from '../scrape.js';

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
  // Counted in plain maps on the hot path (one Map update per counted event) and
  // copied into the counters at scrape time: no label hashing per event.
  const perIssuer = (name: string, help: string) => {
    const counts = new Map<string, number>();
    scrapedCounter({
      registry, name, help, labelNames: ['issuer_id'],
      read: () => [...counts].map(([issuer_id, n]) => [{ issuer_id }, n] as const),
    });
    return (issuer: string) => counts.set(issuer, (counts.get(issuer) ?? 0) + 1);
  };
  const debit = perIssuer('posguard_debits_total', 'Debits consumed (bank AUTH_APPROVED, SALE or PREAUTH), by issuer.');
  const request = perIssuer('posguard_gateway_requests_total', 'Gateway REQUEST_RECEIVED events consumed, by issuer.');
  const timeout = perIssuer('posguard_gateway_issuer_timeouts_total', 'Gateway ISSUER_TIMEOUT events consumed (the gateway gave up on the issuer and answered 68), by issuer.');
  const dead = (stream: Stream | null, reason: string) => deadLetters.inc({ stream: stream ?? 'unknown', reason: deadLetterReason(reason) });
  return {
    // On the hot path: two string compares for most events, a Map update for the few that count.
    event(stream: Stream, e: AnyEvent): void {
      if (stream === 'bank') {
        const b = e as BankEvent;
        if (b.event_type === 'AUTH_APPROVED' && (b.txn_type === 'SALE' || b.txn_type === 'PREAUTH')) debit(b.issuer_id);
      } else if (stream === 'gateway') {
        const g = e as GatewayEvent;
        if (g.event_type === 'REQUEST_RECEIVED') request(g.issuer_id);
        else if (g.event_type === 'ISSUER_TIMEOUT') timeout(g.issuer_id);
      }
    },
    decodeError(stream: Stream | null, reason: string): void {
      decodeErrors.inc({ stream: stream ?? 'unknown', reason: deadLetterReason(reason) });
      dead(stream, reason);
    },
    deadLetter: dead,
  };
}
