/** What the engine is given and what it reports (engine.ts). */
import type { Rules } from '../config/rules.js';
import type { Anomaly } from '../events/anomaly.js';
import type { DebitDetector } from '../detect/debit-detectors.js';
import type { CardPatternDetector, FaultSpikeDetector } from '../detect/patterns/types.js';
import type { BankEvent, GatewayEvent, Stream, TerminalEvent } from '../events/index.js';
import type { SharedDuplicates } from './shared-duplicates.js';
import type { TransactionRecord } from '../events/transaction.js';

export interface EngineOutput {
  anomaly(a: Anomaly): void;
  transaction?(t: TransactionRecord): void;
  /** An event that arrived after the watermark had passed it (still applied). */
  late?(stream: Stream, event: TerminalEvent | GatewayEvent | BankEvent): void;
}

export interface EngineOptions {
  rules: () => Rules;
  output: EngineOutput;
  cardPatterns?: CardPatternDetector;
  faultSpikes?: FaultSpikeDetector;
  /** The debit kinds, in emission order; default every one (DEBIT_DETECTORS). */
  debitDetectors?: readonly DebitDetector[];
  /** Wall clock for `detected_at` only; never used for decisions. */
  now?: () => number;
  /**
   * Duplicate-debit groups shared with other engines of this process (one per
   * input partition in `posguard run`): a merchant's terminals may sit in
   * different partitions. A debit's first charge arriving in another engine
   * later re-decides it there, as any late evidence does.
   */
  duplicateGroups?: SharedDuplicates;
}

export interface EngineCounters {
  events: Record<Stream, number>;
  duplicates: Record<Stream, number>;
  late: Record<Stream, number>;
  /** Late events too old for any held state: recorded, applied to nothing. */
  tooLate: Record<Stream, number>;
  linkConflicts: number;
  anomalyVersions: number;
  decisions: number;
  released: number;
}
