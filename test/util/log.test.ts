/**
 * The one logger (src/util/log.ts), read from its real output: the level from
 * the flag or the environment, JSON lines off a terminal and short human lines
 * on one, secrets masked, the component bound by a child.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { configureLogger, createLogger, logger, parseLogLevel } from '../../src/util/log.js';
import { clearSecrets, registerSecret } from '../../src/util/redact.js';

function capture(): { lines: string[]; destination: { write(s: string): void } } {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(s) } };
}

function captureStderr<T>(f: () => T): string[] {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    f();
  } finally {
    process.stderr.write = write;
  }
  return lines;
}

afterEach(() => {
  clearSecrets();
  configureLogger();
});

describe('level', () => {
  it('POSGUARD_LOG_LEVEL sets it; an explicit level (the flag) wins; info by default', () => {
    expect(createLogger({ destination: capture().destination }, {}).level).toBe('info');
    expect(createLogger({ destination: capture().destination }, { POSGUARD_LOG_LEVEL: 'WARN' }).level).toBe('warn');
    expect(createLogger({ level: 'debug', destination: capture().destination }, { POSGUARD_LOG_LEVEL: 'warn' }).level).toBe('debug');
    const c = capture();
    const log = createLogger({ destination: c.destination }, { POSGUARD_LOG_LEVEL: 'warn' });
    log.info('not shown');
    log.warn('shown');
    expect(c.lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  it('a wrong level names the setting it came from', () => {
    expect(() => parseLogLevel('loud', '--log-level')).toThrow('--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"');
    expect(() => createLogger({}, { POSGUARD_LOG_LEVEL: 'loud' })).toThrow(/^POSGUARD_LOG_LEVEL: expected one of/);
  });

  it('configureLogger replaces the root that logger() returns', () => {
    const c = capture();
    const root = configureLogger({ level: 'debug', destination: c.destination });
    expect(logger()).toBe(root);
    logger().child({ component: 'runtime' }).debug('closed sink');
    expect(JSON.parse(c.lines[0])).toMatchObject({ level: 'debug', component: 'runtime', msg: 'closed sink' });
  });
});

describe('format', () => {
  it('JSON lines on stderr off a terminal: level as a word, the component, an ISO time', () => {
    const lines = captureStderr(() => createLogger({}, {}).child({ component: 'rules' }).info('rules reloaded'));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', component: 'rules', msg: 'rules reloaded', pid: process.pid });
    expect(String(line.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('short human lines when asked (POSGUARD_LOG_FORMAT=pretty, as on a terminal): one line, component first, error message kept', () => {
    const lines = captureStderr(() => {
      const log = createLogger({}, { POSGUARD_LOG_FORMAT: 'pretty' }).child({ component: 'clickhouse' });
      log.warn('data folder narrowed');
      log.error({ err: new Error('connection refused') }, 'insert failed');
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: clickhouse: data folder narrowed\n$/);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\] ERROR: clickhouse: insert failed: connection refused\n$/);
  });

  it('a wrong POSGUARD_LOG_FORMAT is refused by name', () => {
    expect(() => createLogger({}, { POSGUARD_LOG_FORMAT: 'xml' })).toThrow(/POSGUARD_LOG_FORMAT: expected json or pretty, got "xml"/);
  });
});

describe('secrets', () => {
  it('a registered secret and a URL password never reach a line, in the message or an error', () => {
    registerSecret('s3cr3t-pw-4411');
    const c = capture();
    const log = createLogger({ destination: c.destination }, {}).child({ component: 'kafka' });
    log.warn('auth failed for s3cr3t-pw-4411 at http://user:hunter2@ch:8123');
    log.error({ err: new Error('login s3cr3t-pw-4411 refused') }, 'cannot connect');
    const text = c.lines.join('');
    expect(text).not.toContain('s3cr3t-pw-4411');
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(c.lines[0]).msg).toBe('auth failed for *** at http://***@ch:8123');
    expect(JSON.parse(c.lines[1]).err).toEqual({ type: 'Error', message: 'login *** refused' });
  });
});

describe('the CLI', () => {
  const run = promisify(execFile);
  const BIN = new URL('../../bin/posguard.js', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'posguard-log-'));
  for (const s of ['terminal', 'gateway', 'bank']) writeFileSync(join(dir, `${s}.jsonl`), '');
  const replay = (pre: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [BIN, ...pre, 'replay', '--terminal', join(dir, 'terminal.jsonl'), '--gateway', join(dir, 'gateway.jsonl'), '--bank', join(dir, 'bank.jsonl'), '--out', join(dir, 'out.jsonl')], { env: { ...process.env, POSGUARD_LOG_LEVEL: '', ...env } });
  const debugLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'debug');

  it('--log-level debug (or POSGUARD_LOG_LEVEL=debug) shows the runtime closing each resource; the default level does not', async () => {
    expect(debugLines((await replay([])).stderr)).toEqual([]);
    const flagged = debugLines((await replay(['--log-level', 'debug'])).stderr).map((l) => l.msg);
    expect(flagged).toEqual(['closed input files', 'closed output files', 'closed signal handlers']);
    expect(debugLines((await replay([], { POSGUARD_LOG_LEVEL: 'debug' })).stderr).map((l) => l.msg)).toEqual(flagged);
  }, 60_000);

  it('a wrong --log-level is one usage line and exit 2', async () => {
    const r = await replay(['--log-level', 'loud']).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toMatch(/^posguard: PG_USAGE: --log-level: expected one of .* got "loud"\n$/);
  }, 30_000);
});
