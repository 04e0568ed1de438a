/**
 * Names every LiveAttempt of a process while its engines are snapshotted or
 * restored (issue 13). Attempts point at each other (a merged attempt at the
 * one it went into, a duplicate at its first charges, a duplicate group at
 * debits of several engines), so a snapshot writes each attempt once, under
 * the engine (or the shared index, SHARED_HOLDER) that reached it first, and
 * every pointer as `[holderId, localIndex]`. Restoring hands out one object per
 * name: a name met before its holder is restored is an empty attempt that the
 * holder fills later, so identity is kept across engines.
 *
 * One instance per barrier: snapshot every engine, then the shared index;
 * restore in the same order (see engine-state.ts).
 */
import { LiveAttempt } from '../live-attempt.js';
import type { DebitOwner } from '../debit-groups.js';
import { RestoredOwners } from './owners.js';

/** [holder (engine id, or SHARED_HOLDER), index in that holder's `attempts`]. */
export type AttemptRef = [number, number];

/** The holder id of attempts first reached from the process-wide duplicate index. */
export const SHARED_HOLDER = -1;

/** An owner field written before its engine was named: how to patch it, and the owner. */
interface OwnerFixup {
  patch: (id: number) => void;
  owner: object;
}

export class AttemptRefs {
  // ---- snapshot side ----
  private readonly names = new Map<LiveAttempt, AttemptRef>();
  private readonly counts = new Map<number, number>();
  private readonly queues = new Map<number, LiveAttempt[]>();
  private readonly engineIds = new Map<object, number>();
  private readonly fixups: OwnerFixup[] = [];
  // ---- restore side ----
  private readonly objects = new Map<number, LiveAttempt[]>();
  private handedOut = 0;
  private readonly filled = new Set<LiveAttempt>();
  private readonly owners = new RestoredOwners();

  /** Snapshot: `engine` is being written as `id` (its attempts' owner fields name it). */
  nameEngine(engine: object, id: number): void {
    if (this.engineIds.has(engine)) throw new Error(`engine snapshotted twice with one AttemptRefs (as ${this.engineIds.get(engine)} and ${id})`);
    if ([...this.engineIds.values()].includes(id)) throw new Error(`two engines snapshotted as engine ${id}`);
    this.engineIds.set(engine, id);
  }

  /** Snapshot: x's name; a new name is queued for `holder` to write. */
  ref(x: LiveAttempt, holder: number): AttemptRef {
    const known = this.names.get(x);
    if (known !== undefined) return known;
    const i = this.counts.get(holder) ?? 0;
    this.counts.set(holder, i + 1);
    const name: AttemptRef = [holder, i];
    this.names.set(x, name);
    let q = this.queues.get(holder);
    if (q === undefined) this.queues.set(holder, (q = []));
    q.push(x);
    return name;
  }

  /** Snapshot: the attempts named for `holder` not yet taken, in name order (empties the queue). */
  takeQueued(holder: number): LiveAttempt[] {
    const q = this.queues.get(holder) ?? [];
    this.queues.set(holder, []);
    return q;
  }

  /** Snapshot: the id of an owner engine, or null when it is not named yet (patched by resolveOwners). */
  ownerId(owner: object | null, patch: (id: number) => void): number | null {
    if (owner === null) return null;
    const id = this.engineIds.get(owner);
    if (id !== undefined) return id;
    this.fixups.push({ patch, owner });
    return null;
  }

  /** Snapshot: patches owner fields written before their engine was named; throws on an owner never snapshotted. */
  resolveOwners(): void {
    for (const f of this.fixups.splice(0)) {
      const id = this.engineIds.get(f.owner);
      if (id === undefined) throw new Error('a snapshotted attempt belongs to an engine that was not snapshotted at this barrier');
      f.patch(id);
    }
  }

  /** Snapshot: true when every owner field is written (no engine is missing so far). */
  get ownersResolved(): boolean {
    return this.fixups.length === 0;
  }

  /** Restore: the object named `ref` (the same object for the same name; filled by its holder). */
  attempt(ref: AttemptRef): LiveAttempt {
    let xs = this.objects.get(ref[0]);
    if (xs === undefined) this.objects.set(ref[0], (xs = []));
    let x = xs[ref[1]];
    if (x === undefined) {
      if (!(Number.isInteger(ref[1]) && ref[1] >= 0 && ref[1] < 1e9)) throw new Error(`attempt name ${String(ref)} is not valid`);
      xs[ref[1]] = x = new LiveAttempt();
      this.handedOut++;
    }
    return x;
  }

  /** Restore: the holder writes attempt `ref`'s state into the object. */
  fill(ref: AttemptRef): LiveAttempt {
    const x = this.attempt(ref);
    if (this.filled.has(x)) throw new Error(`attempt ${ref.join(':')} restored twice`);
    this.filled.add(x);
    return x;
  }

  /** Restore: engine `id` exists; attempts owned by it get their owner now or when they are restored. */
  registerEngine(id: number, engine: DebitOwner): void {
    this.owners.register(id, engine);
  }

  /** Restore: sets x's owner to engine `id` (now, or once that engine is registered). */
  setOwner(x: LiveAttempt, id: number | null): void {
    this.owners.set(x, id);
  }

  /** Restore: throws unless every name handed out was filled and every owner found (a partial restore is never used). */
  checkComplete(): void {
    const missing = this.handedOut - this.filled.size;
    if (missing > 0) throw new Error(`${missing} attempt(s) referenced but not present in the restored state`);
    this.owners.checkComplete();
  }
}
