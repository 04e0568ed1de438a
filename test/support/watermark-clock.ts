/**
 * Sets an engine's watermark W to an exact value with events of their own
 * (terminal CLOCK001, card tok_clock, one attempt per call): each stream's
 * newest event sits that stream's own lag ahead of W (max delay + terminal
 * drift, or + clock skew). Callers check `engine.watermark` afterwards.
 */
import type { Rules } from '../../src/config/rules.js';
import type { BankEvent, GatewayEvent, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder } from '../eval/builders.js';

export function watermarkClock(time: Rules['time'], push: (...events: (TerminalEvent | GatewayEvent | BankEvent)[]) => void): (w: number) => void {
  let tick = 0;
  return (w: number) => {
    tick++;
    const ids = { terminal_id: 'CLOCK001', rrn: `CLK${String(tick).padStart(9, '0')}`, stan: String(tick).padStart(6, '0'), card_token: 'tok_clock' };
    const b = new EventBuilder(ids, { firstId: 9_000_000 + tick * 10 });
    push(b.terminal('TXN_STARTED', { event_time: w + time.maxDelayMs + time.terminalMaxDriftMs }),
      b.gateway('REQUEST_RECEIVED', { event_time: w + time.maxDelayMs + time.clockSkewMs }),
      b.bank('AUTH_APPROVED', { event_time: w + time.maxDelayMs + time.clockSkewMs, amount_minor: 900_000 }));
  };
}
