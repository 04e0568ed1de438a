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

  /**
   * A true time the bank stamps exactly `stampMs` (boundary scenarios aim at
   * bank-time edges). The offset moves < 1 ms per second, so the stamp is
   * reached within a few ms of stampMs - offset; rounding can skip a stamp,
   * then the nearest true time after it is returned.
   */
  bankTrueFor(stampMs: number): number {
    const guess = stampMs - this.offset(this.bk, stampMs);
    for (let d = 0; d <= 4; d++) {
      if (this.bank(guess - d) === stampMs) return guess - d;
      if (this.bank(guess + d) === stampMs) return guess + d;
    }
    let t = guess - 4;
    while (this.bank(t) < stampMs) t++;
    return t;
  }

  private offset(w: Wander, t: number): number {
    return Math.round(w.amp * Math.sin((2 * Math.PI * (t - this.startMs)) / w.period + w.phase));
  }
}
