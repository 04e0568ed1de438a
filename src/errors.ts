/**
 * Every error posguard raises on purpose, with a stable code. The CLI prints
 * `posguard: <CODE>: <message>` and exits non-zero; docs/errors.md lists each
 * code once and test/errors.test.ts fails when one is missing there.
 */
export const ERROR_CODES = {
  PG_CONFIG_INVALID: 'a config or rules file breaks its schema',
  PG_INPUT_UNREADABLE: 'an input file cannot be opened or read',
  PG_OUTPUT_UNWRITABLE: 'an output file or folder cannot be written',
  PG_USAGE: 'the command line is wrong',
  PG_DATA_LOCKED: 'the embedded ClickHouse folder is held by another process',
  PG_CLICKHOUSE: 'ClickHouse refused a statement or cannot be reached',
  PG_READ_ONLY: 'a write or DDL statement in a read-only session (posguard sql without --write, or a read-only ClickHouse user)',
  PG_MIGRATION: 'a schema migration failed',
  PG_KAFKA: 'Kafka cannot be reached or refused a request',
  PG_KAFKA_AUTH: 'Kafka refused the SASL credentials',
  PG_KAFKA_TLS: 'TLS with Kafka failed: broker certificate not trusted, or client certificate missing or refused',
  PG_COPARTITION: 'the input topics do not have equal partition counts',
  PG_STATE_TOPIC: 'the checkpoint (state) topic is missing or not compacted',
  PG_REGISTRY: 'the schema registry cannot be reached or refused a request',
  PG_REGISTRY_URL: 'posguard run at start-up: the registry URL does not answer as a schema registry, or cannot be reached',
  PG_REGISTRY_AUTH: 'posguard run at start-up: the schema registry refused the credentials',
  PG_UNKNOWN_ANOMALY: 'an anomaly id given to `posguard label` is not stored',
  PG_LABELS_INVALID: 'a label file has bad rows; nothing was written',
  PG_UNKNOWN_SUPPRESSION: 'a suppression id given to `posguard suppress remove` is not stored',
  PG_NOT_FOUND: 'an id named on the command line matches nothing stored',
  PG_INTERNAL: 'a bug: an invariant of posguard itself was broken',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PosguardError extends Error {
  readonly code: ErrorCode;
  /** True when retrying the same operation later may succeed (network, locks). */
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; context?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PosguardError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.context = Object.freeze({ ...(opts.context ?? {}) });
  }
}

export function isPosguardError(e: unknown): e is PosguardError {
  return e instanceof PosguardError;
}
