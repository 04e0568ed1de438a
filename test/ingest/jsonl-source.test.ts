/** The replay files as a Source: the head-time merge, bad lines with their place, stop and close. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/config/rules.js';
import type { AnyEvent, SourceRef, Stream } from '../../src/events/index.js';
import { readJsonlFile } from '../../src/ingest/jsonl.js';
import { JSONL_EVENTS_PER_CHUNK, JsonlSource } from '../../src/ingest/jsonl-source.js';
import type { BadRecord, SourceTarget } from '../../src/ingest/source.js';
import { writeSimulation } from '../../src/sim/index.js';
import { REPLAY_MERGE } from '../support/engine-vs-reference.js';

interface Pushed {
  events: { stream: Stream; event: AnyEvent; ref: SourceRef }[];
  bad: BadRecord[];
  readies: number[];
}

function collector(onEvent?: (n: number) => void): { target: SourceTarget; got: Pushed } {
  const got: Pushed = { events: [], bad: [], readies: [] };
  return {
    got,
    target: {
      event: (stream, event, ref) => {
        got.events.push({ stream, event, ref });
        onEvent?.(got.events.length);
      },
      bad: (b) => void got.bad.push(b),
      ready: () => void got.readies.push(got.events.length),
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'posguard-jsonl-source-'));
const files = { terminal: join(dir, 'terminal.jsonl'), gateway: join(dir, 'gateway.jsonl'), bank: join(dir, 'bank.jsonl') };

beforeAll(async () => {
  await writeSimulation(dir, { seed: 3, minutes: 8, tps: 4, startMs: Date.UTC(2026, 2, 2, 8), badRecordRate: 0.01 });
}, 60_000);

describe('JsonlSource', () => {
  it('pushes every valid line in the replay merge (smallest head time next; ties terminal, gateway, bank), each with its file and line', async () => {
    const source = new JsonlSource(files);
    const { target, got } = collector();
    await source.open();
    await source.run(target);
    await source.close();
    const read = { terminal: await readJsonlFile('terminal', files.terminal), gateway: await readJsonlFile('gateway', files.gateway), bank: await readJsonlFile('bank', files.bank) };
    const expected = REPLAY_MERGE.arrange({ terminal: read.terminal.events, gateway: read.gateway.events, bank: read.bank.events }, DEFAULT_RULES);
    expect(got.events.length).toBeGreaterThan(2 * JSONL_EVENTS_PER_CHUNK);
    expect(got.events.map((e) => `${e.stream} ${e.event.event_id}`)).toEqual(expected.map((a) => `${a.stream} ${a.event.event_id}`));
    for (const e of got.events) expect(e.ref.source).toBe(files[e.stream]);
    // Lines are 1-based and rise within each file.
    for (const s of ['terminal', 'gateway', 'bank'] as const) {
      const ls = got.events.filter((e) => e.stream === s).map((e) => e.ref.line!);
      expect(ls[0]).toBeGreaterThanOrEqual(1);
      expect(ls.every((l, i) => i === 0 || l > ls[i - 1])).toBe(true);
    }
    // The sinks get a say every JSONL_EVENTS_PER_CHUNK events.
    expect(got.readies).toEqual(Array.from({ length: Math.floor(got.events.length / JSONL_EVENTS_PER_CHUNK) }, (_, i) => (i + 1) * JSONL_EVENTS_PER_CHUNK));
    // Every bad line, with its file, line number and reason, as the whole-file reader sees it.
    const expectedBad = [...read.terminal.bad, ...read.gateway.bad, ...read.bank.bad].map((b) => `${b.file}:${b.line} ${b.reason}`).sort();
    expect(expectedBad.length).toBeGreaterThan(0);
    expect(got.bad.map((b) => `${b.source}:${b.line} ${b.reason}`).sort()).toEqual(expectedBad);
    expect(got.bad.every((b) => b.partition === null && b.offset === null && b.stream !== null)).toBe(true);
  }, 60_000);

  it('stop() ends run() at the next event; close() releases the readers and can be called twice', async () => {
    const source = new JsonlSource(files);
    const { target, got } = collector((n) => {
      if (n === 100) source.stop();
    });
    await source.open();
    await source.run(target);
    expect(got.events).toHaveLength(100);
    await source.close();
    await source.close();
  });

  it('a missing file fails open() naming it, before anything is read', async () => {
    const source = new JsonlSource({ ...files, bank: join(dir, 'nope.jsonl') });
    await expect(source.open()).rejects.toThrow(`cannot read ${join(dir, 'nope.jsonl')}: ENOENT`);
    await source.close();
  });

  it('an empty file is simply empty', async () => {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const source = new JsonlSource({ terminal: empty, gateway: empty, bank: empty });
    const { target, got } = collector();
    await source.open();
    await source.run(target);
    await source.close();
    expect(got.events).toEqual([]);
    expect(got.bad).toEqual([]);
  });

  it('a line over the limit is a dead letter naming its length and the limit; the lines after it still come', async () => {
    const d = mkdtempSync(join(tmpdir(), 'posguard-jsonl-long-'));
    const read = await readJsonlFile('bank', files.bank);
    const good = read.events.slice(0, 2).map((e) => JSON.stringify(e));
    const long = JSON.stringify({ ...read.events[0], padding: 'x'.repeat(5_000) });
    const f = { terminal: join(d, 't.jsonl'), gateway: join(d, 'g.jsonl'), bank: join(d, 'b.jsonl') };
    writeFileSync(f.terminal, '');
    writeFileSync(f.gateway, '');
    writeFileSync(f.bank, `${good[0]}\n${long}\n${good[1]}\n`);
    const source = new JsonlSource(f, undefined, 4_096);
    const { target, got } = collector();
    await source.open();
    await source.run(target);
    await source.close();
    expect(got.events.map((e) => e.ref.line)).toEqual([1, 3]);
    expect(got.bad).toHaveLength(1);
    expect(got.bad[0]).toMatchObject({ source: f.bank, stream: 'bank', line: 2 });
    expect(got.bad[0].reason).toBe(`line too long: ${long.length} characters, over the limit of 4096 (--max-line-chars); only its first 200 are kept`);
    expect(got.bad[0].payload).toBe(long.slice(0, 200));
    // readJsonlFile (eval) applies the same limit.
    const r = await readJsonlFile('bank', f.bank, 4_096);
    expect([r.events.length, r.bad.map((b) => b.line)]).toEqual([2, [2]]);
  });
});
