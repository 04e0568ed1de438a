/**
 * How to reach posguard's ClickHouse. Two targets (src/config/clickhouse-target.ts
 * decides which from the command line and the environment), one code path: a
 * ClickHouse server over HTTP(S), or the embedded engine (chdb) under a data
 * directory. Both are driven through the same `@clickhouse/client` API.
 * Nothing here reads process.env.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { ClickHouseTarget, ServerTarget } from '../../config/clickhouse-target.js';
import { PosguardError } from '../../errors.js';
import { mkdirPrivateSync, narrowPrivateDirSync } from '../../util/private-files.js';
import { logger } from '../../util/log.js';

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
