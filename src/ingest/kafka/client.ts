/**
 * kafkajs clients from posguard's settings, with kafkajs' log lines routed
 * through one function (level-filtered) instead of its default JSON logger.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { PosguardError } from '../../errors.js';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl?: boolean;
  readonly sslCaFile?: string | null;
  readonly saslMechanism?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | null;
  readonly saslUsername?: string | null;
  readonly saslPassword?: string | null;
  /** Where kafkajs' own messages go. Default: warnings and errors to stderr. */
  readonly log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
  readonly logLevel?: 'error' | 'warn' | 'info' | 'debug' | 'nothing';
}

const LEVELS = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG } as const;

/** Messages kafkajs logs at WARN/ERROR that are expected during normal operation. */
const EXPECTED = [
  /The group is rebalancing, re-joining/,
  /The coordinator is loading/,
  /group coordinator is not available/i,
  /Response GroupCoordinator.*GROUP_COORDINATOR_NOT_AVAILABLE/,
];

export function createKafka(o: KafkaClientOptions): Kafka {
  const out = o.log ?? ((level: string, msg: string) => void process.stderr.write(`posguard: kafka ${level}: ${msg}\n`));
  const logCreator = () => ({ level, log }: LogEntry) => {
    const text = `${log.message}${log.error ? `: ${String(log.error)}` : ''}`;
    if (level <= logLevel.WARN && EXPECTED.some((r) => r.test(text))) return;
    const name = level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';
    out(name, text);
  };
  let ssl: KafkaConfig['ssl'] = o.ssl ? true : undefined;
  if (o.sslCaFile) {
    try {
      ssl = { ca: [readFileSync(o.sslCaFile, 'utf8')] };
    } catch (e) {
      throw new PosguardError('PG_CONFIG_INVALID', `kafka.sslCaFile: cannot read ${o.sslCaFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
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
    retry: { initialRetryTime: 100, retries: 8 },
  });
}
