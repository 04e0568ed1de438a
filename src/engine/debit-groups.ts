/**
 * One engine's side of the duplicate-debit groups: the key a debit is filed
 * under (card | merchant | amount | currency), joining and leaving, and the
 * group a decision reads. The index itself may be shared with the other
 * engines of the process (shared-duplicates.ts).
 */
import type { LiveAttempt } from './live-attempt.js';
import { H_DEBIT_AMOUNT } from './live-attempt.js';
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

  /** The held debits filed under x's key (x included), undefined when x is in none. */
  groupOf(x: LiveAttempt): LiveAttempt[] | undefined {
    const key = x.info?.group;
    return key ? this.index.groups.get(key) : undefined;
  }

  join(x: LiveAttempt): void {
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
}
