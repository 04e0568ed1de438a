/** `posguard replay --suppressions FILE`: the same stamping as the live detector, from a file. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../src/cli/commands/replay.js';
import type { Anomaly } from '../../src/events/anomaly.js';
import { writeSimulation } from '../../src/sim/index.js';
import { readSuppressionsFile } from '../../src/suppress/file.js';

const dir = mkdtempSync(join(tmpdir(), 'posguard-replay-suppress-'));
const files = { terminal: join(dir, 'terminal.jsonl'), gateway: join(dir, 'gateway.jsonl'), bank: join(dir, 'bank.jsonl') };
const read = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Anomaly);
const future = new Date(Date.now() + 3_600_000).toISOString();

beforeAll(async () => {
  await writeSimulation(dir, { seed: 7, minutes: 15, tps: 3, startMs: Date.UTC(2026, 2, 2, 8) });
}, 60_000);

describe('replay --suppressions', () => {
  it('stamps exactly the covered anomaly versions; ids, versions and everything else stay as without it', async () => {
    const plain = join(dir, 'plain.jsonl');
    await runReplay({ ...files, out: plain, quiet: true });
    const before = read(plain);
    const orphan = before.find((a) => a.kind === 'ORPHAN_DEBIT' && a.issuer_id !== null)!;
    expect(orphan).toBeDefined();
    const supFile = join(dir, 'suppressions.jsonl');
    writeFileSync(supFile, [
      // As `posguard suppress list --format json` prints it (ClickHouse time format)...
      JSON.stringify({ suppression_id: 'sup_aaaaaaaaaaaa', kind: 'ORPHAN_DEBIT', scope: 'issuer', value: orphan.issuer_id, until: future.replace('T', ' ').replace('Z', ''), reason: 'r', active: true }),
      // ...a removed one is skipped.
      JSON.stringify({ suppression_id: 'sup_bbbbbbbbbbbb', kind: 'ORPHAN_DEBIT', scope: 'issuer', value: 'nobody', until: future, removed: true }),
    ].join('\n') + '\n');
    const stamped = join(dir, 'stamped.jsonl');
    await runReplay({ ...files, out: stamped, suppressions: supFile, quiet: true });
    const after = read(stamped);
    expect(after.length).toBe(before.length);
    const covered = (a: Anomaly) => a.kind === 'ORPHAN_DEBIT' && a.issuer_id === orphan.issuer_id;
    expect(after.filter(covered).length).toBeGreaterThan(0);
    after.forEach((a, i) => {
      expect(a.suppressed_by ?? null).toBe(covered(a) ? 'sup_aaaaaaaaaaaa' : null);
      expect({ ...a, suppressed_by: undefined, detected_at: 0 }).toEqual({ ...before[i], suppressed_by: undefined, detected_at: 0 });
    });
  });

  it('refuses a bad line with its number before replaying anything', () => {
    const f = join(dir, 'bad.jsonl');
    writeFileSync(f, `${JSON.stringify({ suppression_id: 's', kind: 'ORPHAN_DEBIT', scope: 'terminal', value: 'T1', until: future })}\n{"suppression_id":"t","kind":"NOPE","scope":"card","value":"x","until":"${future}"}\n`);
    expect(() => readSuppressionsFile(f)).toThrow(/bad\.jsonl line 2: kind: expected one of ORPHAN_DEBIT/);
    writeFileSync(f, `${JSON.stringify({ suppression_id: 's', kind: 'ORPHAN_DEBIT', scope: 'terminal', value: 'T1', until: 'tomorrow' })}\n`);
    expect(() => readSuppressionsFile(f)).toThrow(/line 1: until: expected an ISO time/);
    writeFileSync(f, 'nope\n');
    expect(() => readSuppressionsFile(f)).toThrow(/line 1: not a JSON object/);
  });
});
