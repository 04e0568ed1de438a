/**
 * Where posguard's ClickHouse lives and how to reach it. Two targets, one code
 * path: a ClickHouse server over HTTP(S) when CLICKHOUSE_URL is set, otherwise
 * the embedded engine (chdb) under a data directory, default ./data. Both are
 * driven through the same `@clickhouse/client` API.
 *
 * The environment is read once, here, from the object the caller passes in
 * (the CLI hands over process.env); nothing below reads process.env.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { PosguardError } from '../../errors.js';
import { mkdirPrivateSync, narrowPrivateDirSync } from '../../util/private-files.js';
import { logger } from '../../util/log.js';
import { decodeUserinfo } from '../../util/redact.js';

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

/** The createClient options for a server target (reads the TLS files). */
export function serverClientOptions(t: ServerTarget, database: string = t.database): Parameters<typeof createClient>[0] {
  const readPem = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new PosguardError('PG_CONFIG_INVALID', `${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
  };
  const tls = t.tls === null
    ? undefined
    : t.tls.certFile !== undefined && t.tls.keyFile !== undefined
      ? { ca_cert: readPem(t.tls.caCertFile, 'CLICKHOUSE_TLS_CA'), cert: readPem(t.tls.certFile, 'CLICKHOUSE_TLS_CERT'), key: readPem(t.tls.keyFile, 'CLICKHOUSE_TLS_KEY') }
      : { ca_cert: readPem(t.tls.caCertFile, 'CLICKHOUSE_TLS_CA') };
  return {
    url: t.url,
    username: t.username,
    password: t.password,
    database,
    request_timeout: t.requestTimeoutMs,
    application: 'posguard',
    // Large inserts compress well; the sink builds big JSON batches.
    compression: { request: true, response: true },
    // Every failure reaches the caller, and the sink logs outages once, then
    // every 30 s; the client's own log would add a stack trace per retry.
    log: { level: ClickHouseLogLevel.OFF },
    ...(tls === undefined ? {} : { tls }),
  };
}

export interface ClickHouseHandle {
  readonly client: ClickHouseClient;
  readonly target: ClickHouseTarget;
  close(): Promise<void>;
}

/**
 * Opens a client for the target. Embedded: creates the data directory (unless
 * `create` is false: a reader should not conjure an empty database) and
 * refuses, with PG_DATA_LOCKED, a directory another process holds (the engine
 * allows one process per directory and one directory per process).
 */
export async function openClickHouse(target: ClickHouseTarget, opts: { create?: boolean } = {}): Promise<ClickHouseHandle> {
  if (target.kind === 'server') {
    const client = createClient(serverClientOptions(target));
    return { client, target, close: () => client.close() };
  }
  if (opts.create === false && !existsSync(target.dataDir)) {
    throw new PosguardError('PG_INPUT_UNREADABLE', `no posguard database at ${target.dataDir}: run \`posguard migrate --data ${target.dataDir}\` or a replay first, or point --data at one`);
  }
  try {
    // The owner's only (0700): the tables hold tokens, masked card numbers and dead-letter payloads.
    mkdirPrivateSync(target.dataDir);
    const narrowed = narrowPrivateDirSync(target.dataDir);
    if (narrowed !== null) logger().child({ component: 'clickhouse' }).warn(`data folder ${narrowed}`);
  } catch (e) {
    throw new PosguardError('PG_OUTPUT_UNWRITABLE', `cannot create data directory ${target.dataDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  // Checked before the engine opens the folder: on a held lock the engine
  // prints its own message to stderr, and the caller deserves one clear line.
  const holder = dataDirHolder(target.dataDir);
  if (holder !== null) throw lockedError(target.dataDir, holder);
  // Loaded lazily: server mode never loads the native engine.
  const { createChdbConnection } = await import('chdb/connection');
  let connection;
  try {
    connection = createChdbConnection({ path: target.dataDir });
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    const again = dataDirHolder(target.dataDir);
    if (again !== null) throw lockedError(target.dataDir, again, e);
    if (/only one active data directory per process/.test(msg)) {
      throw new PosguardError('PG_DATA_LOCKED', `cannot open ${target.dataDir}: this process already holds another data directory (${msg})`, { cause: e });
    }
    throw new PosguardError('PG_DATA_LOCKED', `cannot open data directory ${target.dataDir}: ${msg}; is another posguard process using it?`, { retriable: true, cause: e });
  }
  // chdb types its Connection against its own copy of @clickhouse/client-common;
  // the shapes are the same at run time, the declarations just differ in origin.
  const client = createClient({ connection: connection as unknown as ClientConnection, log: { level: ClickHouseLogLevel.OFF } });
  return { client, target, close: () => client.close() };
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export interface DirHolder {
  readonly pid: number;
  readonly startedAt: string | null;
}

/**
 * The engine writes `status` (PID, start time) into the folder while it holds
 * it and removes it on a clean close. A status file naming a live process
 * other than this one means the folder is in use; one naming a dead process
 * is left over from a crash and harmless.
 */
export function dataDirHolder(dataDir: string): DirHolder | null {
  let text: string;
  try {
    text = readFileSync(resolve(dataDir, 'status'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(text)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return null;
  }
  return { pid, startedAt: /^Started at:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? null };
}

function lockedError(dataDir: string, h: DirHolder, cause?: unknown): PosguardError {
  const since = h.startedAt === null ? '' : `, since ${h.startedAt} UTC`;
  return new PosguardError(
    'PG_DATA_LOCKED',
    `data directory ${dataDir} is in use by another posguard process (pid ${h.pid}${since}); stop it, or query a copy of the folder, or use a ClickHouse server (CLICKHOUSE_URL) to read while it runs`,
    { retriable: true, context: { dataDir, pid: h.pid }, ...(cause === undefined ? {} : { cause }) },
  );
}
