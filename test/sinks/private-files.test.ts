/**
 * Files and folders posguard writes are the owner's only: new folders 0700,
 * files 0600 (an existing wider file is narrowed when rewritten), whatever
 * the umask. Checked with umask 0, so a default umask cannot pass it off.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../src/cli/commands/replay.js';
import { writeReport } from '../../src/report/index.js';
import { writeSimulation } from '../../src/sim/index.js';
import { openClickHouse } from '../../src/sinks/clickhouse/connection.js';
import { narrowPrivateDirSync } from '../../src/util/private-files.js';

let root: string;
let umask: number;
const mode = (p: string) => statSync(p).mode & 0o777;

beforeAll(() => {
  umask = process.umask(0);
  root = mkdtempSync(join(tmpdir(), 'posguard-modes-'));
});
afterAll(() => {
  process.umask(umask);
  rmSync(root, { recursive: true, force: true });
});

describe('what posguard writes is readable by its owner only', () => {
  it('simulate: the folder 0700, the JSONL files 0600', async () => {
    const dir = join(root, 'sim', 'nested');
    await writeSimulation(dir, { seed: 3, minutes: 1, tps: 2, startMs: Date.parse('2026-03-02T08:00:00Z') });
    expect(mode(dir).toString(8)).toBe('700');
    for (const f of ['terminal.jsonl', 'gateway.jsonl', 'bank.jsonl', 'labels.jsonl']) expect(mode(join(dir, f)).toString(8), f).toBe('600');
  });

  it('replay: anomalies, dead letters, late events, transactions 0600 in a new 0700 folder; an existing 0644 file is narrowed', async () => {
    const sim = join(root, 'sim', 'nested');
    const out = join(root, 'replay', 'out');
    const txns = join(root, 'txns.jsonl');
    writeFileSync(txns, 'old\n', { mode: 0o644 });
    chmodSync(txns, 0o644);
    await runReplay({ terminal: join(sim, 'terminal.jsonl'), gateway: join(sim, 'gateway.jsonl'), bank: join(sim, 'bank.jsonl'), out: join(out, 'anomalies.jsonl'), transactions: txns, quiet: true });
    expect(mode(out).toString(8)).toBe('700');
    for (const f of ['anomalies.jsonl', 'anomalies.jsonl.dlq.jsonl', 'anomalies.jsonl.late.jsonl']) expect(mode(join(out, f)).toString(8), f).toBe('600');
    expect(mode(txns).toString(8)).toBe('600');
  });

  it('report: 0600, also over an existing wider file', async () => {
    const path = join(root, 'report.html');
    writeFileSync(path, 'old');
    chmodSync(path, 0o644);
    await writeReport(path, '<html></html>');
    expect(mode(path).toString(8)).toBe('600');
  });

  it('the embedded database folder: 0700, an existing wider one narrowed with one line on stderr', async () => {
    const dir = join(root, 'data', 'db');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    expect(mode(dir).toString(8)).toBe('755');
    const said: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => said.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      const h = await openClickHouse({ kind: 'embedded', dataDir: dir });
      await h.close();
    } finally {
      process.stderr.write = write;
    }
    expect(mode(dir).toString(8)).toBe('700');
    // One log line (JSON off a terminal) from the clickhouse component.
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0])).toMatchObject({ level: 'warn', component: 'clickhouse', msg: `data folder ${dir} was 0755 (readable by others); narrowed to 0700` });
    // Already private: nothing to say.
    expect(narrowPrivateDirSync(dir)).toBeNull();
  });
});
