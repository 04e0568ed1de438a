/**
 * Is the schema registry at this URL a schema registry that accepts our
 * credentials? One `GET /subjects` (Confluent API; Apicurio's ccompat v7
 * speaks it) answers both, through the same client as the lookups (auth,
 * TLS agent, the client's few quick retries for 5xx).
 *
 * Used twice:
 * - at start-up (`posguard run` with a registry), before joining the group:
 *   a wrong URL or wrong credentials refuse to run with one line and exit 2,
 *   so nothing is read, dead-lettered or committed;
 * - when a lookup gets a 404 for a schema id: only a registry that answers
 *   the probe makes the 404 mean "unknown id" (a dead letter); a 404 from
 *   anything else (a wrong path, a proxy's error page) means the registry is
 *   not there, and the record waits like in any outage.
 */
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { PosguardError } from '../../errors.js';

export type ProbeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly why: 'auth' | 'not_a_registry' | 'unreachable'; readonly detail: string };

/** The client's HTTP layer (mappersmith), which the library keeps private. */
interface SubjectsApi {
  readonly api: { readonly Subject: { all(): Promise<{ status(): number; data(): unknown }> } };
}

export async function probeRegistry(client: SchemaRegistry): Promise<ProbeResult> {
  let res: { status(): number; data(): unknown };
  try {
    res = await (client as unknown as SubjectsApi).api.Subject.all();
  } catch (e) {
    const status = (e as { status?: unknown })?.status;
    const detail = (e instanceof Error ? e.message : String(e)).replace(/^[\w-]+ - /, '').split('\n')[0].slice(0, 200);
    if (status === 401 || status === 403) return { ok: false, why: 'auth', detail: `HTTP ${status}: ${detail}` };
    // The client reports a connection that failed (refused, DNS, TLS) as status 400 with the socket's message.
    if (status === 400 && /ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|socket|certificate|TLS|SSL/i.test(detail)) return { ok: false, why: 'unreachable', detail };
    return { ok: false, why: 'not_a_registry', detail: typeof status === 'number' ? `HTTP ${status}: ${detail}` : detail };
  }
  if (!Array.isArray(res.data())) return { ok: false, why: 'not_a_registry', detail: `HTTP ${res.status()}, but not a list of subjects` };
  return { ok: true };
}

/** The start-up check: resolves when the registry answers, else throws the one-line error `posguard run` exits with (2). */
export async function requireRegistry(client: SchemaRegistry, url: string): Promise<void> {
  const r = await probeRegistry(client);
  if (r.ok) return;
  const flags = '--registry / SCHEMA_REGISTRY_URL (Apicurio: …/apis/ccompat/v7)';
  if (r.why === 'auth') {
    throw new PosguardError('PG_REGISTRY_AUTH', `the schema registry at ${url} refused the credentials (${r.detail}): fix --registry-username / SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD; nothing was read`);
  }
  if (r.why === 'unreachable') {
    throw new PosguardError('PG_REGISTRY_URL', `cannot reach the schema registry at ${url} (${r.detail}): check ${flags} and that the registry is up; nothing was read`);
  }
  throw new PosguardError('PG_REGISTRY_URL', `${url} does not answer as a schema registry (GET /subjects: ${r.detail}): check ${flags}; nothing was read`);
}
