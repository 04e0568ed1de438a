/**
 * Restore side of an attempt's owner (the engine that re-decides it when a
 * shared duplicate group changes): attempts name it by engine id, and an
 * attempt may be restored before its engine is.
 */
import type { DebitOwner } from '../debit-groups.js';
import type { LiveAttempt } from '../live-attempt.js';

export class RestoredOwners {
  private readonly engines = new Map<number, DebitOwner>();
  private readonly pending = new Map<number, LiveAttempt[]>();

  /** Engine `id` exists; attempts owned by it get their owner now or when they are restored. */
  register(id: number, engine: DebitOwner): void {
    if (this.engines.has(id)) throw new Error(`two engines restored as engine ${id}`);
    this.engines.set(id, engine);
    for (const x of this.pending.get(id) ?? []) x.info!.owner = engine;
    this.pending.delete(id);
  }

  /** Sets x's owner to engine `id` (now, or once that engine is registered). */
  set(x: LiveAttempt, id: number | null): void {
    if (id === null) return;
    const e = this.engines.get(id);
    if (e !== undefined) x.info!.owner = e;
    else {
      let l = this.pending.get(id);
      if (l === undefined) this.pending.set(id, (l = []));
      l.push(x);
    }
  }

  /** Throws when an attempt names an engine that was never registered. */
  checkComplete(): void {
    if (this.pending.size > 0) throw new Error(`attempts owned by engine(s) ${[...this.pending.keys()].join(', ')} that were not restored`);
  }
}
