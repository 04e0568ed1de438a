/** `posguard simulate` through commander, as the CLI registers it. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { registerSimulate } from '../../src/cli/commands/simulate.js';
import { PosguardError } from '../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'posguard-sim-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<string> {
  const program = new Command('posguard').exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerSimulate(program);
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return err.join('');
}

describe('posguard simulate', () => {
  it('writes the three stream files and the labels, and prints a one-line summary', async () => {
    const out = join(root, 'run');
    const summary = await cli('simulate', '--out', out, '--seed', '3', '--minutes', '3', '--tps', '10', '--start', '2026-03-02T12:00:00Z');
    for (const f of ['terminal.jsonl', 'gateway.jsonl', 'bank.jsonl', 'labels.jsonl']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(summary.trim().split('\n')).toHaveLength(1);
    expect(summary).toMatch(/^posguard simulate: \d+ terminal, \d+ gateway, \d+ bank lines \(\d+ redelivered, \d+ late, \d+ bad\), \d+ labels -> .+ in [\d.]+ s\n$/);
    const first = JSON.parse(readFileSync(join(out, 'terminal.jsonl'), 'utf8').split('\n')[0]) as { event_time: number };
    expect(Math.abs(first.event_time - Date.UTC(2026, 2, 2, 12))).toBeLessThan(7 * 60_000);
  });

  it('refuses an output folder it cannot write with PG_OUTPUT_UNWRITABLE', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await expect(cli('simulate', '--out', join(file, 'sub'), '--minutes', '1')).rejects.toMatchObject({ code: 'PG_OUTPUT_UNWRITABLE' });
  });

  it('rejects bad options with PG_USAGE', async () => {
    const out = join(root, 'never');
    for (const args of [['--tps', 'abc'], ['--minutes', '0'], ['--seed', '1.5'], ['--start', '2026-03-02T08:00:00'], ['--fault-rate', '2']]) {
      const e = await cli('simulate', '--out', out, ...args).catch((x: unknown) => x);
      expect(e, args.join(' ')).toBeInstanceOf(PosguardError);
      expect((e as PosguardError).code).toBe('PG_USAGE');
    }
    expect(existsSync(out)).toBe(false);
  });

  it('documents its options in --help', () => {
    const program = new Command('posguard');
    registerSimulate(program);
    const help = program.commands.find((c) => c.name() === 'simulate')?.helpInformation() ?? '';
    for (const flag of ['--out', '--seed', '--minutes', '--tps', '--start', '--fault-rate', '--bad-record-rate']) expect(help).toContain(flag);
  });
});
