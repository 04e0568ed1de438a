/**
 * The schema registry through @kafkajs/confluent-schema-registry (Confluent
 * API; Apicurio's ccompat v7 speaks it). Producers register the contract's
 * schemas under `<topic>-value`; the consumer resolves a schema id to the
 * writer's schema once and decodes every later record with that id
 * synchronously (avsc resolver from the writer's schema to the contract's).
 *
 * A registry that answers 404 for an id makes the record a poison record
 * ("unknown schema id"); a registry that cannot be reached is an outage, not
 * bad data: PG_REGISTRY, retriable, and the caller waits.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { PosguardError } from '../../errors.js';
import type { Stream } from '../../events/index.js';
import { readerType, schemaText } from './avro.js';

export interface RegistryOptions {
  readonly url: string;
  readonly username?: string | null;
  readonly password?: string | null;
  readonly clientId?: string;
}

/** How one schema id reads as one stream's contract. */
export type SchemaResolution =
  | { readonly ok: true; readonly resolver: avro.Resolver | null }
  | { readonly ok: false; readonly reason: string };

export class Registry {
  readonly client: SchemaRegistry;
  private readonly writers = new Map<number, Promise<avro.Type | null>>();
  private readonly resolutions = new Map<string, SchemaResolution>();

  constructor(readonly opts: RegistryOptions) {
    this.client = new SchemaRegistry({
      host: opts.url.replace(/\/+$/, ''),
      clientId: opts.clientId ?? 'posguard',
      ...(opts.username ? { auth: { username: opts.username, password: opts.password ?? '' } } : {}),
      // A few quick retries for 5xx; a longer outage is handled by the caller's backoff.
      retry: { retries: 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 },
    });
  }

  /** Registers the contract's schema of `stream` under `<topic>-value`; returns its id. */
  async register(topic: string, stream: Stream): Promise<number> {
    try {
      const { id } = await this.client.register({ type: SchemaType.AVRO, schema: schemaText(stream) }, { subject: `${topic}-value` });
      return id;
    } catch (e) {
      throw new PosguardError('PG_REGISTRY', `cannot register the ${stream} schema under ${topic}-value at ${this.opts.url}: ${messageOf(e)}`, { cause: e, retriable: !isClientError(e) });
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
      if (statusOf(e) === 404) return null;
      if (isClientError(e)) {
        throw new PosguardError('PG_REGISTRY', `the registry at ${this.opts.url} refused schema id ${id}: ${messageOf(e)}`, { cause: e });
      }
      throw new PosguardError('PG_REGISTRY', `cannot fetch schema id ${id} from ${this.opts.url}: ${messageOf(e)}`, { cause: e, retriable: true });
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
