import { yieldToIo } from '../../../util/yield.js';

/**
 * Where a barrier's hold goes (its log line): the time of each step, less the
 * event loop handed back inside it (`pause`, between the 20 ms slices: the
 * sink's inserts, heartbeats, scrapes, garbage-collection work), which is
 * counted apart.
 */
export class HoldSplit {
  private readonly steps: string[] = [];
  private from = performance.now();
  private handedBackMs = 0;
  private handedBackInStepMs = 0;

  readonly pause = async (): Promise<void> => {
    const t = performance.now();
    await yieldToIo();
    const ms = performance.now() - t;
    this.handedBackMs += ms;
    this.handedBackInStepMs += ms;
  };

  /** Ends the step `name`, begun at the previous mark (or at construction). */
  mark(name: string): void {
    const now = performance.now();
    this.steps.push(`${name} ${Math.round(now - this.from - this.handedBackInStepMs)} ms`);
    this.from = now;
    this.handedBackInStepMs = 0;
  }

  toString(): string {
    return `${this.steps.join(', ')}, event loop handed back ${Math.round(this.handedBackMs)} ms`;
  }
}
