/**
 * One explicit lifecycle state and one place that closes resources.
 *
 * `Lifecycle` holds the state of a job (`created → starting → running →
 * draining → closing → closed`) and refuses a transition that skips backwards,
 * so "are we stopping?" is one read, not a set of flags.
 *
 * `Resources` is the stack of everything a job opened (ClickHouse handles,
 * metrics servers, signal watchers, files). `close()` closes them in reverse
 * order of opening, once: a second call (a signal during an error exit) returns
 * the same promise (as kafkajs shares one stop promise), and one closer failing
 * does not skip the others (as fastify's onClose hooks); the first error is
 * rethrown after all have run, every one is logged (a later one would be lost
 * otherwise). Each close is a `debug` line of the `runtime` logger.
 */
import { PosguardError } from '../errors.js';
import { logger } from '../util/log.js';

export const LIFECYCLE_STATES = ['created', 'starting', 'running', 'draining', 'closing', 'closed'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export class Lifecycle {
  private current: LifecycleState = 'created';
  private readonly listeners: ((s: LifecycleState) => void)[] = [];

  constructor(private readonly name: string) {}

  get state(): LifecycleState {
    return this.current;
  }

  /** True from `draining` on: stop taking new input. */
  get stopping(): boolean {
    return LIFECYCLE_STATES.indexOf(this.current) >= LIFECYCLE_STATES.indexOf('draining');
  }

  /** Moves forward to `to`; moving to the current state is a no-op, moving back is a bug. */
  to(to: LifecycleState): void {
    const from = LIFECYCLE_STATES.indexOf(this.current);
    const next = LIFECYCLE_STATES.indexOf(to);
    if (next === from) return;
    if (next < from) throw new PosguardError('PG_INTERNAL', `${this.name}: lifecycle cannot go from ${this.current} back to ${to}`);
    this.current = to;
    for (const l of this.listeners) l(to);
  }

  onChange(l: (s: LifecycleState) => void): void {
    this.listeners.push(l);
  }
}

interface Owned {
  readonly name: string;
  readonly close: () => Promise<void> | void;
}

export class Resources {
  private readonly owned: Owned[] = [];
  private closing: Promise<void> | null = null;

  /** Takes ownership of a resource: `close` runs at `closeAll()`, after those opened later. */
  own<T>(name: string, resource: T, close: (r: T) => Promise<void> | void): T {
    if (this.closing !== null) throw new PosguardError('PG_INTERNAL', `resource "${name}" opened after close began`);
    this.owned.push({ name, close: () => close(resource) });
    return resource;
  }

  /** Runs `close` at `closeAll()` (a watcher to remove, a timer to clear). */
  defer(name: string, close: () => Promise<void> | void): void {
    this.own(name, null, close);
  }

  /** Names still owned, oldest first (for tests and the shutdown log). */
  names(): string[] {
    return this.owned.map((o) => o.name);
  }

  /** Closes everything in reverse order of opening; idempotent: every call gets the same promise. */
  closeAll(): Promise<void> {
    this.closing ??= this.runClosers();
    return this.closing;
  }

  private async runClosers(): Promise<void> {
    const log = logger().child({ component: 'runtime' });
    let first: unknown = null;
    while (this.owned.length > 0) {
      const o = this.owned.pop()!;
      try {
        await o.close();
        log.debug(`closed ${o.name}`);
      } catch (e) {
        log.warn({ err: e }, `closing ${o.name} failed`);
        first ??= e instanceof Error ? new PosguardError('PG_INTERNAL', `closing ${o.name}: ${e.message}`, { cause: e }) : e;
      }
    }
    if (first !== null) throw first;
  }
}
