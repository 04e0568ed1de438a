/**
 * External tools the observability tests run (Debian packages, installed by
 * deploy/local/prometheus.sh). Missing on a developer machine: the suite is
 * skipped with the install hint. Missing in CI (CI=true): the suite fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { it } from 'vitest';

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
export const INSTALL_HINT = 'run `bash deploy/local/prometheus.sh` (Debian packages prometheus, prometheus-alertmanager, chromium)';

export function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The first of the names found on PATH. */
export function findTool(...names: string[]): string | null {
  for (const n of names) {
    const p = which(n);
    if (p !== null) return p;
  }
  return null;
}

/**
 * Resolves the tools; when any is missing, registers one test that fails in
 * CI and is skipped elsewhere, and returns null (the caller skips its suite).
 */
export function requireTools<const K extends string>(tools: Record<K, readonly string[]>): Record<K, string> | null {
  const found = {} as Record<K, string>;
  const missing: string[] = [];
  for (const [key, names] of Object.entries(tools) as [K, readonly string[]][]) {
    const p = findTool(...names);
    if (p === null) missing.push(names[0]);
    else found[key] = p;
  }
  if (missing.length === 0) return found;
  const msg = `${missing.join(', ')} not found on PATH: ${INSTALL_HINT}`;
  if (IN_CI) it(`has ${missing.join(', ')} (required in CI)`, () => { throw new Error(msg); });
  else it.skip(`needs ${missing.join(', ')}: ${INSTALL_HINT}`, () => {});
  return null;
}

/** Runs a command to completion; returns its combined output and exit code. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): { code: number; out: string } {
  try {
    const out = execFileSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000 });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}
