/**
 * TERMINAL_FAULT_SPIKE, docs/semantics.md: per terminal_id, on the terminal's
 * own clock (a steady drift shifts every signal alike, so the window is fair).
 * Signals: DEVICE_FAULT, and TXN_FAILED with CARD_READ_ERROR or PRINTER_ERROR.
 * Fires at signal e when the window holds >= minSignals. rrn null, stan e's.
 */
import type { Rules } from '../config/rules.js';
import type { Anomaly } from '../events/anomaly.js';
import { utcDay } from '../events/anomaly.js';
import type { TerminalEvent } from '../events/index.js';
import { groupBy, type Dataset } from './dataset.js';
import { evidence, makeAnomaly } from './record.js';
import { dailyTriggers } from './window.js';

export function isHardwareSignal(e: TerminalEvent): boolean {
  return e.event_type === 'DEVICE_FAULT'
    || (e.event_type === 'TXN_FAILED' && (e.failure_reason === 'CARD_READ_ERROR' || e.failure_reason === 'PRINTER_ERROR'));
}

export function terminalFaultSpikes(ds: Dataset, rules: Rules): Anomaly[] {
  const r = rules.terminalFaultSpike;
  const out: Anomaly[] = [];
  for (const [terminalId, signals] of groupBy(ds.terminal.filter(isHardwareSignal), (e) => e.terminal_id)) {
    let count = 0;
    const triggers = dailyTriggers<TerminalEvent>(signals, r.windowMs, {
      add: () => void count++,
      remove: () => void count--,
      holds: () => count >= r.minSignals,
    });
    for (const { trigger, window } of triggers) {
      out.push(makeAnomaly('TERMINAL_FAULT_SPIKE', `${terminalId}|${utcDay(trigger.event_time)}`, rules, {
        status: 'OPEN',
        event_time: trigger.event_time,
        terminal_id: trigger.terminal_id,
        merchant_id: trigger.merchant_id,
        // Keyed by terminal: semantics.md lists card_token neither among the trigger's fields nor as the key.
        card_token: null,
        rrn: null,
        stan: trigger.stan,
        issuer_id: null,
        amount_minor: trigger.amount_minor,
        currency: trigger.currency,
        related_rrns: [], // terminal events carry no rrn
        evidence: evidence({ terminal: window }),
      }));
    }
  }
  return out;
}
