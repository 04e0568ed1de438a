/**
 * How many entries each in-memory structure that grows with input holds, and
 * how often one reached its cap (docs/semantics.md, "Memory bounds"), for
 * `posguard_state_entries{structure}` and `posguard_state_cap_hits_total{structure}`.
 *
 * Owners register themselves with a reader (`track`); the census holds them
 * through WeakRefs, so an engine retired at a Kafka rebuild, or one a test
 * built, is never kept alive by its gauge (it stops counting once collected,
 * or at once with `untrack`). Cap hits are plain counts. The process has one
 * census (`stateCensus`), read by the metrics at scrape time; tests build
 * their own.
 */

/** Every structure that reports, as it appears in the `structure` label. */
export const STATE_STRUCTURES = [
  'attempts', 'attempt_timers', 'duplicate_debits', 'device_fault_ids', 'pending_card_facts',
  'cards', 'fault_terminals', 'foreign_reversals', 'offset_log_blocks', 'card_stage_facts',
  'dead_letter_queue', 'registry_schemas', 'registry_resolutions', 'replay_line',
] as const;
export type StateStructure = (typeof STATE_STRUCTURES)[number];

interface Reader {
  readonly structure: StateStructure;
  readonly owner: WeakRef<object>;
  readonly read: (owner: object) => number;
}

export class StateCensus {
  private readers: Reader[] = [];
  /** Collected owners are swept when the list reaches this length (the list stays within twice the live owners). */
  private sweepAt = 64;
  private readonly hits = new Map<StateStructure, number>();

  /** `owner` holds a `structure` of `read(owner)` entries while it lives (or until untrack). */
  track<O extends object>(structure: StateStructure, owner: O, read: (owner: O) => number): void {
    this.readers.push({ structure, owner: new WeakRef(owner), read: read as (o: object) => number });
    if (this.readers.length >= this.sweepAt) {
      this.readers = this.readers.filter((r) => r.owner.deref() !== undefined);
      this.sweepAt = Math.max(64, 2 * this.readers.length);
    }
  }

  /** `owner` no longer holds anything (closed, retired). */
  untrack(owner: object): void {
    this.readers = this.readers.filter((r) => r.owner.deref() !== owner);
  }

  /** `structure` reached its cap `n` times (what happened then is the owner's documented behaviour). */
  capHit(structure: StateStructure, n = 1): void {
    this.hits.set(structure, (this.hits.get(structure) ?? 0) + n);
  }

  /** Entries per structure, summed over the live owners; every structure listed (0 when none). */
  entries(): [StateStructure, number][] {
    const sums = new Map<StateStructure, number>(STATE_STRUCTURES.map((s) => [s, 0]));
    const live: Reader[] = [];
    for (const r of this.readers) {
      const o = r.owner.deref();
      if (o === undefined) continue;
      live.push(r);
      sums.set(r.structure, sums.get(r.structure)! + r.read(o));
    }
    this.readers = live;
    return [...sums];
  }

  /** Cap hits per structure since start; every structure listed. */
  capHits(): [StateStructure, number][] {
    return STATE_STRUCTURES.map((s) => [s, this.hits.get(s) ?? 0]);
  }
}

/** The process's census. */
export const stateCensus = new StateCensus();
