/**
 * Producer clocks. Terminals drift steadily (each its own offset within
 * +/-5 min, set in the world). The gateway and the bank core are NTP-synced:
 * each has a slowly wandering offset within +/-1 s, smooth enough that two
 * events of one host never swap order.
 */
import type { Rng } from './rng.js';
import type { Terminal } from './world.js';

interface Wander {
  readonly amp: number;
  readonly period: number;
  readonly phase: number;
}

export class Clocks {
  private readonly gw: Wander;
  private readonly bk: Wander;

  constructor(rng: Rng, private readonly startMs: number) {
    const wander = (): Wander => ({ amp: rng.int(200, 900), period: rng.int(2, 6) * 3_600_000, phase: rng.between(0, 2 * Math.PI) });
    this.gw = wander();
    this.bk = wander();
  }

  terminal(terminal: Terminal, trueMs: number): number {
    return trueMs + terminal.driftMs;
  }

  gateway(trueMs: number): number {
    return trueMs + this.offset(this.gw, trueMs);
  }

  bank(trueMs: number): number {
    return trueMs + this.offset(this.bk, trueMs);
  }

  private offset(w: Wander, t: number): number {
    return Math.round(w.amp * Math.sin((2 * Math.PI * (t - this.startMs)) / w.period + w.phase));
  }
}
