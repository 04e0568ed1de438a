export * from './generated.js';
import type { BankEvent, GatewayEvent, TerminalEvent } from './generated.js';

export const STREAMS = ['terminal', 'gateway', 'bank'] as const;
export type Stream = (typeof STREAMS)[number];

export interface EventOf {
  terminal: TerminalEvent;
  gateway: GatewayEvent;
  bank: BankEvent;
}
export type AnyEvent = TerminalEvent | GatewayEvent | BankEvent;

/** One event with the stream it came from. */
export type StreamEvent =
  | { stream: 'terminal'; event: TerminalEvent }
  | { stream: 'gateway'; event: GatewayEvent }
  | { stream: 'bank'; event: BankEvent };

/** Where an event came from, for evidence and forensics (file+line or topic+partition+offset). */
export interface SourceRef {
  readonly source: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly line?: number;
}
