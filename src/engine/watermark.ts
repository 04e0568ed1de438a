/**
 * Event-time watermarks. Each stream's watermark bounds from below the true
 * time of any event still to come on time: max seen − max_delay − the stream's
 * clock error (terminal clocks drift up to terminalMaxDriftMs; gateway and bank
 * up to clockSkewMs). The engine's watermark is the minimum of the three, and
 * −∞ until every stream has spoken, so a stream read late (one replay file
 * after another, a lagging partition) holds decisions back instead of making
 * them on missing evidence.
 */
import type { Rules } from '../config/rules.js';
import type { Stream } from '../events/index.js';

export class Watermarks {
  private maxTerminal = -Infinity;
  private maxGateway = -Infinity;
  private maxBank = -Infinity;
  private closed = false;
  /** Per-stream floors (true time) raised by the live-feed rules: a quiet or released stream stops holding (raiseFloor). */
  private readonly floor: Record<Stream, number> = { terminal: -Infinity, gateway: -Infinity, bank: -Infinity };
  value = -Infinity;

  constructor(private readonly time: () => Rules['time']) {}

  /** Records an event time; true when the combined watermark moved. */
  observe(stream: Stream, eventTime: number): boolean {
    if (stream === 'terminal') {
      // Stryker disable next-line EqualityOperator: equivalent: on an equal maximum `<` rewrites the same value and recompute() cannot move the watermark
      if (eventTime <= this.maxTerminal) return false;
      this.maxTerminal = eventTime;
    } else if (stream === 'gateway') {
      // Stryker disable next-line EqualityOperator: equivalent: on an equal maximum `<` rewrites the same value and recompute() cannot move the watermark
      if (eventTime <= this.maxGateway) return false;
      this.maxGateway = eventTime;
    } else {
      if (eventTime <= this.maxBank) return false;
      this.maxBank = eventTime;
    }
    return this.recompute();
  }

  /** End of input: all windows close. */
  close(): void {
    // Stryker disable next-line BooleanLiteral: equivalent: value is +Infinity after close() and recompute() only raises it, so the flag only saves work
    this.closed = true;
    this.value = Infinity;
  }

  /**
   * Raises stream S's watermark to at least `t` (true time); floors only rise.
   * The live-feed rules (src/runtime/kafka/feed-rules.ts) call it for a quiet
   * partition's streams and for a released stream; events below it are late.
   * True when the combined watermark moved.
   */
  raiseFloor(stream: Stream, t: number): boolean {
    if (!(t > this.floor[stream])) return false;
    this.floor[stream] = t;
    return this.recompute();
  }

  /** Per-stream watermarks (true time): own progress or the floor, whichever is higher. */
  perStream(): Record<Stream, number> {
    const t = this.time();
    const f = this.floor;
    return {
      terminal: Math.max(this.maxTerminal - t.maxDelayMs - t.terminalMaxDriftMs, f.terminal),
      gateway: Math.max(this.maxGateway - t.maxDelayMs - t.clockSkewMs, f.gateway),
      bank: Math.max(this.maxBank - t.maxDelayMs - t.clockSkewMs, f.bank),
    };
  }

  private recompute(): boolean {
    // Stryker disable next-line ConditionalExpression: equivalent: after close() value is +Infinity and `w <= value` returns false anyway (the flag only saves work)
    if (this.closed) return false;
    const s = this.perStream();
    const w = Math.min(s.terminal, s.gateway, s.bank);
    if (w <= this.value) return false;
    this.value = w;
    return true;
  }

  /** @internal state: every field, for src/engine/state (issue 13). */
  stateFields(): WatermarkFields {
    return { maxTerminal: this.maxTerminal, maxGateway: this.maxGateway, maxBank: this.maxBank, closed: this.closed, floor: { ...this.floor }, value: this.value };
  }

  /** @internal state: sets every field from stateFields() (restore, on a fresh instance). */
  loadFields(s: WatermarkFields): void {
    this.maxTerminal = s.maxTerminal;
    this.maxGateway = s.maxGateway;
    this.maxBank = s.maxBank;
    this.closed = s.closed;
    Object.assign(this.floor, s.floor);
    this.value = s.value;
  }
}

/** Every field of Watermarks (snapshot/restore, src/engine/state). */
export interface WatermarkFields {
  maxTerminal: number;
  maxGateway: number;
  maxBank: number;
  closed: boolean;
  floor: Record<Stream, number>;
  value: number;
}
