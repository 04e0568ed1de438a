/**
 * Dead-letter reasons are free text naming the field and the value
 * (src/ingest/validate.ts); a metric label must come from a small set. This
 * maps a reason to its class. A reason that already is a class name (what a
 * Kafka decoder may pass) is kept as it is.
 */
export const DEAD_LETTER_REASONS = [
  'invalid_json', 'not_an_object', 'undecodable', 'missing_field', 'unknown_field', 'unknown_value',
  'invalid_value', 'clear_pan', 'unmasked_pan', 'store_refused', 'event_time_in_future', 'wrong_partition', 'line_too_long', 'other',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

const KNOWN = new Set<string>(DEAD_LETTER_REASONS);

// Order matters: the first pattern that matches wins (a PAN message also says "field card_token").
const PATTERNS: readonly (readonly [RegExp, DeadLetterReason])[] = [
  // Records that cannot be placed (src/ingest/placement.ts): the class is the reason's prefix.
  [/^event_time_in_future\b/, 'event_time_in_future'],
  [/^wrong_partition\b/, 'wrong_partition'],
  [/^not valid JSON|^not_json/i, 'invalid_json'],
  [/^line too long/, 'line_too_long'],
  [/expected a JSON object/i, 'not_an_object'],
  [/clear card number|\bPAN\b/, 'clear_pan'],
  [/masked_pan/, 'unmasked_pan'],
  [/^store_refused\b|ClickHouse refused/i, 'store_refused'],
  [/avro|magic byte|schema id|schema registry|cannot decode|undecodable/i, 'undecodable'],
  [/: missing\b/, 'missing_field'],
  [/not in the \w+ contract/, 'unknown_field'],
  [/unknown value/, 'unknown_value'],
  [/^field \S+: /, 'invalid_value'],
];

export function deadLetterReason(reason: string): DeadLetterReason {
  if (KNOWN.has(reason)) return reason as DeadLetterReason;
  for (const [re, cls] of PATTERNS) if (re.test(reason)) return cls;
  return 'other';
}
