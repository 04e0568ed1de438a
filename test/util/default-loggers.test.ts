/**
 * The default loggers of the suppressor and the rules holder (the one
 * logger's `suppress` and `rules` children, JSON lines on stderr off a terminal)
 * mask secrets like every other writer: a URL's userinfo and every
 * registered secret.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { RulesHolder } from '../../src/config/rules-holder.js';
import { Suppressor } from '../../src/suppress/suppressor.js';
import { clearSecrets, registerSecret } from '../../src/util/redact.js';

function captureStderr(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0) as typeof process.stderr.write;
  return { lines, restore: () => void (process.stderr.write = write) };
}

afterEach(() => clearSecrets());

describe('default loggers redact', () => {
  it('the suppressor: a failed reload quoting a URL with a password and a registered secret', async () => {
    registerSecret('ch-writer-pw-91');
    const s = new Suppressor(async () => {
      throw new Error('connect ECONNREFUSED http://writer:hunter2@ch:8123 (auth ch-writer-pw-91)');
    });
    const out = captureStderr();
    try {
      await s.start();
    } finally {
      out.restore();
      s.close();
    }
    expect(out.lines).toHaveLength(1);
    const line = JSON.parse(out.lines[0]) as { level: string; component: string; msg: string };
    expect(line).toMatchObject({ level: 'warn', component: 'suppress' });
    expect(line.msg).toMatch(/^cannot reload suppressions, .*http:\/\/\*\*\*@ch:8123 \(auth \*\*\*\)$/);
    expect(out.lines[0]).not.toContain('hunter2');
    expect(out.lines[0]).not.toContain('ch-writer-pw-91');
  });

  it('the rules holder: a refused SIGHUP reload naming a file whose path holds a registered secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'posguard-rules-log-'));
    registerSecret('rules-secret-77');
    const holder = new RulesHolder(DEFAULT_RULES, join(dir, 'rules-secret-77.yaml'));
    const stop = holder.watchSignals();
    const out = captureStderr();
    try {
      process.emit('SIGHUP');
    } finally {
      out.restore();
      stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const line = JSON.parse(out.lines.join('')) as { level: string; component: string; msg: string };
    expect(line).toMatchObject({ level: 'error', component: 'rules' });
    expect(line.msg).toMatch(/^rules reload refused, previous rules stay in force: .*\*\*\*\.yaml/);
    expect(out.lines.join('')).not.toContain('rules-secret-77');
  });
});
