/**
 * kafkajs clients from posguard's settings, with kafkajs' log lines routed
 * into posguard's one logger (a child with component "kafka"; expected
 * messages filtered, secrets masked) instead of kafkajs' default JSON logger.
 *
 * Security: TLS always verifies the broker's certificate (against sslCaFile,
 * else Node's roots); a client certificate and key (optionally encrypted) make
 * it mutual TLS; SASL (PLAIN, SCRAM-SHA-256/512) is refused without TLS unless
 * allowSaslPlaintext says so. `checkKafkaAccess` makes one unretried connection
 * first so that a wrong password or a certificate problem fails at start-up in
 * a second with one clear line, instead of after kafkajs' retries.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { PosguardError } from '../../errors.js';
import { logger, type Logger } from '../../util/log.js';
import { redact } from '../../util/redact.js';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl?: boolean;
  readonly sslCaFile?: string | null;
  readonly sslCertFile?: string | null;
  readonly sslKeyFile?: string | null;
  readonly sslKeyPassphrase?: string | null;
  readonly saslMechanism?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | null;
  readonly saslUsername?: string | null;
  readonly saslPassword?: string | null;
  readonly allowSaslPlaintext?: boolean;
  /** Where kafkajs' own messages go. Default: the root logger's child with component "kafka". */
  readonly log?: Logger;
  readonly logLevel?: 'error' | 'warn' | 'info' | 'debug' | 'nothing';
  /** kafkajs retries per request. Default 8. */
  readonly retries?: number;
}

/** The connection fields of a run configuration's kafka section, as client options. */
export function kafkaClientOptions(k: Omit<KafkaClientOptions, 'clientId'> & { readonly clientId?: string }, clientId: string): KafkaClientOptions {
  return {
    brokers: k.brokers, clientId, ssl: k.ssl, sslCaFile: k.sslCaFile, sslCertFile: k.sslCertFile, sslKeyFile: k.sslKeyFile,
    sslKeyPassphrase: k.sslKeyPassphrase, saslMechanism: k.saslMechanism, saslUsername: k.saslUsername,
    saslPassword: k.saslPassword, allowSaslPlaintext: k.allowSaslPlaintext,
  };
}

const LEVELS = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG } as const;

/** Messages kafkajs logs at WARN/ERROR that are expected during normal operation. */
const EXPECTED = [
  /The group is rebalancing, re-joining/,
  /The coordinator is loading/,
  /group coordinator is not available/i,
  /Response GroupCoordinator.*GROUP_COORDINATOR_NOT_AVAILABLE/,
];

/** kafkajs reports a routine rebalance ("rejoin is needed") as an error; it is the group doing its job. */
const ROUTINE = /group is rebalancing, so a rejoin is needed/;

type LineLevel = 'debug' | 'info' | 'warn' | 'error';

/** The pino level of one kafkajs line, or null to drop it. */
export function kafkaLineLevel(level: logLevel, text: string): LineLevel | null {
  if (level <= logLevel.WARN && EXPECTED.some((r) => r.test(text))) return null;
  if (ROUTINE.test(text)) return 'info';
  return level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';
}

function readPem(field: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new PosguardError('PG_CONFIG_INVALID', `kafka.${field}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The TLS options for kafkajs (Node's tls.connect), or undefined for plaintext. */
export function tlsOptions(o: Pick<KafkaClientOptions, 'ssl' | 'sslCaFile' | 'sslCertFile' | 'sslKeyFile' | 'sslKeyPassphrase'>): ConnectionOptions | undefined {
  if (!o.ssl && !o.sslCaFile && !o.sslCertFile) return undefined;
  const tls: ConnectionOptions = { rejectUnauthorized: true };
  if (o.sslCaFile) tls.ca = [readPem('sslCaFile', o.sslCaFile)];
  if ((o.sslCertFile ?? null) === null !== ((o.sslKeyFile ?? null) === null)) {
    throw new PosguardError('PG_CONFIG_INVALID', 'kafka.sslCertFile and kafka.sslKeyFile: mutual TLS needs both the client certificate and its key');
  }
  if (o.sslCertFile && o.sslKeyFile) {
    tls.cert = readPem('sslCertFile', o.sslCertFile);
    tls.key = readPem('sslKeyFile', o.sslKeyFile);
    if (o.sslKeyPassphrase) tls.passphrase = o.sslKeyPassphrase;
    try {
      createPrivateKey({ key: tls.key, passphrase: o.sslKeyPassphrase ?? undefined });
    } catch (e) {
      const encrypted = /ENCRYPTED/.test(tls.key) || /DECRYPT|PASSPHRASE|INTERRUPTED/.test((e as { code?: string }).code ?? '');
      const why = encrypted ? 'it is encrypted and the passphrase (kafka.sslKeyPassphrase, KAFKA_SSL_KEY_PASSPHRASE) is missing or wrong' : 'not a PEM private key';
      throw new PosguardError('PG_CONFIG_INVALID', `kafka.sslKeyFile: cannot use ${o.sslKeyFile}: ${why}`, { cause: e });
    }
  }
  return tls;
}

export function createKafka(o: KafkaClientOptions): Kafka {
  const out = o.log ?? logger().child({ component: 'kafka' });
  const logCreator = () => ({ level, log }: LogEntry) => {
    const text = `${log.message}${log.error ? `: ${String(log.error)}` : ''}`;
    const name = kafkaLineLevel(level, text);
    if (name !== null) out[name](redact(text));
  };
  const ssl: KafkaConfig['ssl'] = tlsOptions(o);
  if (o.saslMechanism && !ssl && !o.allowSaslPlaintext) {
    throw new PosguardError('PG_CONFIG_INVALID', `kafka.saslMechanism: SASL ${o.saslMechanism} over plaintext is refused (the credentials would cross the network unencrypted): enable TLS, or allow it explicitly (--allow-sasl-plaintext)`);
  }
  const sasl = o.saslMechanism ? ({ mechanism: o.saslMechanism, username: o.saslUsername ?? '', password: o.saslPassword ?? '' } as SASLOptions) : undefined;
  return new Kafka({
    clientId: o.clientId,
    brokers: [...o.brokers],
    ssl,
    sasl,
    logLevel: LEVELS[o.logLevel ?? 'warn'],
    logCreator,
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 100, retries: o.retries ?? 8 },
  });
}

/** Node's codes for a broker certificate that does not verify. */
const SERVER_CERT_CODES = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|CERT_REJECTED|CERT_SIGNATURE_FAILURE|ERR_TLS_CERT_ALTNAME_INVALID)$/;

function chain(e: unknown): { name?: string; message?: string; code?: string }[] {
  const out: { name?: string; message?: string; code?: string }[] = [];
  for (let c = e as { cause?: unknown } | undefined, i = 0; c && i < 5; c = c.cause as typeof c, i++) out.push(c as never);
  return out;
}

/**
 * A TLS or SASL failure as PG_KAFKA_TLS / PG_KAFKA_AUTH with one line saying what to fix,
 * or null when `e` is something else (an unreachable broker: the caller's retries handle it).
 */
export function securityError(e: unknown, o: KafkaClientOptions): PosguardError | null {
  const where = o.brokers.join(',');
  for (const c of chain(e)) {
    const code = c.code ?? '';
    const msg = c.message ?? '';
    if (c.name === 'KafkaJSSASLAuthenticationError') {
      return new PosguardError('PG_KAFKA_AUTH', `SASL ${(o.saslMechanism ?? '').toUpperCase()} authentication of user ${JSON.stringify(o.saslUsername ?? '')} at ${where} failed: wrong user or password, or the mechanism is not enabled on this listener`, { cause: e });
    }
    if (SERVER_CERT_CODES.test(code)) {
      const why = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'does not name the host it was reached at' : `is not trusted (${code.toLowerCase().replace(/_/g, ' ')})`;
      return new PosguardError('PG_KAFKA_TLS', `TLS to ${where} failed: the broker's certificate ${why}; give the CA that signed it with --kafka-ssl-ca (KAFKA_SSL_CA, kafka.sslCaFile)`, { cause: e });
    }
    if (/^ERR_SSL_.*(CERTIFICATE|HANDSHAKE_FAILURE)/.test(code)) {
      const alert = /(\w[\w ]*alert [\w ]+?)(?::|$)/.exec(msg)?.[1] ?? code;
      return new PosguardError('PG_KAFKA_TLS', `TLS to ${where} failed: the broker refused the client certificate (${alert}); mutual TLS needs a certificate it trusts: --kafka-ssl-cert and --kafka-ssl-key (KAFKA_SSL_CERT, KAFKA_SSL_KEY)`, { cause: e });
    }
    if (/^ERR_SSL_/.test(code)) {
      return new PosguardError('PG_KAFKA_TLS', `TLS to ${where} failed (${code}): is this a TLS listener?`, { cause: e });
    }
  }
  return null;
}

/**
 * One connection without retries, to fail fast on security: a wrong password or
 * certificate throws PG_KAFKA_AUTH / PG_KAFKA_TLS; anything else (the broker not up
 * yet) is left to the retrying clients that follow.
 */
export async function checkKafkaAccess(o: KafkaClientOptions): Promise<void> {
  if (!o.ssl && !o.sslCaFile && !o.sslCertFile && !o.saslMechanism) return;
  const admin = createKafka({ ...o, retries: 0, logLevel: 'nothing' }).admin();
  try {
    await admin.connect();
  } catch (e) {
    const s = securityError(e, o);
    if (s !== null) throw s;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
