/**
 * What a failed insert means, from ClickHouse's error code (and, where one
 * code covers two situations, its message). Four classes, two actions:
 *
 * - `data`: the rows themselves are refused (parse and type errors). A retry
 *   sends the same bytes and gets the same answer, so the batch is split until
 *   the refused rows are alone; they become dead letters, the rest is stored.
 * - `limit`: the batch as a whole breaks a per-insert limit (more than
 *   `max_partitions_per_insert_block` = 100 daily partitions in one insert:
 *   code 252 with "partitions for single INSERT block"). Splitting cures it
 *   (101 days → two inserts of ≤ 51), so the same split runs, and only a row
 *   that is refused on its own would become a dead letter.
 * - `transient`: the server, the network or the load (connection, timeouts,
 *   memory, too many parts while merges catch up — also code 252, a different
 *   message —, too many queries, replication). Retried with backoff; commits
 *   wait. Unknown codes land here too: holding the input is recoverable,
 *   dead-lettering good rows is not.
 * - `setup`: the store is set up wrongly for every row (missing table or
 *   column, authentication, grants, read-only user). No row is at fault, so
 *   nothing is dead-lettered; retried with backoff (an operator fixes it and
 *   the sink goes on), logged as such.
 */

export type WriteErrorClass = 'data' | 'limit' | 'transient' | 'setup';

/** ClickHouse codes whose rows will never be accepted as they are. */
const DATA_CODES: ReadonlyMap<number, string> = new Map([
  [6, 'CANNOT_PARSE_TEXT'],
  [25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'],
  [26, 'CANNOT_PARSE_QUOTED_STRING'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'],
  [32, 'ATTEMPT_TO_READ_AFTER_EOF'],
  [33, 'CANNOT_READ_ALL_DATA'],
  [38, 'CANNOT_PARSE_DATE'],
  [41, 'CANNOT_PARSE_DATETIME'],
  [53, 'TYPE_MISMATCH'],
  [69, 'ARGUMENT_OUT_OF_BOUND'],
  [70, 'CANNOT_CONVERT_TYPE'],
  [72, 'CANNOT_PARSE_NUMBER'],
  [117, 'INCORRECT_DATA'],
  [130, 'CANNOT_READ_ARRAY_FROM_TEXT'],
  [131, 'TOO_LARGE_STRING_SIZE'],
  [321, 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'],
  [349, 'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN'],
  [376, 'CANNOT_PARSE_UUID'],
  [407, 'DECIMAL_OVERFLOW'],
  [467, 'CANNOT_PARSE_BOOL'],
]);

/** Codes that say the store is configured wrongly for every row. */
const SETUP_CODES: ReadonlyMap<number, string> = new Map([
  [16, 'NO_SUCH_COLUMN_IN_TABLE'],
  [47, 'UNKNOWN_IDENTIFIER'],
  [60, 'UNKNOWN_TABLE'],
  [62, 'SYNTAX_ERROR'],
  [81, 'UNKNOWN_DATABASE'],
  [164, 'READONLY'],
  [192, 'UNKNOWN_USER'],
  [193, 'WRONG_PASSWORD'],
  [497, 'ACCESS_DENIED'],
  [516, 'AUTHENTICATION_FAILED'],
]);

const TOO_MANY_PARTS = 252;
const TOO_MANY_PARTITIONS = 565;
/** The message of code 252 when it is the per-insert partition limit, not the merge backlog. */
const PARTITIONS_PER_INSERT = /partitions for (a )?single insert block/i;

/** The numeric ClickHouse code of an error (the client gives it as a string), or null (network errors and the like). */
export function clickHouseCode(e: unknown): number | null {
  const raw = (e as { code?: unknown })?.code;
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : null;
}

export function classifyWriteError(e: unknown): WriteErrorClass {
  const code = clickHouseCode(e);
  if (code === null) return 'transient';
  if (DATA_CODES.has(code)) return 'data';
  if (SETUP_CODES.has(code)) return 'setup';
  if (code === TOO_MANY_PARTITIONS) return 'limit';
  if (code === TOO_MANY_PARTS && PARTITIONS_PER_INSERT.test(messageOf(e))) return 'limit';
  return 'transient';
}

/** True when retrying the same batch cannot help: it is split instead (table-batches.ts). */
export function curedBySplitting(cls: WriteErrorClass): boolean {
  return cls === 'data' || cls === 'limit';
}

/** `code 252 TOO_MANY_PARTS` style label of a known code, for log lines and dead-letter reasons. */
export function codeLabel(e: unknown): string | null {
  const code = clickHouseCode(e);
  if (code === null) return null;
  const name = DATA_CODES.get(code) ?? SETUP_CODES.get(code) ?? (e as { type?: unknown })?.type;
  return typeof name === 'string' && name !== '' ? `code ${code} ${name}` : `code ${code}`;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
