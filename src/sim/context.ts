/** What scenarios and background traffic share: the world, the clocks, the output, the schedule. */
import type { Rules } from '../config/rules.js';
import type { EntryMode, TxnType } from '../events/index.js';
import type { Clocks } from './clocks.js';
import type { Emitter } from './emitter.js';
import type { SimLabel } from './labels.js';
import type { Rng } from './rng.js';
import type { Card, Merchant, Terminal, World } from './world.js';

export interface Purchase {
  readonly card: Card;
  readonly terminal: Terminal;
  readonly txnType: TxnType;
  readonly amount: number;
  readonly currency: string;
  readonly entryMode: EntryMode;
}

export interface TerminalQuery {
  /** Only terminals that report a location (TXN_STARTED lat/lon). */
  readonly located?: boolean;
  /** Not at these merchants. */
  readonly exclude?: ReadonlySet<Merchant>;
  /** Only merchants of these categories. */
  readonly categories?: readonly string[];
}

export interface Ctx {
  readonly rng: Rng;
  readonly world: World;
  readonly clocks: Clocks;
  readonly out: Emitter;
  readonly rules: Rules;
  readonly startMs: number;
  /** End of the span: every scenario's events (late ones included) land before it. */
  readonly endMs: number;
  /** True time of the step being played (a scheduled callback reads its own time here). */
  readonly now: number;
  /** Runs `run` when generation reaches true time `atMs` (never in the past). */
  schedule(atMs: number, run: () => void): void;
  /** Registers a label for a scenario starting now. */
  label(scenario: string, startMs: number, terminalId: string): SimLabel;
  /** A background-style purchase by a pool card (respecting its cooldown and travel), or null if none is free. */
  purchase(t: number): Purchase | null;
  /** A free terminal in `city` matching `q` (busy ones are avoided when possible). */
  terminalIn(city: number, t: number, q?: TerminalQuery): Terminal;
  /** A free terminal of this merchant (or any of its terminals when all are busy). */
  terminalOf(merchant: Merchant, t: number): Terminal;
}
