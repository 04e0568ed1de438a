/**
 * The configuration of `posguard run`, from four layers (later wins):
 * built-in defaults < config file (YAML/JSON, --config or POSGUARD_CONFIG) <
 * environment variables < command-line flags. Validated once against a JSON
 * schema (ajv) that names the bad field and where it came from, checked for
 * settings that conflict, then deep-frozen. Nothing below reads process.env:
 * the CLI hands the environment in.
 *
 * `describeRunConfig` renders it for the start-up log with secrets masked;
 * every secret read here is registered with util/redact so that no later log
 * line or error message prints it either.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { PosguardError } from '../errors.js';
import { describeTarget, resolveTarget, type ClickHouseTarget, type Env } from './clickhouse-target.js';
import { redactUrl, registerSecret, registerUrlSecret } from '../util/redact.js';
import { checkRunConfig } from './run-config-checks.js';
import { KAFKA_FLAGS, RUN_ENV, RUN_FLAGS, SECRETS, type Kind } from './run-config-names.js';

export { KAFKA_FLAGS, RUN_ENV, RUN_FLAGS } from './run-config-names.js';

const int = (def: number, min: number, doc: string) => ({ type: 'integer', minimum: min, default: def, description: doc });
const str = (def: string | null, doc: string) => ({ type: def === null ? ['string', 'null'] : 'string', default: def, description: doc });
const bool = (def: boolean, doc: string) => ({ type: 'boolean', default: def, description: doc });
const section = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, default: {}, properties });

export const RUN_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kafka: section({
      brokers: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, default: ['127.0.0.1:9092'], description: 'bootstrap brokers, host:port' },
      clientId: str('posguard', 'client id shown in broker logs and quotas'),
      groupId: str('posguard', 'consumer group: instances with one group id share the partitions'),
      ssl: bool(false, 'TLS to the brokers (the broker certificate is always verified)'),
      sslCaFile: str(null, 'PEM file of a private CA for the brokers (implies ssl)'),
      sslCertFile: str(null, 'PEM client certificate for mutual TLS (implies ssl; with sslKeyFile)'),
      sslKeyFile: str(null, 'PEM private key of the client certificate (implies ssl; with sslCertFile)'),
      sslKeyPassphrase: str(null, 'passphrase of an encrypted sslKeyFile (secret)'),
      saslMechanism: { type: ['string', 'null'], enum: ['plain', 'scram-sha-256', 'scram-sha-512', null], default: null, description: 'SASL mechanism, or null for none' },
      saslUsername: str(null, 'SASL user'),
      saslPassword: str(null, 'SASL password (secret)'),
      allowSaslPlaintext: bool(false, 'allow SASL without TLS (sends the PLAIN password or the SCRAM exchange in the clear); refused otherwise'),
      sessionTimeoutMs: int(30_000, 1_000, 'a member silent this long is removed from the group (broker bounds: group.min/max.session.timeout.ms)'),
      heartbeatIntervalMs: int(3_000, 100, 'heartbeat period; at most a third of sessionTimeoutMs'),
      rebalanceTimeoutMs: int(60_000, 1_000, 'how long the coordinator waits for members to rejoin'),
      maxBytesPerPartition: int(1_048_576, 1_024, 'fetch size per partition: bounds memory per fetch'),
      maxWaitTimeMs: int(500, 0, 'longest a fetch waits for data'),
      fromBeginning: bool(true, 'a group without committed offsets starts at the earliest offset (else the latest)'),
      assignment: { type: 'string', enum: ['exact', 'spread'], default: 'exact', description: 'exact: one member holds every partition, the others stand by (results exact for every kind); spread: partitions shared out (cross-partition kinds missed across members)' },
    }),
    topics: section({
      terminal: str('pos.terminal.events', 'terminal events topic'),
      gateway: str('pos.gateway.events', 'gateway events topic'),
      bank: str('bank.core.authorizations', 'bank-core events topic'),
      dlq: str('posguard.dlq', 'dead-letter topic for poison records'),
      state: str('posguard.state', 'compacted topic of the partition tasks\' checkpoints (docs/kafka.md, "Checkpoints")'),
      cardFacts: str('posguard.card-facts', 'internal topic between the stages under the spread assignment: card facts keyed by card_token, and watermark markers (docs/architecture.md)'),
    }),
    input: section({
      format: { type: ['string', 'null'], enum: ['confluent', 'avro', 'json', null], default: null, description: 'value format: confluent (registry, the default when a registry URL is set), avro (plain, registry-less, the default otherwise), json' },
      registryUrl: str(null, 'schema registry (Confluent API), e.g. http://127.0.0.1:8081/apis/ccompat/v7'),
      registryUsername: str(null, 'registry basic-auth user'),
      registryPassword: str(null, 'registry basic-auth password (secret)'),
      registryCaFile: str(null, 'PEM file of a private CA for an https registry'),
      registryCertFile: str(null, 'PEM client certificate for an https registry (with registryKeyFile)'),
      registryKeyFile: str(null, 'PEM private key of registryCertFile'),
      registryKeyPassphrase: str(null, 'passphrase of an encrypted registryKeyFile (secret)'),
      registryCacheEntries: int(10_000, 16, 'schema ids (and their resolutions per stream) kept in memory, least recently used evicted'),
    }),
    output: section({
      dataDir: str(null, 'embedded ClickHouse data folder (default ./data; not with CLICKHOUSE_URL)'),
      skipRawEvents: bool(false, 'do not write events_raw (the evidence copy; most of the write cost)'),
      sinkHighWaterRows: int(100_000, 1_000, 'rows buffered for ClickHouse at which fetching pauses'),
      sinkBatchRows: int(25_000, 100, 'rows per ClickHouse insert'),
      dlqMaxQueued: int(10_000, 1, 'dead letters waiting for the brokers at which fetching waits for them'),
    }),
    run: section({
      rulesFile: str(null, 'rules file (YAML/JSON); SIGHUP reloads it'),
      commitIntervalMs: int(5_000, 100, 'how often durable results are committed'),
      idleTimeoutMs: int(30_000, 100, 'a partition without events this long stops holding back card patterns'),
      alignAheadMs: int(600_000, 0, 'reading a backlog, an input topic-partition more than this far ahead in event time of the slowest one still behind is paused until it comes within (0 = off; docs/kafka.md, "Alignment")'),
      shutdownTimeoutMs: int(30_000, 1_000, 'SIGTERM/SIGINT: longest time to flush, commit and leave before exiting anyway'),
      untilEnd: bool(false, 'bounded run: stop at the end offsets seen at start, take every pending decision, exit'),
      statusIntervalMs: int(10_000, 0, 'status line period (0 = none)'),
      createDlqTopic: bool(true, 'create the dead-letter topic when missing'),
      checkpointIntervalMs: int(60_000, 0, 'how often every partition task\'s state is checkpointed to topics.state (a skeleton record per partition and a segment of the attempts and cards changed since the last one) and the offsets committed with it (0 = off: commits follow the floor, a restart rebuilds by re-reading; docs/kafka.md, "Checkpoints")'),
      createStateTopic: bool(true, 'create the state topic (compacted) when missing and checkpoints are on'),
      metricsPort: int(9464, 0, 'Prometheus /metrics, /healthz and /readyz on this port (0 = off)'),
      suppressionsReloadMs: int(30_000, 100, 'how often active suppressions are re-read from ClickHouse'),
      metricsHost: str('0.0.0.0', 'address the metrics port listens on: 0.0.0.0 (every interface, so Prometheus can scrape), or one interface, e.g. 127.0.0.1'),
      metricsUsername: str(null, 'basic-auth user required on /metrics (with metricsPassword)'),
      metricsPassword: str(null, 'basic-auth password required on /metrics (secret)'),
    }),
    feeds: section({
      quietAfterMs: int(30_000, 100, 'a caught-up stream-partition with no record read for this long (wall clock) is quiet (../shared/spec/feeds.md)'),
      stallAlertAfterMs: int(120_000, 100, 'a stream stalled this long in most partitions carrying traffic is a feed outage (PosguardFeedStalled)'),
      stallReleaseMs: int(600_000, 100, 'a stalled stream-partition stops holding its partition\'s watermark after this long; anomalies decided meanwhile carry feed_gaps'),
    }),
  },
} as const;

export type ValueFormatSetting = 'confluent' | 'avro' | 'json';

export interface RunConfig {
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly groupId: string;
    readonly ssl: boolean;
    readonly sslCaFile: string | null;
    readonly sslCertFile: string | null;
    readonly sslKeyFile: string | null;
    readonly sslKeyPassphrase: string | null;
    readonly saslMechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512' | null;
    readonly saslUsername: string | null;
    readonly saslPassword: string | null;
    readonly allowSaslPlaintext: boolean;
    readonly sessionTimeoutMs: number;
    readonly heartbeatIntervalMs: number;
    readonly rebalanceTimeoutMs: number;
    readonly maxBytesPerPartition: number;
    readonly maxWaitTimeMs: number;
    readonly fromBeginning: boolean;
    readonly assignment: 'exact' | 'spread';
  };
  readonly topics: { readonly terminal: string; readonly gateway: string; readonly bank: string; readonly dlq: string; readonly state: string; readonly cardFacts: string };
  readonly input: {
    readonly format: ValueFormatSetting;
    readonly registryUrl: string | null;
    readonly registryUsername: string | null;
    readonly registryPassword: string | null;
    readonly registryCaFile: string | null;
    readonly registryCertFile: string | null;
    readonly registryKeyFile: string | null;
    readonly registryKeyPassphrase: string | null;
    readonly registryCacheEntries: number;
  };
  readonly output: {
    readonly dataDir: string | null;
    readonly skipRawEvents: boolean;
    readonly sinkHighWaterRows: number;
    readonly sinkBatchRows: number;
    readonly dlqMaxQueued: number;
    /** Resolved from output.dataDir and the CLICKHOUSE_* variables. */
    readonly clickhouse: ClickHouseTarget;
  };
  readonly run: {
    readonly rulesFile: string | null;
    readonly commitIntervalMs: number;
    readonly idleTimeoutMs: number;
    readonly alignAheadMs: number;
    readonly shutdownTimeoutMs: number;
    readonly untilEnd: boolean;
    readonly statusIntervalMs: number;
    readonly createDlqTopic: boolean;
    readonly checkpointIntervalMs: number;
    readonly createStateTopic: boolean;
    readonly metricsPort: number;
    readonly suppressionsReloadMs: number;
    readonly metricsHost: string;
    readonly metricsUsername: string | null;
    readonly metricsPassword: string | null;
  };
  readonly feeds: {
    readonly quietAfterMs: number;
    readonly stallAlertAfterMs: number;
    readonly stallReleaseMs: number;
  };
}

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(RUN_CONFIG_SCHEMA);

export interface RunConfigInput {
  /** commander's parsed options (strings, booleans); unknown keys are ignored. */
  readonly flags?: Readonly<Record<string, unknown>>;
  readonly env?: Env;
  /** Path of the config file; POSGUARD_CONFIG in env is used when absent. */
  readonly configFile?: string;
}

export interface LoadedRunConfig {
  readonly config: RunConfig;
  /** Field path → where its value came from ('default', 'file <path>', 'env X', 'flag --x'). */
  readonly sources: ReadonlyMap<string, string>;
}

function setPath(o: Record<string, unknown>, path: string, v: unknown): void {
  const [a, b] = path.split('.');
  const sec = (o[a] ??= {}) as Record<string, unknown>;
  sec[b] = v;
}

function getPath(o: unknown, path: string): unknown {
  const [a, b] = path.split('.');
  return ((o as Record<string, Record<string, unknown>>)[a] ?? {})[b];
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function convert(raw: unknown, kind: Kind, field: string, source: string): unknown {
  if (typeof raw !== 'string') return raw;
  const t = raw.trim();
  switch (kind) {
    case 'list':
      return t.split(',').map((x) => x.trim()).filter((x) => x !== '');
    case 'int': {
      if (!/^-?\d+$/.test(t)) throw new PosguardError('PG_CONFIG_INVALID', `${field} (from ${source}): expected an integer, got ${JSON.stringify(raw)}`);
      return Number(t);
    }
    case 'bool': {
      if (/^(1|true|yes|on)$/i.test(t)) return true;
      if (/^(0|false|no|off)$/i.test(t)) return false;
      throw new PosguardError('PG_CONFIG_INVALID', `${field} (from ${source}): expected true or false, got ${JSON.stringify(raw)}`);
    }
    default:
      return t;
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PosguardError('PG_INPUT_UNREADABLE', `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (e) {
    throw new PosguardError('PG_CONFIG_INVALID', `${path}: not valid YAML/JSON: ${yamlErrorWhere(e)}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new PosguardError('PG_CONFIG_INVALID', `${path}: expected a mapping with sections kafka, topics, input, output, run`);
  return JSON.parse(JSON.stringify(parsed)) as Record<string, unknown>;
}

/**
 * The YAML error's code and line/column only: its message quotes the offending
 * line, which may hold a password (no cause kept either, for the same reason).
 */
function yamlErrorWhere(e: unknown): string {
  const x = e as { code?: unknown; linePos?: readonly { line: number; col: number }[] };
  const at = x.linePos?.[0];
  const code = typeof x.code === 'string' ? x.code : 'syntax error';
  return at === undefined ? code : `${code} at line ${at.line}, column ${at.col}`;
}

function describeError(e: ErrorObject, sources: ReadonlyMap<string, string>): string {
  const path = (e.instancePath || '/').slice(1).split('/');
  const field = path.slice(0, 2).join('.') || '(top level)';
  const from = sources.get(field);
  const where = from ? `${field} (from ${from})` : field;
  switch (e.keyword) {
    case 'additionalProperties': return `${field === '(top level)' ? '' : field + '.'}${String(e.params.additionalProperty)}: unknown field`;
    case 'type': return `${where}: expected ${String(e.params.type)}`;
    case 'enum': return `${where}: expected one of ${(e.params.allowedValues as unknown[]).map((x) => (x === null ? 'null' : String(x))).join(', ')}`;
    case 'minimum': return `${where}: must be at least ${String(e.params.limit)}`;
    default: return `${where}: ${e.message ?? e.keyword}`;
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Builds, validates and freezes the run configuration. Throws PG_CONFIG_INVALID naming the field and its source. */
export function loadRunConfig(input: RunConfigInput = {}): LoadedRunConfig {
  const env = input.env ?? {};
  const sources = new Map<string, string>();
  const file = input.configFile ?? (env.POSGUARD_CONFIG?.trim() || undefined);
  const raw: Record<string, unknown> = file !== undefined ? readConfigFile(file) : {};
  if (file !== undefined) {
    for (const [sec, v] of Object.entries(raw)) {
      if (v && typeof v === 'object') for (const k of Object.keys(v)) sources.set(`${sec}.${k}`, `file ${file}`);
    }
  }
  for (const [name, path, kind] of RUN_ENV) {
    const v = env[name];
    if (v === undefined || v.trim() === '') continue;
    setPath(raw, path, convert(v, kind, path, `env ${name}`));
    sources.set(path, `env ${name}`);
  }
  const flags = input.flags ?? {};
  for (const [name, path, kind] of RUN_FLAGS) {
    const v = flags[name];
    if (v === undefined) continue;
    setPath(raw, path, convert(v, kind, path, `flag --${kebab(name)}`));
    sources.set(path, `flag --${kebab(name)}`);
  }
  if (!validate(raw)) {
    const msgs = [...new Set((validate.errors ?? []).map((e) => describeError(e, sources)))];
    throw new PosguardError('PG_CONFIG_INVALID', `run config: ${msgs.join('; ')}`, { context: { errors: msgs } });
  }
  const c = raw as unknown as Omit<RunConfig, 'output'> & { output: Omit<RunConfig['output'], 'clickhouse'> };
  const bad = (field: string, msg: string) => new PosguardError('PG_CONFIG_INVALID', `run config: ${field}${sources.has(field) ? ` (from ${sources.get(field)})` : ''}: ${msg}`);

  checkRunConfig(c, bad);
  for (const f of SECRETS) registerSecret(getPath(c, f) as string | null);
  registerUrlSecret(c.input.registryUrl);
  registerEnvSecrets(env);
  const clickhouse = resolveTarget({ dataDir: c.output.dataDir ?? undefined, env });
  const config = deepFreeze({ ...c, output: { ...c.output, clickhouse } }) as RunConfig;
  for (const k of Object.keys(RUN_CONFIG_SCHEMA.properties)) {
    for (const f of Object.keys((RUN_CONFIG_SCHEMA.properties as Record<string, { properties: object }>)[k].properties)) {
      if (!sources.has(`${k}.${f}`)) sources.set(`${k}.${f}`, 'default');
    }
  }
  return { config, sources };
}

/**
 * Registers with util/redact every secret the environment can hold (passwords, passphrases,
 * URL userinfo), so that any command masks them: called once by the CLI at start.
 */
export function registerEnvSecrets(env: Env): void {
  for (const [name, path] of RUN_ENV) if (SECRETS.has(path)) registerSecret(env[name]);
  registerSecret(env.CLICKHOUSE_PASSWORD);
  registerUrlSecret(env.CLICKHOUSE_URL);
  registerUrlSecret(env.SCHEMA_REGISTRY_URL);
}

/**
 * The Kafka connection settings alone, with the same layers, names and checks as
 * `posguard run`: for the other commands that talk to Kafka (topics, simulate --kafka).
 */
export function loadKafkaSettings(input: RunConfigInput = {}): RunConfig['kafka'] {
  const env: Record<string, string | undefined> = {};
  for (const [name, path] of RUN_ENV) if (path.startsWith('kafka.')) env[name] = input.env?.[name];
  const flags: Record<string, unknown> = {};
  for (const [name] of KAFKA_FLAGS) flags[name] = input.flags?.[name];
  const file = input.configFile ?? (input.env?.POSGUARD_CONFIG?.trim() || undefined);
  return loadRunConfig({ env: { ...env, CLICKHOUSE_URL: '' }, flags, configFile: file }).config.kafka;
}

/** The start-up print: one line per field, its value (secrets masked) and where it came from. */
export function describeRunConfig(loaded: LoadedRunConfig): string {
  const { config, sources } = loaded;
  const lines: string[] = ['posguard run: configuration'];
  for (const sec of Object.keys(RUN_CONFIG_SCHEMA.properties)) {
    for (const f of Object.keys((RUN_CONFIG_SCHEMA.properties as Record<string, { properties: object }>)[sec].properties)) {
      const path = `${sec}.${f}`;
      const v = getPath(config, path);
      let shown: string;
      if (SECRETS.has(path)) shown = v === null || v === undefined ? 'null' : '***';
      else if (Array.isArray(v)) shown = v.join(',');
      else if (typeof v === 'string') shown = redactUrl(v);
      else shown = String(v);
      lines.push(`  ${path.padEnd(30)} ${shown.padEnd(40)} (${sources.get(path) ?? 'default'})`);
    }
  }
  lines.push(`  ${'output (resolved)'.padEnd(30)} ${describeTarget(config.output.clickhouse)}`);
  return lines.join('\n') + '\n';
}
