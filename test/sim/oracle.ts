/**
 * A small, independent batch reading of docs/semantics.md, for the simulator's
 * tests only: given every valid event of a data set, which anomalies exist
 * (kind, key, cause, final status)? It is deliberately naive (arrays, no
 * windows, no streaming) so that it is easy to check against the page.
 */
import type { Rules } from '../../src/config/rules.js';
import type { BankEvent, GatewayEvent, TerminalEvent } from '../../src/events/index.js';

export interface OracleAnomaly {
  kind: string;
  key: string;
  cause?: string;
  status: 'OPEN' | 'AUTO_RESOLVED';
  rrn?: string;
  related?: string[];
}

const order = (a: { event_time: number; event_id: string }, b: { event_time: number; event_id: string }) =>
  a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(a)));
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list === undefined) m.set(k, [x]);
    else list.push(x);
  }
  return m;
}

function dedupe<T extends { event_id: string }>(xs: readonly T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => !seen.has(x.event_id) && (seen.add(x.event_id), true));
}

export function oracle(input: { terminal: TerminalEvent[]; gateway: GatewayEvent[]; bank: BankEvent[] }, rules: Rules): OracleAnomaly[] {
  const terminal = dedupe(input.terminal);
  const gateway = dedupe(input.gateway);
  const bank = dedupe(input.bank);
  const out: OracleAnomaly[] = [];
  const grace = rules.debits.reversalGraceMs;
  const horizon = rules.debits.resolutionHorizonMs;
  const att = (tid: string, stan: string) => `${tid}|${stan}`;

  // Linking.
  const NON_REVERSAL = new Set(['REQUEST_RECEIVED', 'FORWARDED_TO_ISSUER', 'ISSUER_RESPONSE', 'ISSUER_TIMEOUT', 'RESPONSE_SENT']);
  const gwByRrn = groupBy(gateway, (e) => e.rrn);
  const gwLink = new Map<string, string>();
  for (const [rrn, evs] of gwByRrn) {
    const linking = evs.filter((e) => NON_REVERSAL.has(e.event_type)).sort(order);
    if (linking.length > 0) gwLink.set(rrn, att(linking[0].terminal_id, linking[0].stan));
  }
  const gwReversalReceived = new Set(gateway.filter((e) => e.event_type === 'REVERSAL_RECEIVED').map((e) => e.orig_rrn as string));
  const termByAttempt = groupBy(terminal.filter((e) => e.event_type !== 'DEVICE_FAULT' && e.event_type !== 'REVERSAL_SENT'), (e) => att(e.terminal_id, e.stan));
  const reversalSent = new Set(terminal.filter((e) => e.event_type === 'REVERSAL_SENT').map((e) => att(e.terminal_id, e.orig_stan as string)));
  const reversals = groupBy(bank.filter((e) => e.event_type === 'REVERSAL_APPLIED' || e.event_type === 'REFUND_POSTED'), (e) => e.orig_rrn as string);
  const revTimes = (rrn: string) => (reversals.get(rrn) ?? []).map((e) => e.event_time);

  // Debits: the earliest AUTH_APPROVED of each rrn.
  const debits: BankEvent[] = [];
  for (const evs of groupBy(bank.filter((e) => e.event_type === 'AUTH_APPROVED' && (e.txn_type === 'SALE' || e.txn_type === 'PREAUTH')), (e) => e.rrn).values()) debits.push(evs.sort(order)[0]);
  debits.sort(order);
  const attemptOf = (d: BankEvent) => gwLink.get(d.rrn) ?? att(d.terminal_id, d.stan);
  const inGrace = (d: BankEvent) => revTimes(d.rrn).some((t) => t - d.event_time <= grace);
  const resolvedLater = (d: BankEvent) => revTimes(d.rrn).some((t) => t - d.event_time > grace && t - d.event_time <= horizon);

  for (const d of debits) {
    const a = attemptOf(d);
    const tevs = termByAttempt.get(a) ?? [];
    const success = tevs.some((e) => e.event_type === 'TXN_COMPLETED' && e.response_code === '00');
    // ORPHAN_DEBIT
    if (!success && !inGrace(d)) {
      const failed = tevs.filter((e) => e.event_type === 'TXN_FAILED');
      const responses = tevs.filter((e) => e.event_type === 'RESPONSE_RECEIVED');
      const gw = gwByRrn.get(d.rrn) ?? [];
      let cause: string;
      if (gwReversalReceived.has(d.rrn)) cause = 'REVERSAL_NOT_APPLIED';
      else if (reversalSent.has(a)) cause = 'REVERSAL_LOST';
      else if (gw.length === 0) cause = 'NO_GATEWAY_RECORD';
      else if (gw.some((e) => e.event_type === 'ISSUER_TIMEOUT')) cause = 'ISSUER_LATE_APPROVAL';
      else if (gw.some((e) => e.event_type === 'ISSUER_RESPONSE' && e.response_code === '00') && gw.some((e) => e.event_type === 'RESPONSE_SENT' && e.response_code !== '00')) cause = 'GATEWAY_RESPONSE_MISMATCH';
      else if (gw.some((e) => e.event_type === 'RESPONSE_SENT' && e.response_code === '00') && responses.length === 0) cause = 'RESPONSE_LOST_TO_TERMINAL';
      else if (responses.some((r) => r.response_code === '00' && failed.some((f) => f.event_time >= r.event_time))) cause = 'TERMINAL_FAILED_AFTER_APPROVAL';
      else if (failed.length === 0) cause = 'NO_TERMINAL_OUTCOME';
      else cause = 'UNEXPLAINED';
      out.push({ kind: 'ORPHAN_DEBIT', key: d.rrn, cause, status: resolvedLater(d) ? 'AUTO_RESOLVED' : 'OPEN', rrn: d.rrn });
    }
    // AMOUNT_MISMATCH
    const req = tevs.filter((e) => e.event_type === 'REQUEST_SENT').sort(order)[0];
    if (req !== undefined && (req.amount_minor !== d.amount_minor || req.currency !== d.currency)) {
      out.push({ kind: 'AMOUNT_MISMATCH', key: d.rrn, status: revTimes(d.rrn).some((t) => t - d.event_time <= horizon) ? 'AUTO_RESOLVED' : 'OPEN', rrn: d.rrn });
    }
  }

  // DUPLICATE_DEBIT
  for (const group of groupBy(debits, (d) => `${d.card_token}|${d.merchant_id}|${d.amount_minor}|${d.currency}`).values()) {
    for (const d2 of group) {
      if (inGrace(d2)) continue;
      const earlier = group.filter((d1) => d1 !== d2 && (d1.event_time < d2.event_time || (d1.event_time === d2.event_time && d1.rrn < d2.rrn)) && d2.event_time - d1.event_time <= rules.duplicateDebit.windowMs && !inGrace(d1));
      if (earlier.length === 0) continue;
      const status = resolvedLater(d2) || earlier.some(resolvedLater) ? 'AUTO_RESOLVED' : 'OPEN';
      out.push({ kind: 'DUPLICATE_DEBIT', key: d2.rrn, status, rrn: d2.rrn, related: earlier.map((d) => d.rrn).sort() });
    }
  }

  // Card patterns (bank time), one per kind, card and UTC day.
  const fired = new Set<string>();
  const fire = (kind: string, card: string, t: number, rrn: string | undefined, related: string[]) => {
    const key = `${card}|${day(t)}`;
    if (fired.has(`${kind}|${key}`)) return;
    fired.add(`${kind}|${key}`);
    out.push({ kind, key, status: 'OPEN', rrn, related: [...related].sort() });
  };
  const ct = rules.cardTesting;
  for (const [card, evs] of groupBy(bank.filter((e) => (e.event_type === 'AUTH_APPROVED' || e.event_type === 'AUTH_DECLINED') && e.amount_minor <= ct.maxAmountMinor), (e) => e.card_token)) {
    evs.sort(order);
    evs.forEach((e, i) => {
      const win = evs.slice(0, i + 1).filter((x) => e.event_time - ct.windowMs <= x.event_time);
      if (win.length >= ct.minAttempts && win.filter((x) => x.event_type === 'AUTH_DECLINED').length >= ct.minDeclined && new Set(win.map((x) => x.merchant_id)).size >= ct.minMerchants) {
        fire('CARD_TESTING', card, e.event_time, e.rrn, win.filter((x) => x !== e).map((x) => x.rrn));
      }
    });
  }
  const cv = rules.cardVelocity;
  for (const [card, evs] of groupBy(debits, (d) => d.card_token)) {
    evs.sort(order);
    evs.forEach((e, i) => {
      const win = evs.slice(0, i + 1).filter((x) => e.event_time - cv.windowMs <= x.event_time);
      const sum = win.filter((x) => x.currency === e.currency).reduce((s, x) => s + x.amount_minor, 0);
      if (win.length >= cv.minDebits || sum >= cv.minSumMinor) fire('CARD_VELOCITY', card, e.event_time, e.rrn, []);
    });
  }
  const it = rules.impossibleTravel;
  const locationOf = (a: string) => (termByAttempt.get(a) ?? []).filter((e) => e.event_type === 'TXN_STARTED' && e.lat !== null && e.lon !== null).sort(order)[0];
  for (const [card, evs] of groupBy(debits, (d) => d.card_token)) {
    const located = evs.map((d) => ({ d, loc: locationOf(attemptOf(d)) })).filter((x) => x.loc !== undefined).sort((a, b) => order(a.d, b.d));
    located.forEach((e, i) => {
      const related = located.slice(0, i).filter((x) => {
        const km = haversineKm(x.loc.lat as number, x.loc.lon as number, e.loc.lat as number, e.loc.lon as number);
        return km >= it.minDistanceKm && (e.d.event_time - x.d.event_time) / 3_600_000 < km / it.maxSpeedKmh;
      });
      if (related.length > 0) fire('IMPOSSIBLE_TRAVEL', card, e.d.event_time, e.d.rrn, related.map((x) => x.d.rrn));
    });
  }
  // TERMINAL_FAULT_SPIKE (the terminal's own clock)
  const fs = rules.terminalFaultSpike;
  const signals = terminal.filter((e) => e.event_type === 'DEVICE_FAULT' || (e.event_type === 'TXN_FAILED' && (e.failure_reason === 'CARD_READ_ERROR' || e.failure_reason === 'PRINTER_ERROR')));
  for (const [tid, evs] of groupBy(signals, (e) => e.terminal_id)) {
    evs.sort(order);
    evs.forEach((e, i) => {
      const win = evs.slice(0, i + 1).filter((x) => e.event_time - fs.windowMs <= x.event_time);
      if (win.length >= fs.minSignals) {
        const key = `${tid}|${day(e.event_time)}`;
        if (!fired.has(`TERMINAL_FAULT_SPIKE|${key}`)) {
          fired.add(`TERMINAL_FAULT_SPIKE|${key}`);
          out.push({ kind: 'TERMINAL_FAULT_SPIKE', key, status: 'OPEN' });
        }
      }
    });
  }
  return out;
}
