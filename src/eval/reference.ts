/**
 * The batch reference: reads every event of a data set at once and applies
 * docs/semantics.md literally, one file per anomaly kind. Deliberately simple
 * and separate from the streaming engine (src/engine, src/detect), so the two
 * can be checked against each other (see compare.ts and `posguard eval`).
 */
import type { Rules } from '../config/rules.js';
import { ANOMALY_KINDS, type Anomaly, type AnomalyKind } from '../events/anomaly.js';
import type { BankEvent, GatewayEvent, TerminalEvent } from '../events/index.js';
import { amountMismatches } from './amount-mismatch.js';
import { cardTesting } from './card-testing.js';
import { cardVelocity } from './card-velocity.js';
import { buildDataset, type Dataset } from './dataset.js';
import { duplicateDebits } from './duplicate-debit.js';
import { impossibleTravel } from './impossible-travel.js';
import { orphanDebits } from './orphan-debit.js';
import { kindEnabled } from './record.js';
import { terminalFaultSpikes } from './terminal-fault-spike.js';

const DETECTORS: Record<AnomalyKind, (ds: Dataset, rules: Rules) => Anomaly[]> = {
  ORPHAN_DEBIT: orphanDebits,
  DUPLICATE_DEBIT: duplicateDebits,
  AMOUNT_MISMATCH: amountMismatches,
  CARD_TESTING: cardTesting,
  CARD_VELOCITY: cardVelocity,
  IMPOSSIBLE_TRAVEL: impossibleTravel,
  TERMINAL_FAULT_SPIKE: terminalFaultSpikes,
};

/**
 * Every anomaly of the data set in its final state (version 1, detected_at 0,
 * never RETRACTED), sorted by (event_time, kind, anomaly_id).
 */
export function referenceAnomalies(
  input: { terminal: readonly TerminalEvent[]; gateway: readonly GatewayEvent[]; bank: readonly BankEvent[] },
  rules: Rules,
): Anomaly[] {
  const ds = buildDataset(input);
  const out: Anomaly[] = [];
  for (const kind of ANOMALY_KINDS) if (kindEnabled(rules, kind)) out.push(...DETECTORS[kind](ds, rules));
  const kindOrder = (k: AnomalyKind) => ANOMALY_KINDS.indexOf(k);
  return out.sort((a, b) => a.event_time - b.event_time || kindOrder(a.kind) - kindOrder(b.kind) || (a.anomaly_id < b.anomaly_id ? -1 : 1));
}
