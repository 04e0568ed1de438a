/**
 * The schema registry through @kafkajs/confluent-schema-registry (Confluent
 * API; Apicurio's ccompat v7 speaks it). Producers register the contract's
 * schemas under `<topic>-value`; the consumer resolves a schema id to the
 * writer's schema once and decodes every later record with that id
 * synchronously (avsc resolver from the writer's schema to the contract's).
 *
 * A 404 for an id makes the record a poison record ("unknown schema id") only
 * when the registry still answers as a registry (registry-probe.ts): a 404
 * from a wrong path or a proxy is the registry missing, not the id. A
 * registry that cannot be reached, answers 5xx, or refuses the credentials is
 * an outage, not bad data: PG_REGISTRY, retriable, never cached, and the
 * caller waits (input held, commits held). `posguard run` probes the registry
 * once at start-up (probe()) and refuses to run on a wrong URL or credentials.
 *
 * Security: basic auth from the options or from the URL's userinfo (taken out
 * of the URL, which is only ever shown without it); for an https registry a
 * private CA and a client certificate (key optionally encrypted) through an
 * https.Agent, the server's certificate always verified.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { PosguardError } from '../../errors.js';
import { LruMap } from '../../util/lru.js';
import { decodeUserinfo, registerSecret } from '../../util/redact.js';
import { stateCensus } from '../../util/state-census.js';
import type { Stream } from '../../events/index.js';
import { readerType, schemaText } from './avro.js';
import { probeRegistry, requireRegistry } from './registry-probe.js';

export interface RegistryOptions {
  readonly url: string;
  readonly username?: string | null;
  readonly password?: string | null;
  readonly clientId?: string;
  /** PEM CA for an https registry (else Node's roots). */
  readonly caFile?: string | null;
  /** PEM client certificate and key for an https registry that asks for one. */
  readonly certFile?: string | null;
  readonly keyFile?: string | null;
  readonly keyPassphrase?: string | null;
  /** Schema ids kept in memory (writers and resolutions each); least recently used evicted. Default REGISTRY_CACHE_ENTRIES. */
  readonly cacheEntries?: number;
}

/** Default capacity of the registry caches: far more schema ids than a contract has versions, bounded against ids made up by bad input. */
export const REGISTRY_CACHE_ENTRIES = 10_000;

/** The registry fields of a run configuration's input section, as options. */
export function registryOptions(i: {
  readonly registryUrl: string | null; readonly registryUsername: string | null; readonly registryPassword: string | null;
  readonly registryCaFile: string | null; readonly registryCertFile: string | null; readonly registryKeyFile: string | null; readonly registryKeyPassphrase: string | null;
  readonly registryCacheEntries?: number;
}): RegistryOptions {
  return {
    url: i.registryUrl ?? '', username: i.registryUsername, password: i.registryPassword,
    caFile: i.registryCaFile, certFile: i.registryCertFile, keyFile: i.registryKeyFile, keyPassphrase: i.registryKeyPassphrase,
    cacheEntries: i.registryCacheEntries,
  };
}

function readPem(field: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new PosguardError('PG_CONFIG_INVALID', `input.${field}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** URL without userinfo, and the basic-auth credentials (explicit options win over the userinfo). */
function splitAuth(o: RegistryOptions): { host: string; auth: { username: string; password: string } | null } {
  let u: URL;
  try {
    u = new URL(o.url);
  } catch {
    throw new PosguardError('PG_CONFIG_INVALID', 'registry URL (--registry / SCHEMA_REGISTRY_URL): not a URL (value not shown: it may hold credentials)');
  }
  const user = o.username ?? (u.username ? decodeUserinfo(u.username, 'registry URL') : null);
  const password = o.password ?? (u.password ? decodeUserinfo(u.password, 'registry URL') : '');
  registerSecret(password);
  u.username = '';
  u.password = '';
  return { host: u.toString().replace(/\/+$/, ''), auth: user ? { username: user, password } : null };
}

function httpsAgent(o: RegistryOptions): Agent | undefined {
  if (!o.caFile && !o.certFile) return undefined;
  return new Agent({
    keepAlive: true,
    rejectUnauthorized: true,
    ...(o.caFile ? { ca: [readPem('registryCaFile', o.caFile)] } : {}),
    ...(o.certFile && o.keyFile ? { cert: readPem('registryCertFile', o.certFile), key: readPem('registryKeyFile', o.keyFile) } : {}),
    ...(o.keyPassphrase ? { passphrase: o.keyPassphrase } : {}),
  });
}

/** How one schema id reads as one stream's contract. */
export type SchemaResolution =
  | { readonly ok: true; readonly resolver: avro.Resolver | null }
  | { readonly ok: false; readonly reason: string };

export class Registry {
  readonly client: SchemaRegistry;
  // Bounded (docs/semantics.md, "Memory bounds"): records naming ever new schema ids cannot grow them; an evicted id is fetched again.
  private readonly writers: LruMap<number, Promise<avro.Type | null>>;
  private readonly resolutions: LruMap<string, SchemaResolution>;
  /** The URL as shown in messages: never with credentials. */
  readonly url: string;

  constructor(readonly opts: RegistryOptions) {
    const cap = opts.cacheEntries ?? REGISTRY_CACHE_ENTRIES;
    this.writers = new LruMap(cap, () => stateCensus.capHit('registry_schemas'));
    this.resolutions = new LruMap(cap, () => stateCensus.capHit('registry_resolutions'));
    stateCensus.track('registry_schemas', this, (r) => r.writers.size);
    stateCensus.track('registry_resolutions', this, (r) => r.resolutions.size);
    const { host, auth } = splitAuth(opts);
    this.url = host;
    const agent = httpsAgent(opts);
    this.client = new SchemaRegistry({
      host,
      clientId: opts.clientId ?? 'posguard',
      ...(auth ? { auth } : {}),
      ...(agent ? { agent } : {}),
      // A few quick retries for 5xx; a longer outage is handled by the caller's backoff.
      retry: { retries: 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 },
    });
  }

  /** The start-up check: throws PG_REGISTRY_URL / PG_REGISTRY_AUTH (one line, exit 2) unless the registry answers with our credentials. */
  probe(): Promise<void> {
    return requireRegistry(this.client, this.url);
  }

  /** Registers the contract's schema of `stream` under `<topic>-value`; returns its id. */
  async register(topic: string, stream: Stream): Promise<number> {
    try {
      const { id } = await this.client.register({ type: SchemaType.AVRO, schema: schemaText(stream) }, { subject: `${topic}-value` });
      return id;
    } catch (e) {
      throw new PosguardError('PG_REGISTRY', `cannot register the ${stream} schema under ${topic}-value at ${this.url}: ${messageOf(e)}`, { cause: e, retriable: !isClientError(e) });
    }
  }

  /** Cached result of resolve(); undefined until resolve() ran for (stream, id). */
  cached(stream: Stream, id: number): SchemaResolution | undefined {
    return this.resolutions.get(`${stream}:${id}`);
  }

  /**
   * Fetches schema `id` (once) and builds the resolver to `stream`'s contract.
   * Throws PG_REGISTRY (retriable) when the registry cannot answer.
   */
  async resolve(stream: Stream, id: number): Promise<SchemaResolution> {
    const key = `${stream}:${id}`;
    const hit = this.resolutions.get(key);
    if (hit !== undefined) return hit;
    let p = this.writers.get(id);
    if (p === undefined) {
      p = this.fetchWriter(id);
      this.writers.set(id, p);
      // A failed fetch is not cached: the next record tries again.
      p.catch(() => this.writers.delete(id));
    }
    const writer = await p;
    let r: SchemaResolution;
    if (writer === null) r = { ok: false, reason: `unknown schema id ${id} (the registry has no such schema)` };
    else {
      const reader = readerType(stream);
      try {
        r = { ok: true, resolver: reader.equals(writer) ? null : reader.createResolver(writer) };
      } catch (e) {
        r = { ok: false, reason: `schema id ${id} cannot be read as the ${stream} contract: ${messageOf(e)}` };
      }
    }
    this.resolutions.set(key, r);
    return r;
  }

  private async fetchWriter(id: number): Promise<avro.Type | null> {
    try {
      return (await this.client.getSchema(id)) as unknown as avro.Type;
    } catch (e) {
      if (statusOf(e) === 404) {
        // Unknown id only if the registry itself still answers; else the URL or a proxy is wrong.
        const probe = await probeRegistry(this.client);
        if (probe.ok) return null;
        throw new PosguardError('PG_REGISTRY', `the registry at ${this.url} answered 404 for schema id ${id} and does not answer as a registry (${probe.detail}): waiting, not dead-lettering`, { cause: e, retriable: true });
      }
      // 401/403, 5xx, a connection that failed: the registry, not the record. Never cached: the next batch asks again.
      throw new PosguardError('PG_REGISTRY', `cannot fetch schema id ${id} from ${this.url}: ${messageOf(e)}`, { cause: e, retriable: true });
    }
  }
}

function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown })?.status;
  return typeof s === 'number' ? s : undefined;
}

function isClientError(e: unknown): boolean {
  const s = statusOf(e);
  return s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429;
}

function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);
}
