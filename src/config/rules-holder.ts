/**
 * The rules in force, swappable at run time. Detectors read them through
 * `source` (a RulesSource) at each decision, so a reload applies to the next
 * decision and no state is lost. A new file is validated in full before it
 * replaces anything: an invalid file is refused with its reason (naming the
 * bad field) and the old rules stay in force.
 */
import { isPosguardError } from '../errors.js';
import { logger } from '../util/log.js';
import { loadRulesFile, type Rules } from './rules.js';

export type ReloadResult = { ok: true } | { ok: false; reason: string };

/** The two calls RulesHolder logs with; console, pino and most loggers fit. */
export interface RulesLogger {
  info(message: string): void;
  error(message: string): void;
}

/** The one logger's `rules` child (which masks secrets in every line). */
function defaultLogger(): RulesLogger {
  const log = logger().child({ component: 'rules' });
  return { info: (m) => log.info(m), error: (m) => log.error(m) };
}

export class RulesHolder {
  private current: Rules;
  private reloads = 0;
  /** For detectors: `new CardPatterns(holder.source, emit)`. */
  readonly source: () => Rules = () => this.current;

  constructor(initial: Rules, private readonly path?: string) {
    this.current = initial;
  }

  get(): Rules {
    return this.current;
  }

  /** Successful reloads since start. */
  get generation(): number {
    return this.reloads;
  }

  /** Re-reads the rules file; on any error keeps the current rules and says why. */
  reload(): ReloadResult {
    if (this.path === undefined) return { ok: false, reason: 'no rules file to reload: started with the built-in defaults (use --rules FILE)' };
    try {
      this.current = loadRulesFile(this.path);
      this.reloads++;
      return { ok: true };
    } catch (e) {
      if (isPosguardError(e)) return { ok: false, reason: `${e.code}: ${e.message}` };
      return { ok: false, reason: `cannot reload ${this.path}: ${(e as Error)?.message ?? String(e)}` };
    }
  }

  /**
   * Reloads on SIGHUP and logs the outcome. Returns a function that removes
   * the handler (lifecycle: call it on close).
   */
  watchSignals(log: RulesLogger = defaultLogger()): () => void {
    const onHup = (): void => {
      const r = this.reload();
      if (r.ok) log.info(`rules reloaded from ${this.path} (generation ${this.reloads}); new thresholds apply to new decisions`);
      else log.error(`rules reload refused, previous rules stay in force: ${r.reason}`);
    };
    process.on('SIGHUP', onHup);
    return () => void process.off('SIGHUP', onHup);
  }
}
