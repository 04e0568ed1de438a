/** `posguard eval` end to end on files: reading, bad lines, output, exit behaviour. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerEval, runEval } from '../../src/cli/commands/eval.js';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import { isPosguardError } from '../../src/errors.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import { EventBuilder, T0 } from './builders.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'posguard-eval-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

const jsonl = (xs: unknown[], extra: string[] = []) => [...xs.map((x) => JSON.stringify(x)), ...extra].join('\n') + '\n';

/** Writes an orphan and a duplicate scenario; the engine file holds `engine` (default: the reference, in two versions). */
function files(engineLines?: (ref: ReturnType<typeof referenceAnomalies>) => string) {
  const b = new EventBuilder();
  b.attempt({ t: T0, omit: ['TXN_COMPLETED'] });
  b.attempt({ t: T0 + 60_000, rrn: 'RRN000000002', stan: '000002' });
  const s = b.streams();
  const ref = referenceAnomalies(s, DEFAULT_RULES);
  const p = (n: string) => join(dir, n);
  writeFileSync(p('terminal.jsonl'), jsonl(s.terminal, ['{not json', '{"event_id":"x"}']));
  writeFileSync(p('gateway.jsonl'), jsonl(s.gateway));
  writeFileSync(p('bank.jsonl'), jsonl(s.bank, ['']));
  const defaultEngine = jsonl([...ref.map((a) => ({ ...a, status: 'OPEN' })), ...ref.map((a) => ({ ...a, version: 2 }))], ['garbage']);
  writeFileSync(p('anomalies.jsonl'), engineLines ? engineLines(ref) : defaultEngine);
  return { terminal: p('terminal.jsonl'), gateway: p('gateway.jsonl'), bank: p('bank.jsonl'), anomalies: p('anomalies.jsonl'), ref };
}

async function cli(args: string[]): Promise<string> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const program = new Command('posguard').exitOverride();
  registerEval(program);
  await program.parseAsync(['eval', ...args], { from: 'user' });
  return out;
}

describe('posguard eval', () => {
  it('prints the inputs (bad lines skipped and counted) and the table; agreement when the engine matches', async () => {
    const f = files();
    expect(f.ref.map((a) => a.kind)).toEqual(['ORPHAN_DEBIT', 'DUPLICATE_DEBIT']);
    const out = await cli(['--terminal', f.terminal, '--gateway', f.gateway, '--bank', f.bank, '--anomalies', f.anomalies]);
    expect(out).toContain('terminal 7 events (2 bad lines skipped)');
    expect(out).toContain('bank 2 events (0 bad lines skipped)');
    expect(out).toContain('anomalies 4 versions (1 bad lines skipped)');
    expect(out).toMatch(/^ORPHAN_DEBIT\s+1\s+1\s+1\s+0\s+0\s+1\.0000\s+1\.0000\s+1\.0000\s+1\.0000\s+1\.0000$/m);
    expect(out).toContain('engine and reference agree');
  });

  it('--json prints the inputs and the report; differences are a measurement, not a failure', async () => {
    const f = files((ref) => jsonl([ref[0]])); // the duplicate is missing
    const before = process.exitCode;
    const out = await cli(['--terminal', f.terminal, '--gateway', f.gateway, '--bank', f.bank, '--anomalies', f.anomalies, '--json']);
    const parsed = JSON.parse(out);
    expect(parsed.inputs.anomalies).toEqual({ versions: 1, badLines: 0 });
    expect(parsed.report.agree).toBe(false);
    expect(parsed.report.total).toMatchObject({ tp: 1, fn: 1, fp: 0 });
    expect(process.exitCode).toBe(before);
  });

  it('applies a rules file', async () => {
    const f = files();
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, 'duplicateDebit:\n  enabled: false\n');
    const r = await runEval({ ...f, rules });
    expect(r.report.total).toMatchObject({ reference: 1, tp: 1, fp: 1 });
  });

  it.each(['terminal', 'gateway', 'bank', 'anomalies', 'rules'] as const)('an unreadable %s file is PG_INPUT_UNREADABLE', async (which) => {
    const f = { ...files(), rules: undefined as string | undefined };
    f[which] = join(dir, 'missing.jsonl');
    const err = await runEval(f).catch((e: unknown) => e);
    expect(isPosguardError(err) && err.code).toBe('PG_INPUT_UNREADABLE');
    expect((err as Error).message).toContain('missing.jsonl');
    expect((err as Error).message).not.toContain('\n');
  });

  it('the command rejects with the PosguardError (main.ts turns it into one line and exit 2)', async () => {
    const f = files();
    const err = await cli(['--terminal', join(dir, 'nope'), '--gateway', f.gateway, '--bank', f.bank, '--anomalies', f.anomalies]).catch((e: unknown) => e);
    expect(isPosguardError(err) && err.code).toBe('PG_INPUT_UNREADABLE');
  });
});
