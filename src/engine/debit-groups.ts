/**
 * One engine's side of the duplicate-debit groups: the key a debit is filed
 * under (card | merchant | amount | currency), joining and leaving, and the
 * group a decision reads. The index itself may be shared with the other
 * engines of the process (shared-duplicates.ts).
 */
import type { LiveAttempt } from './live-attempt.js';
import { H_DEBIT_AMOUNT } from './live-attempt.js';
import type { DuplicateGroup } from './duplicate-group.js';
import type { SharedDuplicates } from './shared-duplicates.js';

/** What another engine calls to re-decide a debit it holds. */
export interface DebitOwner {
  reevaluate(x: LiveAttempt): void;
}

export class DebitGroups {
  constructor(
    private readonly index: SharedDuplicates,
    private readonly owner: DebitOwner,
    /** True when other engines read the same index. */
    readonly shared: boolean,
  ) {}

  /** x's group, undefined when x is in none. */
  private groupOf(x: LiveAttempt): DuplicateGroup | undefined {
    const key = x.info?.group;
    return key ? this.index.groups.get(key) : undefined;
  }

  /**
   * The held debits of x's group that can be its first charge (x included),
   * undefined when x is in no group: see DuplicateGroup.firstCandidates.
   */
  firstCandidates(x: LiveAttempt, windowMs: number, graceMs: number, reversed: (y: LiveAttempt) => boolean): LiveAttempt[] | undefined {
    return this.groupOf(x)?.firstCandidates(x, windowMs, graceMs, reversed);
  }

  /** The decided debits of x's group a change of x may re-decide, in join order. */
  laterDecided(x: LiveAttempt, windowMs: number): readonly LiveAttempt[] {
    return this.groupOf(x)?.laterDecided(x, windowMs) ?? [];
  }

  /** x's decision was taken (or retaken). */
  noteDecided(x: LiveAttempt): void {
    this.groupOf(x)?.noteDecided(x);
  }

  join(x: LiveAttempt): void {
    x.touch();
    const i = x.info!;
    const key = `${i.bankCard}|${i.bankMerchant}|${x.n[H_DEBIT_AMOUNT]}|${i.bankCurrency}`;
    i.group = key;
    i.owner = this.owner;
    this.index.join(x, key);
  }

  leave(x: LiveAttempt): void {
    this.index.remove(x);
  }

  /** x was released at watermark w: alone it leaves now; shared, once every engine is past w. */
  release(x: LiveAttempt, w: number): void {
    if (this.shared) this.index.deferRemoval(x, w);
    else this.leave(x);
  }

  /** With a shared index: removes the debits every engine is done with. */
  prune(): void {
    if (this.shared) this.index.prune();
  }

  /** @internal state: the index this engine files its debits in (its own, or the process's shared one). */
  stateIndex(): SharedDuplicates {
    return this.index;
  }
}
