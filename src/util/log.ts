/**
 * The one logger (pino). A component takes a child of the root:
 * `logger().child({ component: 'kafka' })`, so every line says where it came from.
 *
 * - Lines go to stderr: stdout belongs to the CLI's own output (tables, query results, summaries).
 * - JSON lines when stderr is not a terminal (production, CI, tests) and short human lines on a
 *   terminal (pino-pretty, one line each); POSGUARD_LOG_FORMAT=json|pretty overrides.
 * - Level: `--log-level` (calls `configureLogger`) > POSGUARD_LOG_LEVEL > `info`.
 * - Every message string and error message passes through `redact()`: no secret reaches a line.
 * - Written synchronously through `process.stderr` (synchronous for files, pipes and terminals on
 *   Linux): a line logged just before `process.exit` is not lost, lines keep their order with the
 *   CLI's own stderr output, and whatever captures process.stderr (a test) sees them.
 */
import { pino, stdTimeFunctions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { createRequire } from 'node:module';
import { PosguardError } from '../errors.js';
import { redact } from './redact.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

export interface LoggerSettings {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Where lines go (tests pass a stream); default stderr. */
  readonly destination?: DestinationStream;
}

/** Parses a level name; a wrong one is a usage error naming the setting it came from. */
export function parseLogLevel(value: string, setting: string): LogLevel {
  const v = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new PosguardError('PG_USAGE', `${setting}: expected one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
}

function defaultFormat(env: NodeJS.ProcessEnv): LogFormat {
  const f = env.POSGUARD_LOG_FORMAT?.trim().toLowerCase();
  if (f === 'json' || f === 'pretty') return f;
  if (f !== undefined && f !== '') throw new PosguardError('PG_USAGE', `POSGUARD_LOG_FORMAT: expected json or pretty, got "${env.POSGUARD_LOG_FORMAT}"`);
  return process.stderr.isTTY ? 'pretty' : 'json';
}

function destinationFor(format: LogFormat): DestinationStream {
  // Looked up at each write, not bound once: a test that swaps process.stderr.write sees the lines.
  if (format === 'json') return { write: (line: string) => void process.stderr.write(line) };
  // Loaded only for a terminal: production (JSON) does not pay for it at start-up.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const render = prettyFactory({
    singleLine: true,
    colorize: process.stderr.isTTY,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,component,err',
    messageFormat: '{if component}{component}: {end}{msg}{if err.message}: {err.message}{end}',
  });
  return { write: (line: string) => void process.stderr.write(render(line)) };
}

const options = (level: LogLevel): LoggerOptions => ({
  level,
  base: { pid: process.pid },
  timestamp: stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  serializers: {
    err: (e: unknown) => {
      const err = e as { name?: string; message?: string; code?: unknown };
      return { type: err?.name ?? typeof e, message: redact(String(err?.message ?? e)), ...(err?.code === undefined ? {} : { code: err.code }) };
    },
  },
  hooks: {
    logMethod(args, method) {
      for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = redact(args[i] as string);
      method.apply(this, args as Parameters<typeof method>);
    },
  },
});

/** A new logger; most code wants `logger()` (the root) or a child of it instead. */
export function createLogger(s: LoggerSettings = {}, env: NodeJS.ProcessEnv = process.env): Logger {
  const level = s.level ?? (env.POSGUARD_LOG_LEVEL ? parseLogLevel(env.POSGUARD_LOG_LEVEL, 'POSGUARD_LOG_LEVEL') : 'info');
  return pino(options(level), s.destination ?? destinationFor(s.format ?? defaultFormat(env)));
}

let root: Logger | null = null;

/** The process's root logger, created on first use from the environment. */
export function logger(): Logger {
  root ??= createLogger();
  return root;
}

/** Replaces the root logger (the CLI after parsing `--log-level`; tests capturing lines). */
export function configureLogger(s: LoggerSettings = {}): Logger {
  root = createLogger(s);
  return root;
}
