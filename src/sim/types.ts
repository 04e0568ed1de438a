/** Public types of the simulator (re-exported by ./index.ts). */
import type { Stream } from '../events/index.js';
import type { Rules } from '../config/rules.js';
import type { IssuerOutageOptions } from './scenarios/issuer-outage.js';

export interface SimOptions {
  seed: number;
  /** Length of the simulated span, minutes (attempts start within it). */
  minutes: number;
  /** Nominal attempts per second; a diurnal profile scales it (about 0.85-1.2x in business hours, 0.1x at night). */
  tps: number;
  /** True time the span starts, epoch ms. */
  startMs: number;
  /** Fraction of attempts turned into an injected scenario (fault, duplicate, pattern, near miss). Default 0.03; 0 = clean traffic. */
  faultRate?: number;
  /** Fraction of events followed by a broken line. Default 0.0002; with any rate > 0 every file gets at least one line of each bad kind. */
  badRecordRate?: number;
  /** Fraction of events written a second time (same event_id and content, later in the file, within max delay). Default 0.005. */
  redeliveryRate?: number;
  /** Fraction of events arriving 2-8 minutes late (only where lateness matters or is harmless). Default 0.0005. */
  lateEventRate?: number;
  /** Thresholds the scenarios aim at (and near misses stay under). Default: the spec defaults. */
  rules?: Rules;
  /** Fraction of attempts turned into a boundary scenario: events exactly on a window edge of the rules or 1 ms either side (./scenarios/boundaries.ts), and the same share of events arriving exactly max delay -1/0/+1 ms after they happen. Default 0 (off: output unchanged). Labels do not describe these. */
  boundaryRate?: number;
  /** An issuer outage window (./scenarios/issuer-outage.ts). Default: none. */
  issuerOutage?: IssuerOutageOptions;
}

export interface SimRecord {
  stream: Stream;
  /** The Kafka key of the contract: the event's terminal_id (for a broken line, that of the event it was made from). */
  key: string;
  /** When the line reaches the detector (true time + delay), epoch ms. Records come in ascending (arrivalMs, generation order). */
  arrivalMs: number;
  /** The JSON line as written (null fields omitted), or a deliberately broken line. */
  line: string;
  /** Why the line is bad (for BAD_RECORD lines only), e.g. "missing_field: stan". */
  bad?: string;
  /** When the event really happened (before clock drift and delay), epoch ms. */
  trueMs: number;
  /** A second delivery of an event already written. */
  redelivery?: true;
  /** Arrives 2-8 minutes after it happened (see labels with late_event_id). */
  late?: true;
}
