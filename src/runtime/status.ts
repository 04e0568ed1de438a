/**
 * The text of a running job's status line ("12000 events, 950/s | open
 * attempts 310 | anomalies: ... | at risk ..."). Showing it is the CLI's
 * business (src/cli/progress.ts rewrites it in place on a terminal); the
 * runtime only says what it is.
 */
import type { Driver } from './driver.js';

/** Where a job shows its status line: `update` may skip a call (rate-limited) unless forced. */
export interface StatusView {
  update(text: () => string, force?: boolean): void;
  done(): void;
}

/** A function that renders the driver's status; the rate is events per second over the last second or more. */
export function statusText(driver: Driver, now: () => number = Date.now): () => string {
  let lastEvents = 0;
  let lastAt = now();
  let rate = 0;
  return () => {
    const t = now();
    if (t - lastAt >= 1_000) {
      rate = Math.round(((driver.events - lastEvents) * 1000) / (t - lastAt));
      lastEvents = driver.events;
      lastAt = t;
    }
    const { summary } = driver;
    const kinds = Object.entries(summary.countsByKind()).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ') || 'none yet';
    const risk = [...summary.moneyAtRisk().entries()].map(([c, v]) => `${(v / 100).toFixed(2)} ${c}`).join(' ') || '0';
    return `${driver.events} events, ${rate}/s | open attempts ${driver.pipeline.engine.openAttempts()} | anomalies: ${kinds} | at risk ${risk}`;
  };
}
