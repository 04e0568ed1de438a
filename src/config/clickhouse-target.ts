/**
 * Where posguard's ClickHouse lives: a ClickHouse server over HTTP(S) when
 * CLICKHOUSE_URL is set, otherwise the embedded engine (chdb) under a data
 * directory, default ./data. Pure configuration (URL and environment → a
 * target); opening it is src/sinks/clickhouse/connection.ts.
 *
 * The environment is read once, here, from the object the caller passes in
 * (the CLI hands over process.env); nothing below reads process.env.
 */
import { resolve } from 'node:path';
import { PosguardError } from '../errors.js';
import { decodeUserinfo } from '../util/redact.js';

export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_DATABASE = 'posguard';

export interface EmbeddedTarget {
  readonly kind: 'embedded';
  /** Absolute path of the data directory. */
  readonly dataDir: string;
}

export interface ServerTarget {
  readonly kind: 'server';
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly database: string;
  /** PEM files for TLS: a private CA, and a client certificate + key for mutual TLS. */
  readonly tls: { readonly caCertFile: string; readonly certFile?: string; readonly keyFile?: string } | null;
  readonly requestTimeoutMs: number;
}

export type ClickHouseTarget = EmbeddedTarget | ServerTarget;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Decides the target from the command line and the environment:
 * CLICKHOUSE_URL (+ CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE,
 * CLICKHOUSE_TLS_CA, CLICKHOUSE_TLS_CERT, CLICKHOUSE_TLS_KEY,
 * CLICKHOUSE_REQUEST_TIMEOUT_MS) selects a server; otherwise the embedded
 * engine under `dataDir` (default ./data). Both at once is a usage error.
 */
export function resolveTarget(opts: { dataDir?: string; env?: Env } = {}): ClickHouseTarget {
  const env = opts.env ?? {};
  const url = nonEmpty(env.CLICKHOUSE_URL);
  if (url === undefined) {
    return Object.freeze({ kind: 'embedded', dataDir: resolve(opts.dataDir ?? DEFAULT_DATA_DIR) });
  }
  if (opts.dataDir !== undefined) {
    throw new PosguardError('PG_USAGE', `both --data ${opts.dataDir} and CLICKHOUSE_URL are set: unset CLICKHOUSE_URL to use the embedded engine, or drop --data to use the server`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PosguardError('PG_CONFIG_INVALID', 'CLICKHOUSE_URL: not a URL (value not shown: it may hold credentials; expected e.g. https://clickhouse.example:8443)');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PosguardError('PG_CONFIG_INVALID', `CLICKHOUSE_URL: expected an http:// or https:// URL (the HTTP interface, port 8123/8443), got ${parsed.protocol}`);
  }
  if (parsed.pathname !== '/' && parsed.pathname !== '') {
    throw new PosguardError('PG_CONFIG_INVALID', `CLICKHOUSE_URL: no path expected (got ${parsed.pathname}); name the database in CLICKHOUSE_DATABASE`);
  }
  const ca = nonEmpty(env.CLICKHOUSE_TLS_CA);
  const cert = nonEmpty(env.CLICKHOUSE_TLS_CERT);
  const key = nonEmpty(env.CLICKHOUSE_TLS_KEY);
  if ((cert === undefined) !== (key === undefined)) {
    throw new PosguardError('PG_CONFIG_INVALID', 'CLICKHOUSE_TLS_CERT and CLICKHOUSE_TLS_KEY: set both for mutual TLS, or neither');
  }
  if (cert !== undefined && ca === undefined) {
    throw new PosguardError('PG_CONFIG_INVALID', 'CLICKHOUSE_TLS_CERT: mutual TLS also needs CLICKHOUSE_TLS_CA (the CA that signed the server certificate)');
  }
  if (ca !== undefined && parsed.protocol !== 'https:') {
    throw new PosguardError('PG_CONFIG_INVALID', 'CLICKHOUSE_TLS_CA is set but CLICKHOUSE_URL is not https://');
  }
  const timeout = nonEmpty(env.CLICKHOUSE_REQUEST_TIMEOUT_MS);
  const requestTimeoutMs = timeout === undefined ? 30_000 : Number(timeout);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new PosguardError('PG_CONFIG_INVALID', `CLICKHOUSE_REQUEST_TIMEOUT_MS: expected a positive integer, got ${JSON.stringify(timeout)}`);
  }
  const database = nonEmpty(env.CLICKHOUSE_DATABASE) ?? DEFAULT_DATABASE;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new PosguardError('PG_CONFIG_INVALID', `CLICKHOUSE_DATABASE: expected a plain identifier, got ${JSON.stringify(database)}`);
  }
  // Credentials in the URL are allowed but the variables win; they never appear in messages.
  const username = nonEmpty(env.CLICKHOUSE_USER) ?? (decodeUserinfo(parsed.username, 'CLICKHOUSE_URL') || 'default');
  const password = env.CLICKHOUSE_PASSWORD ?? decodeUserinfo(parsed.password, 'CLICKHOUSE_URL');
  parsed.username = '';
  parsed.password = '';
  return Object.freeze({
    kind: 'server',
    url: parsed.toString().replace(/\/$/, ''),
    username,
    password,
    database,
    tls: ca === undefined ? null : Object.freeze({ caCertFile: ca, ...(cert !== undefined ? { certFile: cert, keyFile: key } : {}) }),
    requestTimeoutMs,
  });
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

/** A human description without secrets, for logs and CLI output. */
export function describeTarget(t: ClickHouseTarget): string {
  return t.kind === 'embedded' ? `embedded ClickHouse at ${t.dataDir}` : `ClickHouse ${t.url} (database ${t.database}, user ${t.username})`;
}
