/**
 * Choosing and opening the ClickHouse target: environment parsing for a
 * server, and the embedded data directory's one-process rule, which must read
 * as one clear line, not a stack trace.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, serverClientOptions } from '../../src/sinks/clickhouse/connection.js';
import { DEFAULT_DATA_DIR, resolveTarget, type ServerTarget } from '../../src/config/clickhouse-target.js';

const CLI = new URL('../../bin/posguard.js', import.meta.url).pathname;
const HOLD = new URL('./helpers/hold-data-dir.ts', import.meta.url).pathname;

describe('resolveTarget', () => {
  it('is the embedded engine under ./data by default, or --data', () => {
    expect(resolveTarget({ env: {} })).toEqual({ kind: 'embedded', dataDir: resolve(DEFAULT_DATA_DIR) });
    expect(resolveTarget({ dataDir: 'x/y', env: {} })).toEqual({ kind: 'embedded', dataDir: resolve('x/y') });
  });

  it('is a server when CLICKHOUSE_URL is set, with credentials kept out of the URL', () => {
    const t = resolveTarget({ env: { CLICKHOUSE_URL: 'https://writer:s3cret@ch.internal:8443/', CLICKHOUSE_DATABASE: 'risk' } });
    expect(t).toEqual({ kind: 'server', url: 'https://ch.internal:8443', username: 'writer', password: 's3cret', database: 'risk', tls: null, requestTimeoutMs: 30_000 });
    const u = resolveTarget({ env: { CLICKHOUSE_URL: 'http://localhost:8123', CLICKHOUSE_USER: 'analyst', CLICKHOUSE_PASSWORD: 'pw', CLICKHOUSE_REQUEST_TIMEOUT_MS: '5000' } });
    expect(u).toMatchObject({ username: 'analyst', password: 'pw', database: 'posguard', requestTimeoutMs: 5000 });
  });

  it('refuses contradictory or malformed settings, naming the variable', () => {
    const bad = (env: Record<string, string>, re: RegExp, dataDir?: string) => expect(() => resolveTarget({ env, dataDir })).toThrow(re);
    bad({ CLICKHOUSE_URL: 'http://ch:8123' }, /both --data .* and CLICKHOUSE_URL/, './data');
    bad({ CLICKHOUSE_URL: 'ch:9000' }, /CLICKHOUSE_URL: expected an http/);
    bad({ CLICKHOUSE_URL: 'not a url' }, /CLICKHOUSE_URL: not a URL/);
    bad({ CLICKHOUSE_URL: 'https://ch:8443/posguard' }, /CLICKHOUSE_URL: no path expected .* CLICKHOUSE_DATABASE/);
    bad({ CLICKHOUSE_URL: 'https://ch', CLICKHOUSE_TLS_CERT: 'c.pem' }, /set both for mutual TLS/);
    bad({ CLICKHOUSE_URL: 'http://ch', CLICKHOUSE_TLS_CA: 'ca.pem' }, /not https/);
    bad({ CLICKHOUSE_URL: 'https://ch', CLICKHOUSE_DATABASE: 'a-b' }, /CLICKHOUSE_DATABASE: expected a plain identifier/);
    bad({ CLICKHOUSE_URL: 'https://ch', CLICKHOUSE_REQUEST_TIMEOUT_MS: 'soon' }, /CLICKHOUSE_REQUEST_TIMEOUT_MS/);
  });

  it('builds client options with TLS material read from the files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-tls-'));
    try {
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `-----BEGIN ${f}-----\n`);
      const t = resolveTarget({ env: { CLICKHOUSE_URL: 'https://ch.internal:8443', CLICKHOUSE_TLS_CA: join(dir, 'ca.pem'), CLICKHOUSE_TLS_CERT: join(dir, 'cert.pem'), CLICKHOUSE_TLS_KEY: join(dir, 'key.pem') } }) as ServerTarget;
      const o = serverClientOptions(t) as unknown as Record<string, unknown> & { tls: Record<string, Buffer> };
      expect(o).toMatchObject({ url: 'https://ch.internal:8443', username: 'default', database: 'posguard', application: 'posguard' });
      expect(o.tls.ca_cert.toString()).toContain('ca.pem');
      expect(o.tls.cert.toString()).toContain('cert.pem');
      expect(o.tls.key.toString()).toContain('key.pem');
      const missing = resolveTarget({ env: { CLICKHOUSE_URL: 'https://ch', CLICKHOUSE_TLS_CA: join(dir, 'nope.pem') } }) as ServerTarget;
      expect(() => serverClientOptions(missing)).toThrow(/CLICKHOUSE_TLS_CA: cannot read .*nope\.pem: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an embedded data directory held by another process', () => {
  let dir: string;
  let holder: ChildProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'posguard-locked-'));
    holder = spawn(process.execPath, ['--import', 'tsx', HOLD, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((ok, fail) => {
      holder.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && ok());
      holder.on('exit', (code) => fail(new Error(`holder exited with ${code}`)));
    });
  });
  afterAll(async () => {
    if (holder.exitCode === null && holder.signalCode === null) {
      const exited = new Promise((r) => holder.on('exit', r));
      holder.stdin!.end();
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused with PG_DATA_LOCKED naming the directory and the holder', async () => {
    await expect(openClickHouse({ kind: 'embedded', dataDir: dir })).rejects.toMatchObject({
      code: 'PG_DATA_LOCKED',
      message: expect.stringMatching(new RegExp(`^data directory ${dir} is in use by another posguard process \\(pid ${holder.pid}, since .+\\)`)),
    });
  });

  it('makes `posguard sql` answer with one line, not a stack trace', () => {
    const r = spawnSync(process.execPath, [CLI, 'sql', '--data', dir, 'SELECT 1'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^posguard: PG_DATA_LOCKED: data directory .* is in use by another posguard process \(pid \d+/)]);
  });

  it('opens once the holder is gone, even if it crashed and left its status file behind', async () => {
    const exited = new Promise((r) => holder.on('exit', r));
    holder.kill('SIGKILL');
    await exited;
    const ch = await openClickHouse({ kind: 'embedded', dataDir: dir });
    const rs = await ch.client.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ one: 1 }]);
    await ch.close();
  });
});
