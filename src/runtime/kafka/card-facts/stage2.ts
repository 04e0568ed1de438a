/**
 * This member's stage 2 under the spread assignment (issue 14): one
 * CardFactsTask per card-facts partition the card-facts group gave it, built
 * fresh at every generation of that group and fed from the partition's
 * earliest retained record (card-facts-link.ts), so its windows are whole.
 *
 * Anomalies carry the partition's claimed epoch in their version (as stage 1
 * does), so after a partition moves the new owner's versions win. A
 * re-read re-emits what an earlier owner wrote: the same rows under a higher
 * version, identical but for it (no ledger here yet: docs/kafka.md says what
 * that costs).
 *
 * Records are taken in offset order; one below the next expected offset (a
 * batch delivered twice) is skipped. A bad record is counted and logged with
 * its reason and offset; it stays on the topic.
 *
 * Memory: the tasks' held facts and card windows (stage2-task.ts).
 */
import type { Anomaly } from '../../../events/anomaly.js';
import type { RulesSource } from '../../../detect/patterns/types.js';
import type { CardFactsTargets } from '../../../ingest/kafka/card-facts-link.js';
import { epochVersion } from '../../../ingest/kafka/offsets.js';
import type { Logger } from '../../../util/log.js';
import { CardFactsTask } from './stage2-task.js';
import type { CardFactsView } from '../../../metrics/families/card-facts.js';

export interface Stage2Options {
  /** N: the input topics' partition count (the sources of every card-facts partition). */
  readonly sources: number;
  readonly rules: RulesSource;
  readonly now: () => number;
  readonly log: Logger;
  /** An anomaly version to write (summary, suppressions, sink). */
  readonly write: (a: Anomaly) => void;
}

interface Held {
  readonly task: CardFactsTask;
  /** The next offset expected: a record below it was taken already. */
  next: number;
}

export interface Stage2Counters {
  records: number;
  bad: number;
  skipped: number;
}

export class CardFactsStage2 implements CardFactsTargets {
  private generation = 0;
  private held = new Map<number, Held>();
  readonly counters: Stage2Counters = { records: 0, bad: 0, skipped: 0 };

  constructor(private readonly o: Stage2Options) {}

  assigned(gen: number, partitions: readonly { partition: number; start: number; epoch: number }[]): void {
    if (gen < this.generation) return;
    this.generation = gen;
    const held = new Map<number, Held>();
    for (const pl of partitions) {
      const task = new CardFactsTask(pl.partition, this.o.sources, this.o.rules, (a) => this.o.write({ ...a, version: epochVersion(pl.epoch, a.version) }), this.o.now);
      held.set(pl.partition, { task, next: pl.start });
    }
    this.held = held;
  }

  record(gen: number, partition: number, offset: number, value: Buffer | null): void {
    const h = gen === this.generation ? this.held.get(partition) : undefined;
    if (h === undefined || offset < h.next) {
      this.counters.skipped++;
      return;
    }
    h.next = offset + 1;
    this.counters.records++;
    const bad = h.task.record(value);
    if (bad !== null) {
      this.counters.bad++;
      this.o.log.warn(`card-facts record ${partition}@${offset} skipped: ${bad}`);
    }
  }

  /** Every held partition has heard the end of input from every source, nothing held back (--until-end). */
  ended(): boolean {
    for (const h of this.held.values()) if (h.task.frontier !== Infinity || h.task.pending() > 0) return false;
    return true;
  }

  /** Cards held in this member's windows. */
  activeCards(): number {
    let n = 0;
    for (const h of this.held.values()) n += h.task.stage.patterns.activeCards();
    return n;
  }

  /** The input partitions whose end of input a held card-facts partition still waits for (--until-end). */
  waitingFor(): number[] {
    const out = new Set<number>();
    for (const h of this.held.values()) for (const [p, f] of h.task.stage.sourceFrontiers()) if (f !== Infinity) out.add(p);
    return [...out].sort((a, b) => a - b);
  }

  /** The metrics' view (metrics/families/card-facts.ts): `logEnd` of a partition as last fetched, `unacknowledged` the producer's. */
  view(logEnd: ReadonlyMap<number, number>, unacknowledged: number): CardFactsView {
    const partitions = [...this.held.entries()].map(([partition, h]) => {
      const fs = h.task.stage.sourceFrontiers().map(([, f]) => f);
      const spoken = fs.every((f) => f !== -Infinity);
      const finite = fs.filter((f) => Number.isFinite(f));
      const end = logEnd.get(partition);
      return {
        partition, frontier: h.task.frontier, heldFacts: h.task.pending(), lagRecords: end === undefined ? undefined : Math.max(0, end - h.next),
        sourceSpreadMs: spoken && finite.length > 0 ? Math.max(...finite) - Math.min(...finite) : undefined,
      };
    });
    const c = this.counters;
    return { partitions, records: { taken: c.records - c.bad, bad: c.bad, skipped: c.skipped }, unacknowledged };
  }

  /** Per held partition: its frontier (−∞ until every source spoke) and facts held back. */
  partitions(): { partition: number; frontier: number; pending: number }[] {
    return [...this.held.entries()].map(([partition, h]) => ({ partition, frontier: h.task.frontier, pending: h.task.pending() }));
  }
}
