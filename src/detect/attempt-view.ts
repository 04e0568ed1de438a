/**
 * What a debit detector may read about one attempt, and nothing more: its
 * events (type, time, codes, ids), its debit and its earliest request. The
 * engine implements it over its packed storage (src/engine/live-attempt.ts):
 * detectors never see how an attempt is stored, and the engine may change
 * that layout without touching them.
 *
 * Event types, response codes and failure reasons are the small numbers of
 * src/events/codes.ts (T, G, B, rcCode, frCode). Event indexes run from 0 to
 * eventCount - 1 in the order the events reached the engine (redeliveries
 * held once); detectors that need time order read eventTime.
 */
export interface AttemptView {
  /** The attempt's rrn, null while no gateway or bank event named one. */
  readonly rrn: string | null;
  /** Distinct events held. */
  readonly eventCount: number;
  /** Event type code of event i (src/events/codes.ts). */
  eventType(i: number): number;
  /** event_time of event i, epoch ms in its own stream's clock. */
  eventTime(i: number): number;
  /** Response code of event i (rcCode), 0 = none. */
  responseCode(i: number): number;
  /** Failure reason of event i (frCode), 0 = none. */
  failureReason(i: number): number;
  /** Event i is a gateway event whose own rrn is the attempt's rrn (spec: "the gateway has an event with rrn R"). */
  namesOwnRrn(i: number): boolean;
  /** event_id of event i, lowercase. */
  eventId(i: number): string;
  /** Bank time of the debit (the earliest SALE/PREAUTH AUTH_APPROVED), NaN when none. */
  readonly debitAt: number;
  /** Its amount_minor, NaN when none. */
  readonly debitAmount: number;
  /** Its event index, -1 when none. */
  readonly debitIndex: number;
  /** Its currency, null when none. */
  readonly debitCurrency: string | null;
  /** amount_minor of the earliest REQUEST_SENT, NaN when none. */
  readonly requestAmount: number;
  /** Its event index, -1 when none. */
  readonly requestIndex: number;
  /** The terminal's currency: the earliest REQUEST_SENT's, else the first terminal event's; null when none. */
  readonly terminalCurrency: string | null;
}
