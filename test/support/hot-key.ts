/**
 * A hot key (issue 11, "Bounded memory"): one card at one terminal and one
 * merchant making `n` bank authorizations evenly spread over `spanMs` (an
 * hour by default). What it exercises, per position i:
 * - i % 10 = 0: a small AUTH_DECLINED (CARD_TESTING's window, one merchant,
 *   so the distinct-merchant test never holds and is asked at every attempt);
 * - i % 100 = 9 and 19: two unreversed debits of an amount no other debit
 *   has, a DUPLICATE_DEBIT pair (and two orphans: no gateway record);
 * - otherwise a debit of 1,000 reversed one second later: one huge duplicate
 *   group (same card, merchant, amount, currency), none of it an anomaly;
 * - every debit feeds CARD_VELOCITY (fires once a day);
 * - with `located`, every 50th debit has a TXN_STARTED, alternating between
 *   two places 200 km apart (under minDistanceKm: the travel window scans).
 * The anomalies grow linearly with n, so a linear engine runs in linear time.
 */
import type { BankEvent, TerminalEvent } from '../../src/events/index.js';
import { EventBuilder, HOUR, SEC, T0, type Streams } from '../eval/builders.js';

export interface HotKeyOptions {
  readonly n: number;
  readonly spanMs?: number;
  readonly located?: boolean;
}

const pad = (i: number, width: number) => String(i).padStart(width, '0');

export function hotKeyStreams(o: HotKeyOptions): Streams {
  const spanMs = o.spanMs ?? HOUR;
  const b = new EventBuilder({ card_token: 'tok_hot_card' });
  const bank: BankEvent[] = [];
  const terminal: TerminalEvent[] = [];
  for (let i = 0; i < o.n; i++) {
    const t = T0 + Math.floor((i * spanMs) / o.n);
    const ctx = { rrn: `HOT${pad(i, 9)}`, stan: pad(i % 1_000_000, 6) };
    const m = i % 100;
    if (i % 10 === 0) {
      bank.push(b.bank('AUTH_DECLINED', { ...ctx, event_time: t, amount_minor: 500 }));
      continue;
    }
    if (o.located && i % 50 === 1) {
      const far = (i / 50) % 2 === 0;
      terminal.push(b.terminal('TXN_STARTED', { stan: ctx.stan, event_time: t - SEC, lat: 48.0, lon: far ? 2.7 : 0 }));
    }
    if (m === 9 || m === 19) {
      bank.push(b.bank('AUTH_APPROVED', { ...ctx, event_time: t, amount_minor: 200_000 + Math.floor(i / 100) }));
      continue;
    }
    bank.push(b.bank('AUTH_APPROVED', { ...ctx, event_time: t, amount_minor: 1_000 }));
    bank.push(b.bank('REVERSAL_APPLIED', { stan: ctx.stan, orig_rrn: ctx.rrn, event_time: t + SEC }));
  }
  bank.sort((x, y) => x.event_time - y.event_time);
  return { terminal, gateway: [], bank };
}
