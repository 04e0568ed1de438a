/** The figures of a Kafka run (the summary, tests, the benchmark), and engine counters summed across partitions. */
import type { EngineCounters } from '../../engine/engine.js';
import { STREAMS } from '../../events/index.js';
import type { SourceStats } from '../../ingest/kafka/source-context.js';
import type { LedgerStats } from './ledger.js';

/** The source's counters (records, events, poison, dead letters, commits, pauses) and the job's. */
export interface RunStats extends SourceStats {
  rebuilds: number;
  /** Rebalances after which this member kept its partitions and their state (no re-read). */
  keptStates: number;
  /** Generations built from a checkpoint instead of a rebuild (issue 13). */
  restores: number;
  /** Checkpoint barriers completed (checkpoint and commit durable). */
  checkpoints: number;
  suppressedBelowFloor: number;
  /** Reversals from one partition also given to the other partitions' engines of this process. */
  foreignDelivered: number;
  ledger: LedgerStats;
  /** Under spread: card-facts records this member wrote (facts and markers), read in its stage 2, and bad ones. */
  cardFacts?: { sent: number; read: number; bad: number };
}

export function newRunStats(): RunStats {
  return {
    records: 0, events: 0, poison: { empty: 0, bad_magic_byte: 0, unknown_schema: 0, undecodable: 0, contract: 0, event_time_in_future: 0, wrong_partition: 0 }, misrouted: 0,
    deadLettersSent: 0, commits: 0, staleCommitsDropped: 0, rebuilds: 0, keptStates: 0, restores: 0, checkpoints: 0, pauses: 0, alignmentPauses: 0, suppressedBelowFloor: 0, foreignDelivered: 0,
    ledger: { loaded: 0, suppressedIdentical: 0, suppressedLaterTrigger: 0, retracted: 0 },
  };
}

export const zeroCounters = (): EngineCounters => ({
  events: { terminal: 0, gateway: 0, bank: 0 }, duplicates: { terminal: 0, gateway: 0, bank: 0 }, late: { terminal: 0, gateway: 0, bank: 0 },
  tooLate: { terminal: 0, gateway: 0, bank: 0 }, linkConflicts: 0, anomalyVersions: 0, decisions: 0, released: 0,
});

export function addCounters(into: EngineCounters, c: EngineCounters): void {
  for (const k of ['events', 'duplicates', 'late', 'tooLate'] as const) for (const s of STREAMS) into[k][s] += c[k][s];
  into.linkConflicts += c.linkConflicts;
  into.anomalyVersions += c.anomalyVersions;
  into.decisions += c.decisions;
  into.released += c.released;
}

export function addLedgerStats(into: LedgerStats, l: LedgerStats): void {
  into.loaded += l.loaded;
  into.suppressedIdentical += l.suppressedIdentical;
  into.suppressedLaterTrigger += l.suppressedLaterTrigger;
  into.retracted += l.retracted;
}
