/** `posguard replay` end to end, through the real binary. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { compareAnomalies, formatReport } from '../../src/eval/compare.js';
import { referenceAnomalies } from '../../src/eval/reference.js';
import { readJsonlFile } from '../../src/ingest/jsonl.js';
import { writeSimulation } from '../../src/sim/index.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/posguard.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'posguard-replay-'));
const inputs = (d = dir) => ['--terminal', join(d, 'terminal.jsonl'), '--gateway', join(d, 'gateway.jsonl'), '--bank', join(d, 'bank.jsonl')];
const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

async function posguard(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26 });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

beforeAll(async () => {
  await writeSimulation(dir, { seed: 11, minutes: 40, tps: 3, startMs: Date.UTC(2026, 2, 2, 8) });
}, 60_000);

describe('posguard replay', () => {
  it('equals the batch reference on simulator output, for every kind', async () => {
    const out = join(dir, 'anomalies.jsonl');
    const r = await posguard(['replay', ...inputs(), '--out', out]);
    expect(r.code).toBe(0);
    const [t, g, b] = await Promise.all([readJsonlFile('terminal', join(dir, 'terminal.jsonl')), readJsonlFile('gateway', join(dir, 'gateway.jsonl')), readJsonlFile('bank', join(dir, 'bank.jsonl'))]);
    const ref = referenceAnomalies({ terminal: t.events, gateway: g.events, bank: b.events }, DEFAULT_RULES);
    const report = compareAnomalies(lines(out) as Anomaly[], ref);
    if (!report.agree) throw new Error(formatReport(report));
    expect(new Set(ref.map((a) => a.kind)).size).toBe(7); // the run exercises every kind
    // The summary names events per stream, duplicates, late, bad records, kinds and causes, money at risk.
    expect(r.stderr).toMatch(/events terminal\s+\d+ \(duplicates \d+, late \d+, bad records \d+\)/);
    expect(r.stderr).toMatch(/ORPHAN_DEBIT\/RESPONSE_LOST_TO_TERMINAL\s+\d+/);
    expect(r.stderr).toMatch(/money at risk \(open orphaned debits\)\s+\d+\.\d\d [A-Z]{3}/);
  });

  it('keeps every bad line in the dead-letter file with file, line number and reason, and exits 0', async () => {
    const d = mkdtempSync(join(tmpdir(), 'posguard-bad-'));
    const good = readFileSync(join(dir, 'bank.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{"'))[0];
    writeFileSync(join(d, 'terminal.jsonl'), '');
    writeFileSync(join(d, 'gateway.jsonl'), '{not json\n');
    writeFileSync(join(d, 'bank.jsonl'), [good, good.replace('"AUTH_', '"AUTHX_'), good.replace(/"stan":"\d+",/, ''), JSON.stringify({ ...JSON.parse(good), amount_minor: 'ten' })].join('\n') + '\n');
    const out = join(d, 'a.jsonl');
    const r = await posguard(['replay', ...inputs(d), '--out', out, '--dlq', join(d, 'dlq.jsonl')]);
    expect(r.code).toBe(0);
    const dlq = lines(join(d, 'dlq.jsonl'));
    expect(dlq.map((x) => [x.stream, x.line])).toEqual([['gateway', 1], ['bank', 2], ['bank', 3], ['bank', 4]]);
    expect(dlq[0].reason).toMatch(/not valid JSON/);
    expect(dlq[1].reason).toMatch(/field event_type: unknown value/);
    expect(dlq[2].reason).toBe('field stan: missing');
    expect(dlq[3].reason).toMatch(/field amount_minor: expected/);
    expect(dlq[0].source).toBe(join(d, 'gateway.jsonl'));
    expect(r.stderr).toMatch(/events bank\s+1 \(duplicates 0, late 0, bad records 3\)/);
  });

  it('--max-line-chars: a longer line is a dead letter naming its length and the limit; the lines after it are read; a bad value is refused', async () => {
    const d = mkdtempSync(join(tmpdir(), 'posguard-long-'));
    const bank = readFileSync(join(dir, 'bank.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{"'));
    const long = JSON.stringify({ ...JSON.parse(bank[0]), padding: 'p'.repeat(3_000) });
    writeFileSync(join(d, 'terminal.jsonl'), '');
    writeFileSync(join(d, 'gateway.jsonl'), '');
    writeFileSync(join(d, 'bank.jsonl'), [bank[0], long, bank[1]].join('\n') + '\n');
    const r = await posguard(['replay', ...inputs(d), '--out', join(d, 'a.jsonl'), '--dlq', join(d, 'dlq.jsonl'), '--max-line-chars', '2000']);
    expect(r.code).toBe(0);
    const dlq = lines(join(d, 'dlq.jsonl'));
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ line: 2, reason: `line too long: ${long.length} characters, over the limit of 2000 (--max-line-chars); only its first 200 are kept` });
    expect(r.stderr).toMatch(/events bank\s+2 /);
    const bad = await posguard(['replay', ...inputs(d), '--out', join(d, 'b.jsonl'), '--max-line-chars', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--max-line-chars: expected a positive integer, got "0"');
  });

  it('a missing input is one line and a non-zero exit', async () => {
    const r = await posguard(['replay', '--terminal', '/nonexistent/t.jsonl', '--gateway', 'x', '--bank', 'y', '--out', join(dir, 'z.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^posguard: PG_INPUT_UNREADABLE: cannot read \/nonexistent\/t.jsonl: ENOENT/);
  });

  it('refuses a bad rules file naming the field', async () => {
    const rules = join(dir, 'bad-rules.yaml');
    writeFileSync(rules, 'debits:\n  reversalGraceMs: soon\n');
    const r = await posguard(['replay', ...inputs(), '--out', join(dir, 'r.jsonl'), '--rules', rules]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PG_CONFIG_INVALID: .*debits\.reversalGraceMs: expected integer/);
  });

  it('every command has --help', async () => {
    for (const c of ['demo', 'replay', 'simulate', 'eval', 'migrate', 'sql']) {
      const r = await posguard([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: posguard ${c}`));
    }
  });
});
