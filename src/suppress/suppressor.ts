/**
 * Stamps anomalies with the suppression that covers them, before they are
 * written (the ClickHouse paths: demo and run). The active suppressions are
 * reloaded every reloadIntervalMs (default 30 s), so `posguard suppress add`
 * takes effect on a running detector without a restart.
 *
 * Rule: each anomaly version is stamped by the suppressions active when it is
 * written (not removed, `until` still ahead on the wall clock: suppressions
 * are an analyst's decision in real time, not a property of the data). A
 * version written after a suppression is added carries its id, and so does
 * every later version while it stays active; the current state
 * (anomalies_current) follows the latest version. Ids are never touched.
 * When several match, the oldest suppression wins, so the stamp is stable.
 *
 * Bound: at most maxActive suppressions (default 10,000) are held, oldest
 * first; beyond that a warning names how many were left out at every reload.
 * A failed reload keeps the previous set and warns; it never stops detection.
 */
import type { Anomaly } from '../events/anomaly.js';
import { logger } from '../util/log.js';
import { SCOPE_FIELD, type ActiveSuppression, type Scope } from './store.js';

export const SUPPRESSIONS_DEFAULTS = { reloadIntervalMs: 30_000, maxActive: 10_000 } as const;

export interface SuppressorOptions {
  readonly reloadIntervalMs?: number;
  readonly maxActive?: number;
  readonly log?: (level: 'info' | 'warn', msg: string) => void;
  readonly now?: () => number;
}

/** The one logger's `suppress` child (which masks secrets in every line). */
function defaultLog(): NonNullable<SuppressorOptions['log']> {
  const log = logger().child({ component: 'suppress' });
  return (level, msg) => log[level](msg);
}

export type LoadActive = (cap: number) => Promise<{ rows: ActiveSuppression[]; total: number }>;

export class Suppressor {
  /** kind → scope → value → the suppression and its age rank (0 = oldest). Nested maps: no key strings built per anomaly. */
  private index: Index = new Map();
  private count = 0;
  private timer: NodeJS.Timeout | null = null;
  private state: 'new' | 'running' | 'closed' = 'new';
  private reloading: Promise<boolean> | null = null;
  private readonly reloadIntervalMs: number;
  private readonly maxActive: number;
  private readonly log: NonNullable<SuppressorOptions['log']>;
  private readonly now: () => number;
  /** Figures for logs and tests. */
  readonly stats = { reloads: 0, reloadFailures: 0, stamped: 0, active: 0, leftOut: 0 };

  constructor(private readonly load: LoadActive, opts: SuppressorOptions = {}) {
    this.reloadIntervalMs = opts.reloadIntervalMs ?? SUPPRESSIONS_DEFAULTS.reloadIntervalMs;
    this.maxActive = opts.maxActive ?? SUPPRESSIONS_DEFAULTS.maxActive;
    this.log = opts.log ?? defaultLog();
    this.now = opts.now ?? Date.now;
  }

  /** First load (awaited, so the first anomaly is already covered), then the periodic reload. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    await this.reload();
    if (this.state !== 'running') return;
    this.timer = setInterval(() => void this.reload(), this.reloadIntervalMs);
    this.timer.unref();
  }

  /** Reads the active suppressions again; false (previous set kept) when the store fails. */
  reload(): Promise<boolean> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async doReload(): Promise<boolean> {
    try {
      const { rows, total } = await this.load(this.maxActive);
      const next: Index = new Map();
      let count = 0;
      // Oldest first from the store: the first one per key stays.
      rows.forEach((s, rank) => {
        let scopes = next.get(s.kind);
        if (scopes === undefined) next.set(s.kind, (scopes = new Map()));
        let values = scopes.get(s.scope);
        if (values === undefined) scopes.set(s.scope, (values = new Map()));
        if (values.has(s.value)) return;
        values.set(s.value, { s, rank });
        count++;
      });
      this.index = next;
      this.count = count;
      this.stats.reloads++;
      this.stats.active = rows.length;
      this.stats.leftOut = Math.max(0, total - rows.length);
      if (this.stats.leftOut > 0) this.log('warn', `${total} active suppressions, only the oldest ${this.maxActive} apply; remove stale ones (posguard suppress list)`);
      return true;
    } catch (e) {
      this.stats.reloadFailures++;
      this.log('warn', `cannot reload suppressions, keeping the ${this.count} loaded before: ${(e as Error).message}`);
      return false;
    }
  }

  /** The anomaly as it must be written: with suppressed_by set when a suppression covers it. */
  stamp(a: Anomaly): Anomaly {
    const id = this.match(a);
    if (id === null) return a.suppressed_by === undefined || a.suppressed_by === null ? a : { ...a, suppressed_by: null };
    this.stats.stamped++;
    return a.suppressed_by === id ? a : { ...a, suppressed_by: id };
  }

  private match(a: Anomaly): string | null {
    const scopes = this.index.get(a.kind);
    if (scopes === undefined) return null;
    let best: Entry | null = null;
    let now: number | undefined;
    for (const [scope, values] of scopes) {
      const v = a[SCOPE_FIELD[scope]];
      const hit = v === null || v === undefined ? undefined : values.get(v);
      if (hit === undefined || (best !== null && hit.rank > best.rank)) continue;
      // One that expired since the last reload must not stamp; the next reload drops it.
      if (hit.s.untilMs > (now ??= this.now())) best = hit;
    }
    return best?.s.id ?? null;
  }

  get size(): number {
    return this.count;
  }

  close(): void {
    this.state = 'closed';
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

interface Entry {
  readonly s: ActiveSuppression;
  readonly rank: number;
}

type Index = Map<string, Map<Scope, Map<string, Entry>>>;
